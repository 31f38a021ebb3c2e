#include "sources/serial/value_text.hpp"

#include <gtest/gtest.h>

namespace nodebridge::serial {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

WallClock::time_point at(std::int64_t epoch_seconds) {
    return WallClock::time_point(seconds(epoch_seconds));
}

TEST(ParseValueText, TypesIntegersNumbersBoolsAndText) {
    EXPECT_EQ(parse_value_text("42"), Value(std::int64_t{42}));
    EXPECT_EQ(parse_value_text("-71"), Value(std::int64_t{-71}));
    EXPECT_EQ(parse_value_text("+3"), Value(std::int64_t{3}));
    EXPECT_EQ(parse_value_text("229.8"), Value(229.8));
    EXPECT_EQ(parse_value_text("1e-3"), Value(0.001));
    EXPECT_EQ(parse_value_text(".5"), Value(0.5));
    EXPECT_EQ(parse_value_text("true"), Value(true));
    EXPECT_EQ(parse_value_text("false"), Value(false));
    EXPECT_EQ(parse_value_text("0A1B2C"), Value(std::string("0A1B2C")));
    EXPECT_EQ(parse_value_text("True"), Value(std::string("True")));
    EXPECT_EQ(parse_value_text(""), Value(std::string()));
}

TEST(ParseValueText, KeepsNonFiniteAndOddFormsAsText) {
    EXPECT_EQ(parse_value_text("nan"), Value(std::string("nan")));
    EXPECT_EQ(parse_value_text("inf"), Value(std::string("inf")));
    EXPECT_EQ(parse_value_text("0x1F"), Value(std::string("0x1F")));
    EXPECT_EQ(parse_value_text("1e999"), Value(std::string("1e999")));
    EXPECT_EQ(parse_value_text("1."), Value(1.0));
    EXPECT_EQ(parse_value_text("."), Value(std::string(".")));
    EXPECT_EQ(parse_value_text("1e"), Value(std::string("1e")));
    EXPECT_EQ(parse_value_text("--1"), Value(std::string("--1")));
}

TEST(ParseValueText, CarriesIntegersBeyondInt64AsNumbers) {
    EXPECT_EQ(parse_value_text("9223372036854775807"), Value(INT64_MAX));
    EXPECT_EQ(parse_value_text("18446744073709551615"), Value(18446744073709551615.0));
}

TEST(ParseTimestamp, ReadsEpochSeconds) {
    EXPECT_EQ(parse_timestamp("1732536000"), at(1732536000));
    EXPECT_EQ(parse_timestamp("1732536000.25"), at(1732536000) + milliseconds(250));
    EXPECT_FALSE(parse_timestamp("-5"));
    EXPECT_FALSE(parse_timestamp("1e20"));
}

TEST(ParseTimestamp, ReadsIso8601WithZoneOrOffset) {
    EXPECT_EQ(parse_timestamp("2024-11-25T12:00:00Z"), at(1732536000));
    EXPECT_EQ(parse_timestamp("2024-11-25 12:00:00"), at(1732536000));
    EXPECT_EQ(parse_timestamp("2024-11-25T13:30:00+01:30"), at(1732536000));
    EXPECT_EQ(parse_timestamp("2024-11-25T07:00:00-0500"), at(1732536000));
    EXPECT_EQ(parse_timestamp("2024-11-25T12:00:00.125Z"), at(1732536000) + milliseconds(125));
    EXPECT_EQ(parse_timestamp("2024-02-29T00:00:00Z"), at(1709164800));
}

TEST(ParseTimestamp, RejectsMalformedDates) {
    EXPECT_FALSE(parse_timestamp("2023-02-29T00:00:00Z"));
    EXPECT_FALSE(parse_timestamp("2024-13-01T00:00:00Z"));
    EXPECT_FALSE(parse_timestamp("2024-11-25T24:00:00Z"));
    EXPECT_FALSE(parse_timestamp("2024-11-25"));
    EXPECT_FALSE(parse_timestamp("2024-11-25T12:00:00Zjunk"));
    EXPECT_FALSE(parse_timestamp("2024-11-25T12:00:00."));
    EXPECT_FALSE(parse_timestamp("yesterday"));
    EXPECT_FALSE(parse_timestamp(""));
}

TEST(IsValidUtf8, AcceptsWellFormedText) {
    EXPECT_TRUE(is_valid_utf8("plain ascii that is longer than eight bytes"));
    EXPECT_TRUE(
        is_valid_utf8("temp=21.5\xC2\xB0"
                      "C"));
    EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC \xF0\x9F\x98\x80"));
    EXPECT_TRUE(is_valid_utf8(""));
}

TEST(IsValidUtf8, RejectsMalformedSequences) {
    EXPECT_FALSE(is_valid_utf8("abc\xFF"));
    EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8("ok\xE2\x82"));        // truncated
    EXPECT_FALSE(is_valid_utf8("\x80"));
}

}  // namespace
}  // namespace nodebridge::serial
