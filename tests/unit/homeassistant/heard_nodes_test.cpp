// HeardNodes: which serial-nodes nodes were heard, with which attributes.

#include <gtest/gtest.h>

#include "nodebridge/homeassistant.hpp"

namespace nodebridge::homeassistant {
namespace {

Sample reading(std::string source, std::string node, std::vector<Attribute> attributes) {
    return Sample{std::move(source), std::move(node), WallClock::now(), std::move(attributes), {}};
}

TEST(HeardNodes, RemembersNodesOfItsSourcesOnly) {
    HeardNodes heard;
    heard.set_sources({"radio"});
    const auto start = heard.generation();
    heard.observe(reading("modbus", "pdu-1", {{"v", 1.0, "V"}}));
    EXPECT_EQ(heard.generation(), start);
    heard.observe(reading("radio", "0A", {{"temp", 21.5, "\u00b0C"}, {"door", true, ""}}));
    EXPECT_NE(heard.generation(), start);
    const auto nodes = heard.snapshot();
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].node, "0A");
    EXPECT_EQ(nodes[0].attributes,
              (std::vector<HeardAttribute>{{"temp", HeardKind::number, "\u00b0C"},
                                           {"door", HeardKind::boolean, ""}}));
}

TEST(HeardNodes, TheSameReadingAgainChangesNothing) {
    HeardNodes heard;
    heard.set_sources({"radio"});
    heard.observe(reading("radio", "0A", {{"temp", 21.5, ""}}));
    const auto generation = heard.generation();
    heard.observe(reading("radio", "0A", {{"temp", 22.0, ""}}));
    heard.observe(Sample{"radio", "0A", WallClock::now(), {}, true});  // availability
    EXPECT_EQ(heard.generation(), generation);
}

TEST(HeardNodes, NewAttributesAndKindsAreAdded) {
    HeardNodes heard;
    heard.set_sources({"radio"});
    heard.observe(reading("radio", "0A", {{"temp", 21.5, ""}}));
    const auto generation = heard.generation();
    heard.observe(reading("radio", "0A", {{"rssi", std::int64_t{-70}, "dBm"}}));
    heard.observe(reading("radio", "0A", {{"temp", std::string("n/a"), ""}}));
    EXPECT_GT(heard.generation(), generation);
    const auto attributes = heard.snapshot().at(0).attributes;
    ASSERT_EQ(attributes.size(), 2u);
    EXPECT_EQ(attributes[0].kind, HeardKind::text);
    EXPECT_EQ(attributes[1].name, "rssi");
}

TEST(HeardNodes, NodesOfARemovedSourceAreForgotten) {
    HeardNodes heard;
    heard.set_sources({"radio", "other"});
    heard.observe(reading("radio", "0A", {{"temp", 21.5, ""}}));
    heard.observe(reading("other", "0B", {{"temp", 21.5, ""}}));
    heard.set_sources({"other"});
    const auto nodes = heard.snapshot();
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].source, "other");
}

TEST(HeardNodes, AttributesPerNodeAreBounded) {
    HeardNodes heard;
    heard.set_sources({"radio"});
    std::vector<Attribute> many;
    for (std::size_t i = 0; i < HeardNodes::kMaxAttributes + 10; ++i) {
        many.push_back({"a" + std::to_string(i), 1.0, ""});
    }
    heard.observe(reading("radio", "0A", many));
    EXPECT_EQ(heard.snapshot().at(0).attributes.size(), HeardNodes::kMaxAttributes);
}

}  // namespace
}  // namespace nodebridge::homeassistant
