#include "nodebridge/log.hpp"

#include <cstdio>
#include <string>

namespace nodebridge {

bool parse_log_level(std::string_view text, LogLevel& level) {
    static constexpr std::pair<std::string_view, LogLevel> kNames[] = {
        {"error", LogLevel::error}, {"warning", LogLevel::warning}, {"notice", LogLevel::notice},
        {"info", LogLevel::info},   {"debug", LogLevel::debug},
    };
    for (const auto& [name, value] : kNames) {
        if (text == name) {
            level = value;
            return true;
        }
    }
    return false;
}

std::string_view to_string(LogLevel level) {
    switch (level) {
        case LogLevel::error: return "error";
        case LogLevel::warning: return "warning";
        case LogLevel::notice: return "notice";
        case LogLevel::info: return "info";
        case LogLevel::debug: return "debug";
    }
    return "unknown";
}

Logger::Logger(LogLevel threshold, std::function<Clock::time_point()> clock)
    : clock_(std::move(clock)), threshold_(threshold) {}

void Logger::set_threshold(LogLevel threshold) {
    std::lock_guard lock(mutex_);
    threshold_ = threshold;
}

bool Logger::enabled(LogLevel level) const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(level) <= static_cast<int>(threshold_);
}

void Logger::log(LogLevel level, std::string_view message, const LogContext& context) {
    std::lock_guard lock(mutex_);
    if (static_cast<int>(level) > static_cast<int>(threshold_)) return;
    write(level, message, context);
}

void Logger::log_limited(std::string_view cause, LogLevel level, std::string_view message,
                         const LogContext& context) {
    std::lock_guard lock(mutex_);
    if (static_cast<int>(level) > static_cast<int>(threshold_)) return;
    const auto now = clock_();
    auto it = causes_.find(cause);
    if (it == causes_.end()) {
        it = causes_.emplace(std::string(cause), CauseState{now, 0, 0}).first;
    }
    CauseState& state = it->second;
    if (now - state.window_start >= kWindow) {
        state.window_start = now;
        state.lines_in_window = 0;
    }
    if (state.lines_in_window >= kBurst) {
        ++state.suppressed;
        return;
    }
    ++state.lines_in_window;
    if (state.suppressed > 0) {
        std::string line(message);
        line += " (" + std::to_string(state.suppressed) + " more suppressed)";
        state.suppressed = 0;
        write(level, line, context);
    } else {
        write(level, message, context);
    }
}

void StderrLogger::write(LogLevel level, std::string_view message, const LogContext& context) {
    std::string line(to_string(level));
    line += ": ";
    if (!context.source.empty() || !context.node.empty()) {
        line += '[';
        line += context.source;
        if (!context.node.empty()) {
            if (!context.source.empty()) line += '/';
            line += context.node;
        }
        line += "] ";
    }
    line += message;
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace nodebridge
