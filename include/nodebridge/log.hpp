#pragma once
// Logging: levels, structured context, and per-cause rate limiting.
//
// Components receive a Logger& from whoever builds them; there is no global logger.
// Subclasses decide where lines go (stderr, the journal, a test's buffer).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace nodebridge {

// Values are syslog priorities, so they map straight onto journald's PRIORITY=.
enum class LogLevel { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// Parses "error", "warning", "notice", "info", "debug". Returns false on anything else.
bool parse_log_level(std::string_view text, LogLevel& level);
std::string_view to_string(LogLevel level);

// Structured fields that go with a line; empty fields are left out.
struct LogContext {
    std::string_view source;
    std::string_view node;
    std::string_view topic;
    std::string_view event;  // a short machine-readable cause, e.g. "modbus-timeout"
};

class Logger {
public:
    using Clock = std::chrono::steady_clock;

    // Lines less severe than `threshold` are skipped. `clock` is a seam for tests.
    explicit Logger(LogLevel threshold, std::function<Clock::time_point()> clock = Clock::now);
    virtual ~Logger() = default;
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    // Writes one line. Thread-safe.
    void log(LogLevel level, std::string_view message, const LogContext& context = {});

    // Like log(), but lines with the same `cause` are limited to `kBurst` per `kWindow`;
    // the rest are counted, and the first line after the window says how many were
    // suppressed ("... (12 more suppressed)"). Use a cause per failing thing, e.g.
    // "timeout:pdu-bus/pdu-1", so one bad device cannot hide another.
    void log_limited(std::string_view cause, LogLevel level, std::string_view message,
                     const LogContext& context = {});

    void set_threshold(LogLevel threshold);
    bool enabled(LogLevel level) const;

    static constexpr int kBurst = 5;
    static constexpr std::chrono::seconds kWindow{60};

protected:
    // Emits one line. Called with the logger's mutex held, so implementations need no locking.
    virtual void write(LogLevel level, std::string_view message, const LogContext& context) = 0;

private:
    struct CauseState {
        Clock::time_point window_start;
        int lines_in_window = 0;
        std::uint64_t suppressed = 0;
    };

    std::function<Clock::time_point()> clock_;
    mutable std::mutex mutex_;
    LogLevel threshold_;
    std::map<std::string, CauseState, std::less<>> causes_;
};

// Readable lines on stderr: "warning: [pdu-bus/pdu-1] read timed out".
class StderrLogger final : public Logger {
public:
    using Logger::Logger;

protected:
    void write(LogLevel level, std::string_view message, const LogContext& context) override;
};

}  // namespace nodebridge
