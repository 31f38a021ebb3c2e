#include "nodebridge/log.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nodebridge {
namespace {

class RecordingLogger final : public Logger {
public:
    explicit RecordingLogger(LogLevel threshold, std::function<Clock::time_point()> clock)
        : Logger(threshold, std::move(clock)) {}
    std::vector<std::string> lines;

protected:
    void write(LogLevel level, std::string_view message, const LogContext& context) override {
        lines.push_back(std::string(to_string(level)) + "|" + std::string(context.node) + "|" +
                        std::string(message));
    }
};

TEST(Logger, SkipsLinesBelowThreshold) {
    RecordingLogger log(LogLevel::warning, Logger::Clock::now);
    log.log(LogLevel::info, "quiet");
    log.log(LogLevel::error, "loud", {.node = "n1"});
    ASSERT_EQ(log.lines.size(), 1u);
    EXPECT_EQ(log.lines[0], "error|n1|loud");
}

TEST(Logger, LimitsRepeatedCauseAndReportsSuppressedCount) {
    Logger::Clock::time_point now{};
    RecordingLogger log(LogLevel::debug, [&] { return now; });
    for (int i = 0; i < Logger::kBurst + 3; ++i) log.log_limited("timeout:a", LogLevel::warning, "a timed out");
    log.log_limited("timeout:b", LogLevel::warning, "b timed out");
    EXPECT_EQ(log.lines.size(), static_cast<std::size_t>(Logger::kBurst) + 1);
    EXPECT_EQ(log.lines.back(), "warning||b timed out");

    now += Logger::kWindow;
    log.log_limited("timeout:a", LogLevel::warning, "a timed out");
    EXPECT_EQ(log.lines.back(), "warning||a timed out (3 more suppressed)");
}

TEST(Logger, ParsesLevelNames) {
    LogLevel level = LogLevel::info;
    EXPECT_TRUE(parse_log_level("debug", level));
    EXPECT_EQ(level, LogLevel::debug);
    EXPECT_FALSE(parse_log_level("verbose", level));
    EXPECT_EQ(level, LogLevel::debug);
}

}  // namespace
}  // namespace nodebridge
