#include "notifier.hpp"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>

namespace nodebridge::systemd {

Notifier::Notifier(std::function<Clock::time_point()> clock) : clock_(std::move(clock)) {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket != nullptr && socket[0] != '\0';
    std::uint64_t usec = 0;
    if (enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        watchdog_ = std::chrono::microseconds(usec);
    }
}

bool Notifier::send(const std::string& state) {
    if (!enabled_) return false;
    return sd_notify(0, state.c_str()) > 0;
}

bool Notifier::ready() { return send("READY=1"); }

bool Notifier::status(std::string_view line) {
    if (line.size() > kMaxStatus) line = line.substr(0, kMaxStatus);
    std::string state = "STATUS=";
    state.reserve(state.size() + line.size());
    for (const char c : line) {
        const auto byte = static_cast<unsigned char>(c);
        state += (byte < 0x20 || byte == 0x7f) ? ' ' : c;
    }
    return send(state);
}

bool Notifier::reloading() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const std::uint64_t usec = static_cast<std::uint64_t>(now.tv_sec) * 1000000u +
                               static_cast<std::uint64_t>(now.tv_nsec) / 1000u;
    return send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

bool Notifier::stopping() { return send("STOPPING=1"); }

bool Notifier::watchdog() {
    if (!watchdog_) return false;
    const auto now = clock_();
    {
        std::lock_guard lock(mutex_);
        if (last_ping_ && now - *last_ping_ < *watchdog_ / 4) return false;
        last_ping_ = now;
    }
    return send("WATCHDOG=1");
}

}  // namespace nodebridge::systemd
