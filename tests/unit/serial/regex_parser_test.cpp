#include "sources/serial/regex_parser.hpp"

#include "parser_test_support.hpp"

namespace nodebridge::serial {
namespace {

using testing::attribute;
using testing::names;
using testing::parser_for;

SerialNodesSourceConfig regex_config(std::string pattern) {
    SerialNodesSourceConfig config;
    config.format = LineFormat::regex;
    config.pattern = std::move(pattern);
    return config;
}

TEST(RegexParser, TakesNamedGroupsInPatternOrder) {
    auto parser = parser_for(regex_config(
        R"(^RX (?<node>[0-9A-F]{6}) T=(?<temp>-?\d+\.\d)(?: H=(?<humidity>\d+))? (?<alarm>\w+)$)"));
    Report report;
    ASSERT_EQ(parser->parse("RX 0A1B2C T=-3.5 H=40 false", report), LineError::none);
    EXPECT_EQ(report.node, "0A1B2C");
    EXPECT_EQ(names(report), "temp,humidity,alarm");
    EXPECT_EQ(*attribute(report, "temp"), Value(-3.5));
    EXPECT_EQ(*attribute(report, "humidity"), Value(std::int64_t{40}));
    EXPECT_EQ(*attribute(report, "alarm"), Value(false));

    ASSERT_EQ(parser->parse("RX 0A1B2C T=21.0 ok", report), LineError::none);
    EXPECT_EQ(names(report), "temp,alarm");  // the unset optional group is left out
}

TEST(RegexParser, CountsNonMatchingLinesAsMalformed) {
    auto parser = parser_for(regex_config(R"(^(?<node>\w+) (?<v>\d+)$)"));
    Report report;
    EXPECT_EQ(parser->parse("n1 x", report), LineError::malformed);
    EXPECT_EQ(parser->parse("n1 12", report), LineError::none);
}

TEST(RegexParser, BoundsCatastrophicBacktracking) {
    auto parser = parser_for(regex_config(R"(^(?<node>(a+)+)$)"));
    Report report;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(parser->parse(std::string(40, 'a') + "b", report), LineError::malformed);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(RegexParser, RefusesPatternsThatCannotWork) {
    std::string error;
    EXPECT_EQ(make_line_parser(regex_config("(?<node>"), error), nullptr);
    EXPECT_NE(error.find("does not compile"), std::string::npos) << error;
    EXPECT_EQ(make_line_parser(regex_config(R"((?<temp>\d+))"), error), nullptr);
    EXPECT_NE(error.find("(?<node>"), std::string::npos) << error;
}

TEST(RegexParser, UsesTheConfiguredNodeKey) {
    auto config = regex_config(R"(^(?<sensor>\S+) (?<v>\S+)$)");
    config.node_key = "sensor";
    auto parser = parser_for(config);
    Report report;
    ASSERT_EQ(parser->parse("s7 2.5", report), LineError::none);
    EXPECT_EQ(report.node, "s7");
}

}  // namespace
}  // namespace nodebridge::serial
