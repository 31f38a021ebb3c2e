#include "sources/serial/json_parser.hpp"

#include "parser_test_support.hpp"

namespace nodebridge::serial {
namespace {

using testing::attribute;
using testing::config_with;
using testing::names;
using testing::parser_for;

TEST(JsonParser, FlattensNestedObjects) {
    auto parser = parser_for(config_with(LineFormat::json));
    Report report;
    ASSERT_EQ(parser->parse(R"({"id":"0A1B2C","env":{"temp":21.5,"deep":{"x":1}}})", report),
              LineError::none);
    EXPECT_EQ(report.node, "0A1B2C");
    EXPECT_EQ(names(report), "env.temp,env.deep.x");
    EXPECT_EQ(*attribute(report, "env.temp"), Value(21.5));
    EXPECT_EQ(*attribute(report, "env.deep.x"), Value(std::int64_t{1}));
}

TEST(JsonParser, ParsesRtl433Output) {
    auto config = config_with(LineFormat::json);
    config.time_key = "time";
    auto parser = parser_for(config);
    Report report;
    ASSERT_EQ(parser->parse(R"({"time" : "2024-11-25 12:00:00", "model" : "Acurite-Tower", )"
                            R"("id" : 1234, "channel" : "A", "battery_ok" : 1, )"
                            R"("temperature_C" : 21.5, "humidity" : 40, "mic" : "CHECKSUM"})",
                            report),
              LineError::none);
    EXPECT_EQ(report.node, "1234");
    ASSERT_TRUE(report.time);
    EXPECT_EQ(*report.time, WallClock::time_point(std::chrono::seconds(1732536000)));
    EXPECT_EQ(names(report), "model,channel,battery_ok,temperature_C,humidity,mic");
    EXPECT_EQ(*attribute(report, "channel"), Value(std::string("A")));
}

TEST(JsonParser, KeepsJsonTypes) {
    auto parser = parser_for(config_with(LineFormat::json));
    Report report;
    ASSERT_EQ(parser->parse(R"({"node":"n","s":"42","i":-7,"d":1e3,"b":false,"z":null,)"
                            R"("big":18446744073709551615,"esc":"a\"\\\/\n\u00e9\ud83d\ude00"})",
                            report),
              LineError::none);
    EXPECT_EQ(*attribute(report, "s"), Value(std::string("42")));
    EXPECT_EQ(*attribute(report, "i"), Value(std::int64_t{-7}));
    EXPECT_EQ(*attribute(report, "d"), Value(1000.0));
    EXPECT_EQ(*attribute(report, "b"), Value(false));
    EXPECT_EQ(*attribute(report, "big"), Value(18446744073709551615.0));
    EXPECT_EQ(*attribute(report, "esc"), Value(std::string("a\"\\/\n\xC3\xA9\xF0\x9F\x98\x80")));
    EXPECT_EQ(names(report), "s,i,d,b,big,esc");  // null is skipped
}

TEST(JsonParser, IndexesArrays) {
    auto parser = parser_for(config_with(LineFormat::json));
    Report report;
    ASSERT_EQ(parser->parse(R"({"node":"n","rows":[7,{"len":3}],"empty":[],"o":{}})", report),
              LineError::none);
    EXPECT_EQ(names(report), "rows.0,rows.1.len");
}

TEST(JsonParser, RejectsMalformedJson) {
    auto parser = parser_for(config_with(LineFormat::json));
    Report report;
    for (const char* line :
         {"[1,2]", R"({"node":"n",})", R"({"node":"n")", R"({"node":"n"} x)", R"({node:"n"})",
          R"({"node":"n","v":01})", R"({"node":"n","v":.5})", R"({"node":"n","v":NaN})",
          R"({"node":"n","v":1e999})", R"({"node":"n","v":"\x"})", R"({"node":"n","v":"\ud800"})",
          R"({"node":"n","v":"\u0000"})", "{\"node\":\"n\",\"v\":\"tab\there\"}",
          R"({"node":"n","v":1,"v":2})", R"({"":1,"node":"n"})", R"({"node":"n","v":tru})",
          R"({"node":"n","a":{"b":1},"a.b":2})", "not json"}) {
        EXPECT_EQ(parser->parse(line, report), LineError::malformed) << line;
    }
}

TEST(JsonParser, BoundsNesting) {
    auto parser = parser_for(config_with(LineFormat::json));
    Report report;
    std::string ok = R"({"node":"n","a":)";
    std::string deep = ok;
    for (int i = 1; i < JsonParser::kMaxDepth; ++i) ok += R"({"a":)";
    ok += "1" + std::string(JsonParser::kMaxDepth - 1, '}') + "}";
    EXPECT_EQ(parser->parse(ok, report), LineError::none);
    for (int i = 0; i < 10000; ++i) deep += "[";
    EXPECT_EQ(parser->parse(deep, report), LineError::malformed);
}

TEST(JsonParser, ClassifiesMissingNodeAndBadUtf8) {
    auto parser = parser_for(config_with(LineFormat::json));
    Report report;
    EXPECT_EQ(parser->parse(R"({"temp":1})", report), LineError::no_node_id);
    EXPECT_EQ(parser->parse(R"({"node":{"x":1}})", report), LineError::no_node_id);
    EXPECT_EQ(parser->parse("{\"node\":\"\xC3\"}", report), LineError::invalid_utf8);
}

}  // namespace
}  // namespace nodebridge::serial
