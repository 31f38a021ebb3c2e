#include "sources/serial/line_framer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nodebridge::serial {
namespace {

std::vector<std::string> feed_all(LineFramer& framer, std::string_view bytes) {
    std::vector<std::string> lines;
    framer.feed(bytes, [&](std::string_view line) { lines.emplace_back(line); });
    return lines;
}

TEST(LineFramer, SplitsOnNewlineAndStripsCarriageReturn) {
    LineFramer framer(64);
    EXPECT_EQ(feed_all(framer, "a=1\nb=2\r\nc=3\r\r\n"),
              (std::vector<std::string>{"a=1", "b=2", "c=3\r"}));
}

TEST(LineFramer, KeepsPartialLinesAcrossFeeds) {
    LineFramer framer(64);
    EXPECT_TRUE(feed_all(framer, "node=1 vol").empty());
    EXPECT_TRUE(feed_all(framer, "tage=2").empty());
    EXPECT_EQ(feed_all(framer, "30\r"), std::vector<std::string>{});
    EXPECT_EQ(feed_all(framer, "\nx"), std::vector<std::string>{"node=1 voltage=230"});
}

TEST(LineFramer, PassesEmptyLines) {
    LineFramer framer(8);
    EXPECT_EQ(feed_all(framer, "\n\r\n"), (std::vector<std::string>{"", ""}));
}

TEST(LineFramer, DropsAndCountsLongLinesUpToTheNextNewline) {
    LineFramer framer(5);
    const auto lines = feed_all(framer, "12345\n123456\nok\n");
    EXPECT_EQ(lines, (std::vector<std::string>{"12345", "ok"}));
    EXPECT_EQ(framer.dropped_long_lines(), 1u);
}

TEST(LineFramer, AllowsCarriageReturnAfterAFullLengthLine) {
    LineFramer framer(5);
    EXPECT_EQ(feed_all(framer, "12345\r\n"), std::vector<std::string>{"12345"});
    EXPECT_EQ(feed_all(framer, "123456\r\n"), std::vector<std::string>{});
    EXPECT_EQ(framer.dropped_long_lines(), 1u);
}

TEST(LineFramer, DropsALongLineSpreadOverManyFeeds) {
    LineFramer framer(16);
    const std::string chunk(10, 'x');
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(feed_all(framer, chunk).empty());
    EXPECT_EQ(feed_all(framer, "tail\nnext=1\n"), std::vector<std::string>{"next=1"});
    EXPECT_EQ(framer.dropped_long_lines(), 1u);
}

TEST(LineFramer, ResetForgetsThePartialLine) {
    LineFramer framer(16);
    feed_all(framer, "half a li");
    framer.reset();
    EXPECT_EQ(feed_all(framer, "whole\n"), std::vector<std::string>{"whole"});
    EXPECT_EQ(framer.dropped_long_lines(), 0u);
}

}  // namespace
}  // namespace nodebridge::serial
