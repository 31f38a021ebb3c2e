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

  protected:
    void write(LogLevel, std::string_view message, const LogContext&) override {
        std::lock_guard lock(mutex_);
        lines_.emplace_back(message);
    }

  private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

}  // namespace nodebridge::test
