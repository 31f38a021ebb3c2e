#include <gtest/gtest.h>

#include "nodebridge/config.hpp"
#include "reader.hpp"

namespace nodebridge {
namespace {

TEST(ParseDuration, AcceptsEachUnit) {
    EXPECT_EQ(parse_duration("250ms"), Millis(250));
    EXPECT_EQ(parse_duration("1s"), Millis(1000));
    EXPECT_EQ(parse_duration("5m"), Millis(300000));
    EXPECT_EQ(parse_duration("1h"), Millis(3600000));
    EXPECT_EQ(parse_duration("90s"), Millis(90000));
    EXPECT_EQ(parse_duration("007s"), Millis(7000));
}

TEST(ParseDuration, RejectsZeroAndNonWholeNumbers) {
    EXPECT_EQ(parse_duration("0s"), std::nullopt);
    EXPECT_EQ(parse_duration("0ms"), std::nullopt);
    EXPECT_EQ(parse_duration("-1s"), std::nullopt);
    EXPECT_EQ(parse_duration("1.5s"), std::nullopt);
    EXPECT_EQ(parse_duration("+1s"), std::nullopt);
}

TEST(ParseDuration, RejectsMissingOrUnknownUnits) {
    EXPECT_EQ(parse_duration(""), std::nullopt);
    EXPECT_EQ(parse_duration("5"), std::nullopt);
    EXPECT_EQ(parse_duration("s"), std::nullopt);
    EXPECT_EQ(parse_duration("5 s"), std::nullopt);
    EXPECT_EQ(parse_duration(" 5s"), std::nullopt);
    EXPECT_EQ(parse_duration("5S"), std::nullopt);
    EXPECT_EQ(parse_duration("5d"), std::nullopt);
    EXPECT_EQ(parse_duration("5sec"), std::nullopt);
    EXPECT_EQ(parse_duration("5s5"), std::nullopt);
}

TEST(ParseDuration, RejectsValuesBeyondAYear) {
    EXPECT_EQ(parse_duration("8784h"), Millis(8784LL * 3600 * 1000));
    EXPECT_EQ(parse_duration("8785h"), std::nullopt);
    EXPECT_EQ(parse_duration("999999999999h"), std::nullopt);
    EXPECT_EQ(parse_duration("9999999999999999999999ms"), std::nullopt);
}

TEST(FormatDuration, UsesTheLargestUnitThatDivides) {
    using config_detail::format_duration;
    EXPECT_EQ(format_duration(Millis(250)), "250ms");
    EXPECT_EQ(format_duration(Millis(1500)), "1500ms");
    EXPECT_EQ(format_duration(Millis(30000)), "30s");
    EXPECT_EQ(format_duration(Millis(60000)), "1m");
    EXPECT_EQ(format_duration(Millis(7200000)), "2h");
}

}  // namespace
}  // namespace nodebridge
