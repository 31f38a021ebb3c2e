// The daemon's Sparkplug link over a real mosquitto on loopback: the order a host sees
// when its STATE flaps while readings are on their way (docs/sparkplug.md, "The session").

#include "sparkplug_link.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "codec.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;
using test::Broker;
using test::Subscriber;

class QuietLogger final : public Logger {
  public:
    QuietLogger() : Logger(LogLevel::debug) {}

  protected:
    void write(LogLevel, std::string_view, const LogContext&) override {}
};

Config flap_config() {
    Config config;
    config.gateway = "gw";
    config.sources.push_back(SourceConfig{
        .name = "radio", .type = "serial-nodes", .settings = SerialNodesSourceConfig{}});
    config.mappings.push_back(
        MappingRule{.name = "sp", .match_node = "meter-*", .topic = "x/{node}", .sparkplug = true});
    config.sparkplug =
        SparkplugConfig{.group_id = "plant", .edge_node_id = "gw", .primary_host_id = "scada"};
    return config;
}

MqttConfig mqtt_for(int port, int protocol) {
    MqttConfig mqtt;
    mqtt.host = "127.0.0.1";
    mqtt.port = port;
    mqtt.client_id = "flap-" + std::to_string(protocol);
    mqtt.keepalive = 5s;
    mqtt.protocol = protocol;
    mqtt.buffer.dir.clear();
    mqtt.health.topic = "flap/status";
    mqtt.reconnect_max = 1s;
    return mqtt;
}

Sample reading(std::int64_t power) {
    return Sample{.source = "radio",
                  .node = "meter-1",
                  .time = WallClock::now(),
                  .attributes = {Attribute{.name = "power", .value = power}}};
}

struct Seen {
    std::string type;
    sparkplug::Payload payload;
};

std::vector<Seen> decoded(const Subscriber& subscriber) {
    std::vector<Seen> out;
    for (const test::Received& r : subscriber.messages()) {
        // spBv1.0/plant/<type>/gw[/<device>]
        const std::string rest = r.topic.substr(std::string("spBv1.0/plant/").size());
        const std::string type = rest.substr(0, rest.find('/'));
        auto payload = sparkplug::decode(r.payload);
        EXPECT_TRUE(payload.has_value()) << r.topic;
        if (payload) out.push_back(Seen{type, std::move(*payload)});
    }
    return out;
}

std::size_t count(const std::vector<Seen>& all, std::string_view type) {
    return static_cast<std::size_t>(
        std::count_if(all.begin(), all.end(), [&](const Seen& s) { return s.type == type; }));
}

// The primary host's retained STATE, as a host publishes it.
void state(const test::TempDir& dir, int port, bool online, std::uint64_t timestamp) {
    test::Process pub({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(port),
                       "-q", "1", "-r", "-t", "spBv1.0/STATE/scada", "-m",
                       std::string("{\"online\":") + (online ? "true" : "false") +
                           ",\"timestamp\":" + std::to_string(timestamp) + "}"},
                      dir.file("state-" + std::to_string(timestamp) + ".log"));
    ASSERT_EQ(pub.wait_for_exit(10s), 0) << pub.output();
}

class SparkplugLinkFlap : public ::testing::TestWithParam<int> {};

// The host's STATE goes offline while readings are being mapped (injected through the
// gateway-metrics callback, which receive() calls before it looks at the STATE), then
// stays offline for a few reconnects, then comes back. Whatever was on its way, every
// session the host sees starts with NBIRTH, and no reading is lost: it is sent in the
// session it was made for, or as historical after the next births.
TEST_P(SparkplugLinkFlap, NothingButNbirthStartsASession) {
    test::TempDir dir;
    Broker broker(Broker::Options{.persistence = false});
    broker.start();
    Subscriber host(broker.port(), {"spBv1.0/plant/#"});
    QuietLogger log;
    std::atomic<bool> inject{false};
    SparkplugLink* link_ptr = nullptr;
    std::int64_t next_power = 100;
    std::vector<std::int64_t> made;  // every reading handed to the link
    const auto observe = [&] {
        made.push_back(next_power);
        link_ptr->observe(reading(next_power++), SteadyClock::now());
    };
    SparkplugLink link(
        flap_config(), log, [](WriteCommand&&) {},
        [&] {
            // The mapping thread racing the STATE change: its readings reach the link just
            // before the offline STATE does (receive() asks for the metrics first).
            if (inject.exchange(false)) {
                for (int i = 0; i < 3; ++i) observe();
            }
            return sparkplug::NodeMetrics{.version = "t", .counters = {{"samples", 0}}};
        });
    link_ptr = &link;
    link.start(mqtt_for(broker.port(), GetParam()));

    state(dir, broker.port(), true, 100);
    ASSERT_TRUE(test::wait_until([&] { return count(decoded(host), "NBIRTH") == 1; }, 10s));
    observe();  // the device is born with its first reading
    ASSERT_TRUE(test::wait_until([&] { return count(decoded(host), "DBIRTH") == 1; }, 10s));

    inject = true;
    state(dir, broker.port(), false, 101);
    ASSERT_TRUE(test::wait_until([&] { return !inject.load(); }, 10s));
    // Offline and retained: each reconnect sees it again; readings keep coming meanwhile.
    ASSERT_TRUE(test::wait_until([&] { return count(decoded(host), "NDEATH") >= 3; }, 20s));
    observe();  // made while the host is away: held, sent as historical after the births
    const std::int64_t while_away = made.back();
    state(dir, broker.port(), true, 102);
    ASSERT_TRUE(test::wait_until([&] { return count(decoded(host), "NBIRTH") == 2; }, 20s));
    ASSERT_TRUE(test::wait_until(
        [&] {
            std::size_t seen = 0;
            for (const Seen& s : decoded(host)) {
                if (s.type == "DDATA") seen += s.payload.metrics.size();
            }
            return seen >= made.size() - 1;  // all but the first, which went out in the DBIRTH
        },
        10s));
    link.stop(2s);

    const std::vector<Seen> all = decoded(host);
    bool in_session = false;
    std::optional<std::uint64_t> last_seq;
    std::map<std::int64_t, int> values;
    std::set<std::int64_t> deaths;  // their bdSeq
    bool historical_seen = false;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const Seen& s = all[i];
        if (s.type == "NDEATH") {
            // One per connection: never the previous connection's again (a QoS 1 publish
            // the client library would resend).
            ASSERT_EQ(s.payload.metrics.size(), 1u);
            const auto bd_seq =
                sparkplug::value_as(s.payload.metrics[0].value, sparkplug::DataType::int64);
            ASSERT_TRUE(bd_seq);
            EXPECT_TRUE(deaths.insert(std::get<std::int64_t>(*bd_seq)).second)
                << "NDEATH bdSeq " << std::get<std::int64_t>(*bd_seq) << " twice";
            in_session = false;
            continue;
        }
        if (!in_session) {
            // The first message after the previous session's NDEATH (or the very first).
            ASSERT_EQ(s.type, "NBIRTH") << "message " << i << " starts a session";
            in_session = true;
        }
        ASSERT_TRUE(s.payload.seq);
        if (s.type == "NBIRTH") {
            EXPECT_EQ(*s.payload.seq, 0u);
        } else {
            EXPECT_EQ(*s.payload.seq, (*last_seq + 1) % 256) << s.type << " message " << i;
        }
        last_seq = s.payload.seq;
        if (s.type == "DDATA" || s.type == "DBIRTH") {
            for (const auto& metric : s.payload.metrics) {
                const auto value = sparkplug::value_as(metric.value, sparkplug::DataType::int64);
                if (!value) continue;
                ++values[std::get<std::int64_t>(*value)];
                if (s.type == "DDATA" && std::get<std::int64_t>(*value) == while_away) {
                    EXPECT_TRUE(metric.is_historical) << "message " << i;
                    historical_seen = true;
                }
            }
        }
    }
    for (std::int64_t value : made) EXPECT_GE(values[value], 1) << "reading " << value << " lost";
    EXPECT_TRUE(historical_seen) << "the reading made while the host was away";
}

INSTANTIATE_TEST_SUITE_P(Protocols, SparkplugLinkFlap, ::testing::Values(4, 5),
                         [](const auto& info) { return info.param == 5 ? "Mqtt5" : "Mqtt311"; });

}  // namespace
}  // namespace nodebridge
