// `mappings:`: rule keys, defaults, topic checks and publish policies.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_fixture.hpp"

namespace nodebridge {
namespace {

using ::testing::ElementsAre;
using testing::kHead;
using testing::load_text;
using ::testing::StartsWith;

TEST(MappingRule, PerAttributeFollowsTheTopic) {
    MappingRule rule;
    rule.topic = "a/{node}/{attribute}";
    EXPECT_TRUE(rule.per_attribute());
    rule.topic = "a/{node}";
    EXPECT_FALSE(rule.per_attribute());
    rule.topic = "a/{attribute";
    EXPECT_FALSE(rule.per_attribute()) << "an invalid template is never per attribute";
}

TEST(Mappings, FillDefaults) {
    auto loaded = load_text(kHead + "mappings:\n  - topic: t/{node}\n  - topic: u/{node}\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const auto& rules = loaded.config->mappings;
    ASSERT_EQ(rules.size(), 2u);
    EXPECT_EQ(rules[0].name, "rule-1");
    EXPECT_EQ(rules[1].name, "rule-2");
    EXPECT_EQ(rules[0].match_source, "*");
    EXPECT_EQ(rules[0].match_node, "*");
    EXPECT_TRUE(rules[0].attributes.empty());
    EXPECT_EQ(rules[0].payload, PayloadForm::json);
    EXPECT_EQ(rules[0].qos, 0);
    EXPECT_FALSE(rules[0].retain);
    EXPECT_FALSE(rules[0].on_change);
    EXPECT_EQ(rules[0].deadband, 0.0);
    EXPECT_EQ(rules[0].heartbeat, Millis(0));
    EXPECT_EQ(rules[0].min_interval, Millis(0));
    EXPECT_EQ(rules[0].availability_topic, "");
    EXPECT_EQ(rules[1].where.line, 4);
}

TEST(Mappings, ReadEveryKey) {
    auto loaded = load_text(kHead +
                            "mappings:\n"
                            "  - name: power\n"
                            "    match: { source: 'pdu-*', node: 'n?' }\n"
                            "    attributes: [voltage, 'cur*']\n"
                            "    topic: dc/{gateway}/{node}/{attribute}\n"
                            "    payload: value\n"
                            "    qos: 2\n"
                            "    retain: true\n"
                            "    on_change: { deadband: 0.25 }\n"
                            "    heartbeat: 1m\n"
                            "    min_interval: 500ms\n"
                            "    availability_topic: dc/{gateway}/{source}/{node}/status\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const MappingRule& rule = loaded.config->mappings.at(0);
    EXPECT_EQ(rule.availability_topic, "dc/{gateway}/{source}/{node}/status");
    EXPECT_EQ(rule.name, "power");
    EXPECT_EQ(rule.match_source, "pdu-*");
    EXPECT_EQ(rule.match_node, "n?");
    EXPECT_THAT(rule.attributes, ElementsAre("voltage", "cur*"));
    EXPECT_EQ(rule.topic, "dc/{gateway}/{node}/{attribute}");
    EXPECT_EQ(rule.payload, PayloadForm::value);
    EXPECT_EQ(rule.qos, 2);
    EXPECT_TRUE(rule.retain);
    EXPECT_TRUE(rule.on_change);
    EXPECT_EQ(rule.deadband, 0.25);
    EXPECT_EQ(rule.heartbeat, Millis(60000));
    EXPECT_EQ(rule.min_interval, Millis(500));
}

TEST(Mappings, OnChangeIsABoolOrADeadband) {
    auto yes = load_text(kHead + "mappings:\n  - { topic: 't/{node}', on_change: true }\n");
    ASSERT_TRUE(yes.config);
    EXPECT_TRUE(yes.config->mappings[0].on_change);
    EXPECT_EQ(yes.config->mappings[0].deadband, 0.0);
    auto bad = load_text(kHead +
                         "mappings:\n"
                         "  - { topic: 't/{node}', on_change: often }\n"
                         "  - { topic: 'u/{node}', on_change: { deadband: -1 } }\n");
    EXPECT_THAT(bad.errors,
                ElementsAre("config.yaml:3:37: on_change: expected true or false, got \"often\"",
                            "config.yaml:4:49: deadband: must not be negative"));
}

TEST(Mappings, TopicTemplatesAreValidated) {
    auto loaded = load_text(kHead +
                            "mappings:\n"
                            "  - topic: a/{nod}\n"
                            "  - topic: a/+/{node}\n"
                            "  - qos: 1\n");
    ASSERT_EQ(loaded.errors.size(), 3u) << ::testing::PrintToString(loaded.errors);
    EXPECT_THAT(loaded.errors[0], StartsWith("config.yaml:3:12: topic: "));
    EXPECT_THAT(loaded.errors[1], StartsWith("config.yaml:4:12: topic: "));
    EXPECT_EQ(loaded.errors[2], "config.yaml:5:5: missing required key 'topic' in mapping #3");
}

TEST(Mappings, ValuePayloadNeedsTheAttributeInTheTopic) {
    auto loaded = load_text(kHead + "mappings:\n  - { topic: 'a/{node}', payload: value }\n");
    EXPECT_THAT(loaded.errors, ElementsAre("config.yaml:3:35: payload: value needs {attribute} in "
                                           "the topic (one message per attribute)"));
}

TEST(Mappings, UnitNeedsTheAttributeInTheTopic) {
    auto loaded = load_text(kHead + "mappings:\n  - { topic: 'a/{node}/{unit}' }\n");
    EXPECT_THAT(loaded.errors, ElementsAre("config.yaml:3:14: topic: {unit} needs {attribute} in "
                                           "the topic as well"));
}

TEST(Mappings, QosIsZeroToTwo) {
    auto loaded = load_text(kHead + "mappings:\n  - { topic: 'a/{node}', qos: 3 }\n");
    EXPECT_THAT(loaded.errors, ElementsAre("config.yaml:3:31: qos: 3 is out of range (0..2)"));
}

TEST(Mappings, DurationsMustBeValid) {
    auto loaded = load_text(
        kHead + "mappings:\n  - { topic: 'a/{node}', heartbeat: 0s, min_interval: 1.5s }\n");
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:3:37: heartbeat: expected a duration such as 250ms, 1s, "
                            "5m or 1h, got \"0s\"",
                            "config.yaml:3:55: min_interval: expected a duration such as 250ms, "
                            "1s, 5m or 1h, got \"1.5s\""));
}

TEST(Mappings, RuleNamesAreUniqueIncludingDefaults) {
    auto loaded = load_text(kHead +
                            "mappings:\n"
                            "  - { name: rule-2, topic: 'a/{node}' }\n"
                            "  - { topic: 'b/{node}' }\n");
    EXPECT_THAT(
        loaded.errors,
        ElementsAre("config.yaml:4:5: duplicate rule name 'rule-2' (first defined at 3:5)"));
}

TEST(Mappings, EmptyAttributeListIsAMistake) {
    auto loaded = load_text(kHead + "mappings:\n  - { topic: 'a/{node}', attributes: [] }\n");
    EXPECT_THAT(loaded.errors, ElementsAre("config.yaml:3:38: attributes: an empty list selects "
                                           "nothing; leave the key out to select all"));
}

TEST(Mappings, MatchTakesOnlySourceAndNode) {
    auto loaded = load_text(kHead + "mappings:\n  - { topic: 'a/{node}', match: { sorce: x } }\n");
    EXPECT_THAT(loaded.errors, ElementsAre("config.yaml:3:35: unknown key 'sorce' in match of "
                                           "mapping #1 (did you mean 'source'?)"));
}

}  // namespace
}  // namespace nodebridge
