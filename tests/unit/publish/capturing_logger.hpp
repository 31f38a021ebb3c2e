#pragma once
// A Logger that keeps every line, so tests can assert on what was logged.

#include <algorithm>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "nodebridge/log.hpp"

namespace nodebridge::test {

class CapturingLogger final : public Logger {
  public:
    CapturingLogger() : Logger(LogLevel::debug) {}

    std::vector<std::string> lines() const {
        std::lock_guard lock(mutex_);
        return lines_;
    }
    int count_containing(std::string_view text) const {
        const auto all = lines();
        return static_cast<int>(std::count_if(all.begin(), all.end(), [&](const std::string& l) {
            return l.find(text) != std::string::npos;
        }));
    }

    // Lines logged at `level` that contain `text`.
    int count_at(LogLevel level, std::string_view text) const {
        std::lock_guard lock(mutex_);
        int count = 0;
        for (std::size_t i = 0; i < lines_.size(); ++i) {
            if (levels_[i] == level && lines_[i].find(text) != std::string::npos) ++count;
        }
        return count;
    }

  protected:
    void write(LogLevel level, std::string_view message, const LogContext&) override {
        std::lock_guard lock(mutex_);
        lines_.emplace_back(message);
        levels_.push_back(level);
    }

  private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
    std::vector<LogLevel> levels_;  // of each line
};

}  // namespace nodebridge::test
