#include "nodebridge/topic_template.hpp"

#include <gtest/gtest.h>

namespace nodebridge {
namespace {

TopicTemplate parse_ok(std::string_view text) {
    std::string error;
    auto parsed = TopicTemplate::parse(text, error);
    EXPECT_TRUE(parsed.has_value()) << error;
    return parsed.value_or(*TopicTemplate::parse("x", error));
}

std::string parse_error(std::string_view text) {
    std::string error;
    EXPECT_FALSE(TopicTemplate::parse(text, error).has_value()) << text;
    return error;
}

TEST(TopicTemplate, ExpandsEveryField) {
    const auto topic = parse_ok("dc1/{gateway}/{source}/{node}/{attribute}[{unit}]");
    EXPECT_EQ(topic.expand({"gw", "bus", "pdu-1", "voltage", "V"}), "dc1/gw/bus/pdu-1/voltage[V]");
    EXPECT_TRUE(topic.uses(TopicField::attribute));
}

TEST(TopicTemplate, KnowsWhichFieldsItUses) {
    const auto topic = parse_ok("dc1/{gateway}/meters/{node}");
    EXPECT_FALSE(topic.uses(TopicField::attribute));
    EXPECT_TRUE(topic.uses(TopicField::node));
    EXPECT_EQ(topic.expand({"gw", "", "m7", "", ""}), "dc1/gw/meters/m7");
}

TEST(TopicTemplate, ValuesCannotAddLevelsOrWildcards) {
    const auto topic = parse_ok("a/{node}");
    EXPECT_EQ(topic.expand({.node = "x/+/#"}), "a/x____");
}

TEST(TopicTemplate, RejectsInvalidTemplates) {
    EXPECT_EQ(parse_error(""), "topic template is empty");
    EXPECT_NE(parse_error("a/+/b").find("wildcard '+'"), std::string::npos);
    EXPECT_NE(parse_error("a/#").find("wildcard '#'"), std::string::npos);
    EXPECT_NE(parse_error("a/{nod}").find("unknown topic field '{nod}'"), std::string::npos);
    EXPECT_EQ(parse_error("a/{node"), "topic template has an unclosed '{'");
    EXPECT_EQ(parse_error("a/node}"), "topic template has a '}' without a matching '{'");
    EXPECT_NE(parse_error(std::string(70000, 'a')).find("65535"), std::string::npos);
}

}  // namespace
}  // namespace nodebridge
