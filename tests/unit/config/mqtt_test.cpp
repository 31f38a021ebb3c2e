// `mqtt:`: broker settings, defaults and {gateway} expansion, the health topic.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_fixture.hpp"

namespace nodebridge {
namespace {

using ::testing::ElementsAre;
using testing::load_text;

TEST(MqttConfig, DefaultsExpandTheGateway) {
    auto loaded = load_text("gateway: gw-7\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const MqttConfig& mqtt = loaded.config->mqtt;
    EXPECT_EQ(mqtt.host, "localhost");
    EXPECT_EQ(mqtt.port, 1883);
    EXPECT_EQ(mqtt.client_id, "nodebridge-gw-7");
    EXPECT_EQ(mqtt.keepalive, Millis(60000));
    EXPECT_EQ(mqtt.protocol, 4);
    EXPECT_TRUE(mqtt.username.empty());
    EXPECT_EQ(mqtt.health.topic, "nodebridge/gw-7/status");
    EXPECT_EQ(mqtt.health.online, "online");
    EXPECT_EQ(mqtt.health.offline, "offline");
    EXPECT_EQ(mqtt.health.qos, 1);
    EXPECT_TRUE(mqtt.health.retain);
}

TEST(MqttConfig, ReadsEveryKey) {
    auto loaded = load_text(
        "gateway: gw-7\n"
        "mqtt:\n"
        "  host: broker.example\n"
        "  port: 8883\n"
        "  client_id: bridge-{gateway}-a\n"
        "  keepalive: 2m\n"
        "  protocol: 5\n"
        "  username: alice\n"
        "  password: s3cret\n"
        "  health: { topic: 'site/{gateway}/up', online: '1', offline: '0', qos: 0, retain: false "
        "}\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const MqttConfig& mqtt = loaded.config->mqtt;
    EXPECT_EQ(mqtt.host, "broker.example");
    EXPECT_EQ(mqtt.port, 8883);
    EXPECT_EQ(mqtt.client_id, "bridge-gw-7-a");
    EXPECT_EQ(mqtt.keepalive, Millis(120000));
    EXPECT_EQ(mqtt.protocol, 5);
    EXPECT_EQ(mqtt.username, "alice");
    EXPECT_EQ(mqtt.password, "s3cret");
    EXPECT_EQ(mqtt.health.topic, "site/gw-7/up");
    EXPECT_EQ(mqtt.health.online, "1");
    EXPECT_EQ(mqtt.health.offline, "0");
    EXPECT_EQ(mqtt.health.qos, 0);
    EXPECT_FALSE(mqtt.health.retain);
}

TEST(MqttConfig, ProtocolIsThreeOneOneOrFive) {
    auto v311 = load_text("gateway: g\nmqtt: { protocol: \"3.1.1\" }\n");
    ASSERT_TRUE(v311.config);
    EXPECT_EQ(v311.config->mqtt.protocol, 4);
    auto bad = load_text("gateway: g\nmqtt: { protocol: 3.1 }\n");
    EXPECT_THAT(bad.errors,
                ElementsAre("config.yaml:2:19: protocol: expected \"3.1.1\" or 5, got \"3.1\""));
}

TEST(MqttConfig, KeepaliveIsWholeSecondsLibmosquittoAccepts) {
    auto loaded = load_text("gateway: g\nmqtt: { keepalive: 1500ms }\n");
    EXPECT_THAT(loaded.errors, ElementsAre("config.yaml:2:20: keepalive: must be whole seconds "
                                           "between 5s and 65535s"));
    auto short_one = load_text("gateway: g\nmqtt: { keepalive: 4s }\n");
    EXPECT_EQ(short_one.errors.size(), 1u);
}

TEST(MqttConfig, HealthTopicIsALiteralTopicWithOnlyTheGateway) {
    auto loaded = load_text("gateway: g\nmqtt:\n  health: { topic: \"st/{node}\", qos: 3 }\n");
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:3:20: topic: only {gateway} can be used in the health "
                            "topic",
                            "config.yaml:3:38: qos: 3 is out of range (0..2)"));
    auto wildcard = load_text("gateway: g\nmqtt:\n  health: { topic: \"st/#\" }\n");
    ASSERT_EQ(wildcard.errors.size(), 1u);
    EXPECT_THAT(wildcard.errors[0], ::testing::StartsWith("config.yaml:3:20: topic: "));
}

TEST(MqttConfig, PasswordNeedsAUsername) {
    auto loaded = load_text("gateway: g\nmqtt:\n  password: x\n");
    EXPECT_THAT(loaded.errors, ElementsAre("config.yaml:3:3: password: needs a username as well"));
}

TEST(Gateway, IsRequiredNonEmptyAndFreeOfTopicCharacters) {
    EXPECT_THAT(load_text("mqtt: {}\n").errors,
                ElementsAre("config.yaml:1:1: missing required key 'gateway' in the config file"));
    EXPECT_THAT(load_text("gateway: ''\n").errors,
                ElementsAre("config.yaml:1:10: gateway: must not be empty"));
    for (const char* bad : {"a/b", "a+b", "a#b"}) {
        auto loaded = load_text(std::string("gateway: '") + bad + "'\n");
        EXPECT_THAT(loaded.errors,
                    ElementsAre("config.yaml:1:10: gateway: must not contain '/', '+' or '#'"))
            << bad;
    }
}

}  // namespace
}  // namespace nodebridge
