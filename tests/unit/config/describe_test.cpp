// describe(): the --check-config summary.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_fixture.hpp"

namespace nodebridge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kExample = std::string(NODEBRIDGE_SOURCE_DIR) + "/config/examples/modbus.yaml";

TEST(Describe, SummarisesTheExample) {
    LoadResult result = load_config(kExample);
    ASSERT_TRUE(result.config);
    const std::string text = describe(*result.config);
    EXPECT_THAT(text, HasSubstr("config OK: 2 sources, 3 nodes, 8 attributes, 3 rules (1 file)\n"));
    EXPECT_THAT(text, HasSubstr("source pdu-bus: modbus-tcp 127.0.0.1:1502, timeout 500ms, 2 "
                                "nodes (pdu-1, pdu-2), 6 attributes\n"));
    EXPECT_THAT(text, HasSubstr("source meters: modbus-rtu /dev/ttyUSB0 19200 8E1, timeout "
                                "300ms, 1 node (meter-7), 2 attributes\n"));
    EXPECT_THAT(text, HasSubstr("rule power: dc1/gw-01/{node}/{attribute} (value, qos 1, "
                                "retained, on change (deadband 0.5), heartbeat 1m)\n"));
    EXPECT_THAT(text, HasSubstr("rule breakers: dc1/gw-01/{node}/breaker (json, qos 2, every "
                                "sample)\n"));
    EXPECT_THAT(text, HasSubstr("rule meters: dc1/gw-01/meters/{node} (json, qos 0, every "
                                "sample, min interval 10s)\n"));
}

// Issue #21, item 4: an entry for 48 endpoints is one line and its first source, not 48.
TEST(Describe, SummarisesTheSourcesOfOneHostsEntry) {
    testing::TempDir dir;
    dir.write("config.yaml",
              "gateway: g\n"
              "sources:\n"
              "  - name: pdu-{index}\n"
              "    type: modbus-tcp\n"
              "    hosts: [10.0.1.1-48]\n"
              "    nodes: [{ id: strip, attributes: { v: { address: 0 } } }]\n"
              "  - { name: other, type: modbus-tcp, host: h,\n"
              "      nodes: [{ id: n, attributes: { v: { address: 0 } } }] }\n");
    auto loaded = testing::load_in(dir);
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const std::string text = describe(*loaded.config);
    EXPECT_THAT(text, HasSubstr("config OK: 49 sources"));
    EXPECT_THAT(text, HasSubstr("sources pdu-1 .. pdu-48: 48 modbus-tcp endpoints from one "
                                "entry, 10.0.1.1:502 .. 10.0.1.48:502; each:\n  source pdu-1: "
                                "modbus-tcp 10.0.1.1:502, timeout 1s, 1 node (strip), 1 "
                                "attribute\n"));
    EXPECT_THAT(text, Not(HasSubstr("source pdu-2:")));
    EXPECT_THAT(text, HasSubstr("\nsource other: modbus-tcp h:502"));
}

TEST(Describe, ShowsARulesAvailabilityTopic) {
    testing::TempDir dir;
    dir.write("config.yaml",
              "gateway: g\n"
              "mappings:\n"
              "  - { name: up, topic: 'x/{node}', availability_topic: '{gateway}/{node}/up' }\n");
    auto loaded = testing::load_in(dir);
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    EXPECT_THAT(describe(*loaded.config),
                HasSubstr("rule up: x/{node} (json, qos 0, every sample), availability "
                          "g/{node}/up\n"));
}

TEST(Describe, ShowsSerialSourcesAndKeepsThePasswordOut) {
    testing::TempDir dir;
    dir.write("config.yaml",
              "gateway: g\n"
              "mqtt: { username: alice, password: hunter2-secret }\n"
              "sources:\n"
              "  - { name: radio, type: serial-nodes, device: /dev/ttyACM0, baud: 115200,"
              " format: json, poll: { send: 'R\\n', every: 5s } }\n");
    auto loaded = testing::load_in(dir);
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const std::string text = describe(*loaded.config);
    EXPECT_THAT(text, HasSubstr("source radio: serial-nodes /dev/ttyACM0 115200 8N1, format json, "
                                "nodes as they report, polled every 5s\n"));
    EXPECT_THAT(text, HasSubstr("with username"));
    EXPECT_THAT(text, Not(HasSubstr("availability")));
    EXPECT_THAT(text, Not(HasSubstr("hunter2")));
}

}  // namespace
}  // namespace nodebridge

namespace nodebridge {
namespace {

TEST(Describe, ShowsHomeAssistantDiscovery) {
    testing::TempDir dir;
    dir.write("config.yaml",
              "gateway: g\n"
              "homeassistant: { mode: entity }\n"
              "mappings:\n"
              "  - { name: in, topic: 'x/{node}' }\n"
              "  - { name: out, topic: 'y/{node}', homeassistant: false }\n");
    auto loaded = testing::load_in(dir);
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const std::string text = describe(*loaded.config);
    EXPECT_THAT(text, HasSubstr("Home Assistant discovery: homeassistant (entity mode), status "
                                "topic homeassistant/status; --show-discovery prints the "
                                "messages\n"));
    EXPECT_THAT(text, HasSubstr("rule out: y/{node} (json, qos 0, every sample), not in Home "
                                "Assistant\n"));
    EXPECT_THAT(text, Not(HasSubstr("rule in: x/{node} (json, qos 0, every sample), not")));

    dir.write("config.yaml", "gateway: g\n");
    EXPECT_THAT(describe(*testing::load_in(dir).config),
                HasSubstr("Home Assistant discovery off\n"));
}

}  // namespace
}  // namespace nodebridge
