// Write-back keys: `writable`, `min`, `max`, `allowed` on Modbus attributes and a rule's
// `command_topic`, and how --check-config lists what is writable. The error cases live in
// tests/cases/write-back-checks and tests/cases/command-topic-checks.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_fixture.hpp"
#include "nodebridge/command.hpp"

namespace nodebridge {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kHead;
using testing::load_text;
using ::testing::Not;

std::string tcp_node(const std::string& attributes, const std::string& mappings = "") {
    return kHead +
           "sources:\n"
           "  - name: bus\n"
           "    type: modbus-tcp\n"
           "    host: 127.0.0.1\n"
           "    nodes:\n"
           "      - id: n1\n"
           "        attributes:\n" +
           attributes + mappings;
}

const ModbusAttribute& attribute(const Config& config, std::size_t i) {
    return std::get<ModbusSourceConfig>(config.sources.at(0).settings).nodes.at(0).attributes.at(i);
}

std::vector<std::string> errors_of(const std::string& attributes) {
    return load_text(tcp_node(attributes)).errors;
}

TEST(WriteBackKeys, NothingIsWritableByDefault) {
    auto loaded =
        load_text(tcp_node("          a: { address: 0 }\n"
                           "          b: { table: coil, address: 0 }\n"));
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_FALSE(attribute(*loaded.config, i).writable);
        EXPECT_FALSE(attribute(*loaded.config, i).min);
        EXPECT_FALSE(attribute(*loaded.config, i).max);
        EXPECT_TRUE(attribute(*loaded.config, i).allowed.empty());
    }
}

TEST(WriteBackKeys, ReadsWritableLimitsAndAllowed) {
    auto loaded =
        load_text(tcp_node("          sp: { address: 0, writable: true, min: -2.5, max: 10,"
                           " type: int16, scale: 0.5, allowed: [-2.5, 0, 10] }\n"
                           "          relay: { table: coil, address: 0, writable: true }\n"));
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const ModbusAttribute& sp = attribute(*loaded.config, 0);
    EXPECT_TRUE(sp.writable);
    EXPECT_EQ(sp.min, -2.5);
    EXPECT_EQ(sp.max, 10.0);
    EXPECT_THAT(sp.allowed, ElementsAre(-2.5, 0.0, 10.0));
    const ModbusAttribute& relay = attribute(*loaded.config, 1);
    EXPECT_TRUE(relay.writable);
    EXPECT_FALSE(relay.min);
}

TEST(WriteBackKeys, LimitsAreCheckedInRegisterUnitsForEveryType) {
    // The edges of each type fit; one step beyond does not.
    EXPECT_EQ(errors_of("          a: { address: 0, type: int16, writable: true,"
                        " min: -32768, max: 32767 }\n"
                        "          b: { address: 1, type: int32, writable: true,"
                        " min: -2147483648, max: 2147483647 }\n"
                        "          c: { address: 3, type: uint32, writable: true,"
                        " min: 0, max: 4294967295 }\n"
                        "          d: { address: 5, type: float32, writable: true,"
                        " min: -1e38, max: 3e38 }\n"
                        "          e: { address: 7, type: float64, writable: true,"
                        " min: -1e300, max: 1e300 }\n"
                        "          f: { address: 11, type: uint64, writable: true,"
                        " min: 0, max: 1e19 }\n"),
              std::vector<std::string>{});
    EXPECT_THAT(errors_of("          a: { address: 0, type: int16, writable: true,"
                          " min: -32769, max: 0 }\n"),
                ElementsAre(HasSubstr("min: -32769 does not fit int16;")));
    EXPECT_THAT(errors_of("          a: { address: 0, type: uint32, writable: true,"
                          " min: 0, max: 4294967296 }\n"),
                ElementsAre(HasSubstr("max: 4294967296 does not fit uint32;")));
    EXPECT_THAT(errors_of("          a: { address: 0, type: float32, writable: true,"
                          " min: 0, max: 1e39 }\n"),
                ElementsAre(HasSubstr("max: 1e+39 does not fit float32;")));
    EXPECT_THAT(errors_of("          a: { address: 0, type: int64, writable: true,"
                          " min: 0, max: 9223372036854775808 }\n"),
                ElementsAre(HasSubstr("max: 9223372036854775808 does not fit int64;")));
}

TEST(WriteBackKeys, OffsetAndNegativeScaleAreUndoneBeforeTheRangeCheck) {
    // uint16 with offset -40: published -40..65495.
    EXPECT_EQ(errors_of("          t: { address: 0, offset: -40, writable: true,"
                        " min: -40, max: 65495 }\n"),
              std::vector<std::string>{});
    EXPECT_THAT(errors_of("          t: { address: 0, offset: -40, writable: true,"
                          " min: -41, max: 0 }\n"),
                ElementsAre(HasSubstr("min: -41 does not fit uint16 with scale 1 and offset -40 "
                                      "(register value -1)")));
    // scale -1: published -65535..0.
    EXPECT_EQ(errors_of("          t: { address: 0, scale: -1, writable: true,"
                        " min: -65535, max: 0 }\n"),
              std::vector<std::string>{});
    EXPECT_THAT(errors_of("          t: { address: 0, scale: -1, writable: true,"
                          " min: 0, max: 1 }\n"),
                ElementsAre(HasSubstr("max: 1 does not fit uint16")));
}

TEST(WriteBackKeys, ReadsCommandTopic) {
    auto loaded =
        load_text(kHead +
                  "mappings:\n"
                  "  - { topic: 'a/{node}/{attribute}' }\n"
                  "  - { topic: 'b/{node}', command_topic: '{topic}/{attribute}/set' }\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    EXPECT_EQ(loaded.config->mappings[0].command_topic, "");
    EXPECT_EQ(loaded.config->mappings[1].command_topic, "{topic}/{attribute}/set");
}

TEST(WriteBackKeys, CommandTopicWithFilledInTopicMustStayWithinMqttsLimit) {
    const std::string level(40000, 'x');
    auto loaded = load_text(kHead + "mappings:\n  - { topic: '" + level +
                            "/{node}/{attribute}', command_topic: '{topic}/{topic}' }\n");
    EXPECT_THAT(loaded.errors,
                ElementsAre(HasSubstr("command_topic: is longer than 65535 bytes with {topic} "
                                      "filled in")));
}

const std::string kWritable =
    "          sp: { address: 0, writable: true, min: 0, max: 100, unit: C, allowed: [0, 50] }\n"
    "          relay: { table: coil, address: 0, writable: true }\n"
    "          volts: { table: input, address: 0 }\n"
    "          spare: { address: 1, writable: true, min: 0, max: 1 }\n";

TEST(DescribeWriteBack, ListsEveryWritableAttributeWithItsCommandTopic) {
    auto loaded = load_text(tcp_node(kWritable,
                                     "mappings:\n"
                                     "  - name: st\n"
                                     "    topic: '{gateway}/{node}/{attribute}'\n"
                                     "    attributes: [sp, relay, volts]\n"
                                     "    command_topic: '{topic}/set'\n"));
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const std::string text = describe(*loaded.config);
    EXPECT_THAT(text, HasSubstr("rule st: gw-test/{node}/{attribute} (json, qos 0, every "
                                "sample), commands {topic}/set\n"));
    EXPECT_THAT(text, HasSubstr("writable bus/n1/sp (holding 0, uint16, 0..100 C, allowed 0, "
                                "50): commands on gw-test/n1/sp/set (rule st)\n"));
    EXPECT_THAT(text, HasSubstr("writable bus/n1/relay (coil 0, bool): commands on "
                                "gw-test/n1/relay/set (rule st)\n"));
    EXPECT_THAT(text, HasSubstr("writable bus/n1/spare (holding 1, uint16, 0..1): no rule's "
                                "command_topic reaches it, so it takes no commands\n"));
    EXPECT_THAT(text, Not(HasSubstr("writable bus/n1/volts")));
    EXPECT_THAT(text, Not(HasSubstr("write-back off")));
    // The same expansion as the router's.
    const auto targets = command_targets(*loaded.config);
    ASSERT_EQ(targets.size(), 3u);
    EXPECT_EQ(targets[2].topic, "gw-test/n1/volts/set");
}

TEST(DescribeWriteBack, SaysWhenNothingIsWritable) {
    auto loaded = load_text(tcp_node("          volts: { table: input, address: 0 }\n"));
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    EXPECT_THAT(describe(*loaded.config), HasSubstr("write-back off: no writable attributes\n"));
}

TEST(DescribeWriteBack, WarnsWhenAnEarlierTargetTookAWritableAttributesTopic) {
    auto loaded = load_text(kHead +
                            "sources:\n"
                            "  - name: a\n"
                            "    type: modbus-tcp\n"
                            "    host: 127.0.0.1\n"
                            "    nodes: [{ id: n1, attributes: { x: { address: 0 } } }]\n"
                            "  - name: b\n"
                            "    type: modbus-tcp\n"
                            "    host: 127.0.0.1\n"
                            "    nodes: [{ id: n1, attributes: { x: { address: 0, writable: true,"
                            " min: 0, max: 1 } } }]\n"
                            "mappings:\n"
                            "  - { name: r, topic: 't/{node}/{attribute}',"
                            " command_topic: '{topic}/set' }\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const std::string text = describe(*loaded.config);
    EXPECT_THAT(text, HasSubstr("warning: rule r gives b/n1/x the command topic t/n1/x/set, "
                                "which an earlier target already has"));
    EXPECT_THAT(text, HasSubstr("writable b/n1/x (holding 0, uint16, 0..1): no rule's "
                                "command_topic reaches it"));
}

TEST(DescribeWriteBack, WarnsWhenACommandTopicIsOneTheBridgePublishes) {
    auto loaded =
        load_text(tcp_node("          x: { address: 0, writable: true, min: 0, max: 1 }\n",
                           "mappings:\n"
                           "  - { name: r, topic: 't/{node}/{attribute}',"
                           " command_topic: 'c/{node}/{attribute}' }\n"
                           "  - { name: mirror, topic: 'c/{node}/{attribute}' }\n"));
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const std::string text = describe(*loaded.config);
    EXPECT_THAT(text, HasSubstr("warning: rule r gives bus/n1/x the command topic c/n1/x, but the "
                                "bridge publishes there (or on its /result topic) itself"));
    EXPECT_TRUE(command_targets(*loaded.config).empty());
}

}  // namespace
}  // namespace nodebridge
