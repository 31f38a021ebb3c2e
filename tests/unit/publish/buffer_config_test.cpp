// The store-and-forward keys of the config (mqtt.buffer, mqtt.hosts, mqtt.reconnect_max) as
// the Publisher receives them. Their errors are data-driven cases in tests/cases/mqtt-*.

#include <gtest/gtest.h>

#include "nodebridge/config.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;

TEST(BufferConfig, DefaultsSpoolToDiskWithOneBroker) {
    test::TempDir dir;
    const auto loaded = load_config(dir.write("c.yaml", "gateway: gw\n"));
    ASSERT_TRUE(loaded.config.has_value());
    const MqttConfig& mqtt = loaded.config->mqtt;
    EXPECT_EQ(mqtt.buffer.dir, "/var/lib/nodebridge/spool");
    EXPECT_EQ(mqtt.buffer.max_bytes, 256u << 20);
    EXPECT_EQ(mqtt.buffer.max_age, 0ms);
    EXPECT_EQ(mqtt.buffer.on_full, SpoolOnFull::drop_oldest);
    EXPECT_FALSE(mqtt.buffer.required);
    EXPECT_EQ(mqtt.health.degraded, "");
    EXPECT_TRUE(mqtt.hosts.empty());
    EXPECT_EQ(mqtt.reconnect_max, 30s);
}

TEST(BufferConfig, ReadsEveryKey) {
    test::TempDir dir;
    const auto loaded = load_config(dir.write("c.yaml", R"(gateway: gw
mqtt:
  hosts: ["a.example:1883", "b.example", "[fd00::5]:8883"]
  reconnect_max: 2m
  buffer: { dir: /srv/spool, max_bytes: 2GB, max_age: 48h, on_full: drop_newest, required: true }
  health: { degraded: degraded }
)"));
    ASSERT_TRUE(loaded.config.has_value()) << loaded.errors.front().to_string();
    const MqttConfig& mqtt = loaded.config->mqtt;
    EXPECT_EQ(mqtt.buffer.dir, "/srv/spool");
    EXPECT_EQ(mqtt.buffer.max_bytes, 2'000'000'000u);
    EXPECT_EQ(mqtt.buffer.max_age, 48h);
    EXPECT_EQ(mqtt.buffer.on_full, SpoolOnFull::drop_newest);
    EXPECT_TRUE(mqtt.buffer.required);
    EXPECT_EQ(mqtt.health.degraded, "degraded");
    EXPECT_EQ(mqtt.hosts, (std::vector<BrokerAddress>{
                              {"a.example", 1883}, {"b.example", 1883}, {"fd00::5", 8883}}));
    EXPECT_EQ(mqtt.reconnect_max, 2min);
}

TEST(BufferConfig, AnEmptyDirMeansMemoryOnly) {
    test::TempDir dir;
    const auto loaded = load_config(
        dir.write("c.yaml", "gateway: gw\nmqtt: { buffer: { dir: \"\", max_bytes: 1048576 } }\n"));
    ASSERT_TRUE(loaded.config.has_value());
    EXPECT_EQ(loaded.config->mqtt.buffer.dir, "");
    EXPECT_EQ(loaded.config->mqtt.buffer.max_bytes, 1u << 20);
}

}  // namespace
}  // namespace nodebridge
