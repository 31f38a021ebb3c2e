#pragma once
// Telling systemd how the service is doing (sd_notify(3)): READY, STATUS, RELOADING,
// STOPPING and watchdog keep-alive pings, for a `Type=notify` unit with `WatchdogSec=`.
//
// Outside systemd ($NOTIFY_SOCKET unset) every call is a cheap no-op, so the daemon calls
// the Notifier unconditionally. All methods are thread-safe.

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace nodebridge::systemd {

// Longest STATUS= text sent, in bytes; longer lines are cut.
inline constexpr std::size_t kMaxStatus = 512;

class Notifier {
  public:
    using Clock = std::chrono::steady_clock;

    // Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID once, now; later changes to the
    // environment are not seen. The variables are left set. `clock` is a seam for tests.
    explicit Notifier(std::function<Clock::time_point()> clock = Clock::now);

    // True when $NOTIFY_SOCKET was set: the service manager listens.
    bool enabled() const { return enabled_; }

    // The watchdog timeout systemd enforces (WatchdogSec=), or nullopt when the watchdog is
    // off for this process (unset, or $WATCHDOG_PID names another process).
    std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

    // Each of these sends one datagram and returns true when the manager received it; false
    // when notification is off or the send failed (there is nothing more to do about it).

    // "READY=1": config loaded and sources started. Send it again after a reload finished.
    bool ready();
    // "STATUS=<line>": the one-line summary `systemctl status` shows. Newlines and other
    // control characters become spaces (a newline would start another assignment); the
    // text is cut at kMaxStatus bytes.
    bool status(std::string_view line);
    // "RELOADING=1" and "MONOTONIC_USEC=<CLOCK_MONOTONIC in µs>": a reload began; call
    // ready() when it is done.
    bool reloading();
    // "STOPPING=1": shutdown began (SIGTERM received).
    bool stopping();

    // "WATCHDOG=1" when the watchdog is on and the last ping is at least a quarter of the
    // interval old; otherwise does nothing and returns false. Cheap enough to call on every
    // iteration of a loop. Who calls it: the thread whose hang must restart the service —
    // the daemon's pipeline/main loop, once per iteration and at least every
    // watchdog_interval()/2 — never a timer thread of its own, which would keep pinging
    // while the real work is stuck.
    bool watchdog();

  private:
    bool send(const std::string& state);

    std::function<Clock::time_point()> clock_;
    bool enabled_ = false;
    std::optional<std::chrono::microseconds> watchdog_;
    std::mutex mutex_;
    std::optional<Clock::time_point> last_ping_;
};

}  // namespace nodebridge::systemd
