#include "sources/serial/kv_parser.hpp"

#include "parser_test_support.hpp"

namespace nodebridge::serial {
namespace {

using testing::attribute;
using testing::config_with;
using testing::names;
using testing::parser_for;

TEST(KvParser, ParsesTheIssueExample) {
    auto parser = parser_for(config_with(LineFormat::kv));
    Report report;
    ASSERT_EQ(parser->parse("node=0A1B2C voltage=229.8 current=1.92 pf=0.97 rssi=-71", report),
              LineError::none);
    EXPECT_EQ(report.node, "0A1B2C");
    EXPECT_EQ(names(report), "voltage,current,pf,rssi");
    EXPECT_EQ(*attribute(report, "voltage"), Value(229.8));
    EXPECT_EQ(*attribute(report, "rssi"), Value(std::int64_t{-71}));
    EXPECT_FALSE(report.time);
}

TEST(KvParser, AcceptsCommasSemicolonsAndRunsOfSeparators) {
    auto parser = parser_for(config_with(LineFormat::kv));
    Report report;
    ASSERT_EQ(parser->parse("  node=7;temp=21.5,,humidity=40 ;\tok=true  ", report),
              LineError::none);
    EXPECT_EQ(report.node, "7");
    EXPECT_EQ(names(report), "temp,humidity,ok");
    EXPECT_EQ(*attribute(report, "ok"), Value(true));
}

TEST(KvParser, ReadsQuotedValuesWithEscapes) {
    auto parser = parser_for(config_with(LineFormat::kv));
    Report report;
    ASSERT_EQ(parser->parse(R"(node=a1 label="hall, \"east\"; 2\\3" n="42" e="")", report),
              LineError::none);
    EXPECT_EQ(*attribute(report, "label"), Value(std::string(R"(hall, "east"; 2\3)")));
    EXPECT_EQ(*attribute(report, "n"), Value(std::int64_t{42}));
    EXPECT_EQ(*attribute(report, "e"), Value(std::string()));
}

TEST(KvParser, FallsBackToIdWhenThereIsNoNodeKey) {
    auto parser = parser_for(config_with(LineFormat::kv));
    Report report;
    ASSERT_EQ(parser->parse("id=55 t=1", report), LineError::none);
    EXPECT_EQ(report.node, "55");
    EXPECT_EQ(names(report), "t");

    ASSERT_EQ(parser->parse("id=55 node=n9 t=1", report), LineError::none);
    EXPECT_EQ(report.node, "n9");
    EXPECT_EQ(names(report), "t,id");
}

TEST(KvParser, UsesTheConfiguredNodeAndTimeKeys) {
    auto config = config_with(LineFormat::kv);
    config.node_key = "sensor";
    config.time_key = "ts";
    auto parser = parser_for(config);
    Report report;
    ASSERT_EQ(parser->parse("sensor=s1 node=x ts=1732536000.5 v=1", report), LineError::none);
    EXPECT_EQ(report.node, "s1");
    EXPECT_EQ(names(report), "node,v");
    ASSERT_TRUE(report.time);
    EXPECT_EQ(*report.time, WallClock::time_point(std::chrono::milliseconds(1732536000500)));

    ASSERT_EQ(parser->parse("sensor=s1 ts=soon v=1", report), LineError::none);
    EXPECT_TRUE(report.bad_time);
    EXPECT_FALSE(report.time);

    EXPECT_EQ(parser->parse("node=x v=1", report), LineError::no_node_id);
}

TEST(KvParser, RejectsMalformedLines) {
    auto parser = parser_for(config_with(LineFormat::kv));
    Report report;
    for (const char* line :
         {"node=1 garbage", "node=1 =5", "node=1 a=\"open", "node=1 a=\"x\"y", "node=1 a=b\"c",
          "node=1 a=1 a=2", "node=1 node=2", "node=1 a=\"\\q\"", "~~~~", "node=1 a=b=c"}) {
        EXPECT_EQ(parser->parse(line, report), LineError::malformed) << line;
        EXPECT_TRUE(report.attributes.empty()) << line;
    }
}

TEST(KvParser, ClassifiesOtherFailures) {
    auto parser = parser_for(config_with(LineFormat::kv));
    Report report;
    EXPECT_EQ(parser->parse("", report), LineError::empty);
    EXPECT_EQ(parser->parse(" \t ", report), LineError::empty);
    EXPECT_EQ(parser->parse("voltage=1", report), LineError::no_node_id);
    EXPECT_EQ(parser->parse("node= v=1", report), LineError::bad_node_id);
    EXPECT_EQ(parser->parse("node=\"a b\" v=1", report), LineError::bad_node_id);
    EXPECT_EQ(parser->parse("node=" + std::string(65, 'x'), report), LineError::bad_node_id);
    EXPECT_EQ(parser->parse("node=1 v=\xFF", report), LineError::invalid_utf8);
}

TEST(KvParser, BoundsTheNumberOfAttributes) {
    auto parser = parser_for(config_with(LineFormat::kv));
    Report report;
    std::string line = "node=1";
    for (std::size_t i = 0; i < kMaxAttributes; ++i) line += " a" + std::to_string(i) + "=1";
    EXPECT_EQ(parser->parse(line, report), LineError::none);
    line += " one_more=1";
    EXPECT_EQ(parser->parse(line, report), LineError::malformed);
}

}  // namespace
}  // namespace nodebridge::serial
