// Sparkplug B end to end: mosquitto, the Modbus simulator and nodebridged, every message
// decoded with the project's schema (src/sparkplug/sparkplug_b.proto), checked as a host
// application sees the session (docs/sparkplug.md).

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "codec.hpp"
#include "nodebridge/publisher.hpp"
#include "support/support.hpp"

namespace nodebridge::test {
namespace {

using sparkplug::DataType;
using sparkplug::Metric;
using sparkplug::MetricValue;
using sparkplug::Payload;

constexpr const char* kConfig = R"(gateway: gw-sp
mqtt:
  host: 127.0.0.1
  port: @MQTT@
  keepalive: 5s
  protocol: "@PROTOCOL@"
  buffer: { dir: "" }
stats:
  interval: 1s
sparkplug:
  group_id: plant
sources:
  - name: pdu-bus
    type: modbus-tcp
    host: 127.0.0.1
    port: @MODBUS@
    timeout: 200ms
    offline_after: 1s
    nodes:
      - id: pdu-1
        unit: 1
        poll: 200ms
        attributes:
          voltage:  { table: input, address: 0, type: float32, unit: V }
          breaker:  { table: coil, address: 0, type: bool, writable: true }
          setpoint: { table: holding, address: 20, type: int16, writable: true, min: -50, max: 50 }
mappings:
  - name: sp
    match: { node: "pdu-*" }
    topic: dc1/{node}/{attribute}
    on_change: true
    sparkplug: true
)";

struct Seen {
    std::string type;    // NBIRTH, DDATA, ...
    std::string device;  // "" for node messages
    Payload payload;
    bool retain = false;
};

class Sparkplug : public ::testing::TestWithParam<const char*> {
  protected:
    void SetUp() override {
        broker_.start();
        modbus_port_ = free_port();
        start_sim();
        config_path_ = dir_.write(
            "nodebridge.yaml",
            replace_all(replace_all(replace_all(kConfig, "@MQTT@", std::to_string(broker_.port())),
                                    "@MODBUS@", std::to_string(modbus_port_)),
                        "@PROTOCOL@", GetParam()));
        subscriber_ =
            std::make_unique<Subscriber>(broker_.port(), std::vector<std::string>{"spBv1.0/#"});
    }

    void start_sim() {
        sim_ = std::make_unique<Process>(std::vector<std::string>{SIM_PATH, "modbus-tcp", "--port",
                                                                  std::to_string(modbus_port_)},
                                         dir_.file("sim-" + std::to_string(++sims_) + ".log"));
        ASSERT_TRUE(sim_->wait_for_output("ready", 10s)) << sim_->output();
    }

    void start_daemon() {
        daemon_ = std::make_unique<Process>(
            std::vector<std::string>{NODEBRIDGED_PATH, "-c", config_path_, "--log-level", "debug"},
            dir_.file("daemon-" + std::to_string(++daemons_) + ".log"));
    }

    // Every Sparkplug message so far, decoded; a payload that does not decode fails.
    std::vector<Seen> seen() const {
        std::vector<Seen> out;
        for (const Received& r : subscriber_->messages()) {
            // spBv1.0/plant/<type>/gw-sp[/<device>]
            std::vector<std::string> parts;
            std::size_t start = 0;
            for (std::size_t at; (at = r.topic.find('/', start)) != std::string::npos;
                 start = at + 1) {
                parts.push_back(r.topic.substr(start, at - start));
            }
            parts.push_back(r.topic.substr(start));
            if (parts.size() < 4 || parts[1] != "plant") continue;   // STATE and others
            if (parts[2] == "NCMD" || parts[2] == "DCMD") continue;  // the test's own
            auto payload = sparkplug::decode(r.payload);
            EXPECT_TRUE(payload.has_value()) << r.topic;
            EXPECT_EQ(parts[3], "gw-sp") << r.topic;
            if (!payload) continue;
            EXPECT_EQ(r.qos, parts[2] == "NDEATH" ? 1 : 0) << r.topic;
            EXPECT_FALSE(r.retain) << r.topic;
            out.push_back(
                Seen{parts[2], parts.size() > 4 ? parts[4] : "", std::move(*payload), r.retain});
        }
        return out;
    }

    bool wait_for(const std::function<bool(const std::vector<Seen>&)>& condition, Millis timeout) {
        return wait_until([&] { return condition(seen()); }, timeout);
    }

    static bool has(const std::vector<Seen>& all, std::string_view type, std::size_t from = 0) {
        for (std::size_t i = from; i < all.size(); ++i) {
            if (all[i].type == type) return true;
        }
        return false;
    }

    void send(const std::string& topic, const Payload& payload) {
        const std::string file =
            dir_.write("cmd-" + std::to_string(++sent_) + ".bin", sparkplug::encode(payload));
        Process pub({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p",
                     std::to_string(broker_.port()), "-q", "0", "-t", topic, "-f", file},
                    dir_.file("pub-" + std::to_string(sent_) + ".log"));
        ASSERT_EQ(pub.wait_for_exit(10s), 0) << pub.output();
    }

    // The primary host's retained STATE.
    void state(bool online, std::uint64_t timestamp) {
        Process pub(
            {"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker_.port()),
             "-q", "1", "-r", "-t", "spBv1.0/STATE/scada", "-m",
             std::string("{\"online\":") + (online ? "true" : "false") +
                 ",\"timestamp\":" + std::to_string(timestamp) + "}"},
            dir_.file("state-" + std::to_string(++sent_) + ".log"));
        ASSERT_EQ(pub.wait_for_exit(10s), 0) << pub.output();
    }

    static const Metric* metric(const Payload& payload, std::string_view name) {
        for (const Metric& m : payload.metrics) {
            if (m.name == name) return &m;
        }
        return nullptr;
    }

    std::string log() const { return daemon_ ? daemon_->output() : ""; }

    TempDir dir_;
    Broker broker_{Broker::Options{.persistence = false}};
    int modbus_port_ = 0;
    int sims_ = 0;
    int daemons_ = 0;
    int sent_ = 0;
    std::string config_path_;
    std::unique_ptr<Process> sim_;
    std::unique_ptr<Subscriber> subscriber_;
    std::unique_ptr<Process> daemon_;
};

// seq must go up by one (mod 256) from the last NBIRTH on, in arrival order.
void expect_seq_order(const std::vector<Seen>& all) {
    std::optional<std::uint64_t> last;
    for (const Seen& s : all) {
        if (s.type == "NDEATH") {
            EXPECT_FALSE(s.payload.seq) << "NDEATH carries no seq";
            continue;
        }
        ASSERT_TRUE(s.payload.seq) << s.type;
        if (s.type == "NBIRTH") {
            EXPECT_EQ(*s.payload.seq, 0u);
        } else if (last) {
            EXPECT_EQ(*s.payload.seq, (*last + 1) % 256) << s.type << " " << s.device;
        }
        EXPECT_TRUE(s.payload.timestamp) << s.type;
        last = s.payload.seq;
    }
}

TEST_P(Sparkplug, AHostSeesTheWholeSession) {
    start_daemon();
    // NBIRTH seq 0 with bdSeq 0 and Rebirth, then DBIRTH, then DDATA by alias.
    ASSERT_TRUE(wait_for([](const auto& all) { return has(all, "DDATA"); }, 15s)) << log();
    std::vector<Seen> all = seen();
    ASSERT_GE(all.size(), 3u);
    EXPECT_EQ(all[0].type, "NBIRTH");
    EXPECT_EQ(all[0].payload.seq, 0u);
    ASSERT_NE(metric(all[0].payload, "bdSeq"), nullptr);
    EXPECT_EQ(metric(all[0].payload, "bdSeq")->value, MetricValue(std::int64_t(0)));
    ASSERT_NE(metric(all[0].payload, "Node Control/Rebirth"), nullptr);
    EXPECT_EQ(all[1].type, "DBIRTH");
    EXPECT_EQ(all[1].device, "pdu-1");
    const Metric* setpoint = metric(all[1].payload, "setpoint");
    ASSERT_NE(setpoint, nullptr);
    EXPECT_EQ(setpoint->type, DataType::int16);
    ASSERT_NE(metric(all[1].payload, "voltage"), nullptr);
    EXPECT_EQ(metric(all[1].payload, "voltage")->type, DataType::float32);
    for (const Seen& s : all) {
        if (s.type != "DDATA") continue;
        for (const Metric& m : s.payload.metrics) {
            EXPECT_TRUE(m.name.empty());
            EXPECT_TRUE(m.alias);
        }
    }
    expect_seq_order(all);

    // DCMD: a write through the write-back checks, read back in DDATA by the alias.
    const std::uint64_t alias = *setpoint->alias;
    send("spBv1.0/plant/DCMD/gw-sp/pdu-1", Payload{.timestamp = 1,
                                                   .metrics = {Metric{.name = "setpoint",
                                                                      .type = DataType::int16,
                                                                      .send_datatype = true,
                                                                      .value = std::int64_t(-7)}}});
    EXPECT_TRUE(wait_for(
        [&](const auto& all) {
            for (const Seen& s : all) {
                if (s.type != "DDATA") continue;
                for (const Metric& m : s.payload.metrics) {
                    if (m.alias == alias && sparkplug::value_as(m.value, DataType::int16) ==
                                                MetricValue(std::int64_t(-7))) {
                        return true;
                    }
                }
            }
            return false;
        },
        10s))
        << log();
    // Out of range: refused, counted, never written.
    send("spBv1.0/plant/DCMD/gw-sp/pdu-1", Payload{.metrics = {Metric{.name = "setpoint",
                                                                      .type = DataType::int16,
                                                                      .send_datatype = true,
                                                                      .value = std::int64_t(99)}}});
    EXPECT_TRUE(daemon_->wait_for_output("refused", 10s)) << log();

    // NCMD Rebirth: a fresh NBIRTH (seq 0, same bdSeq) and DBIRTH.
    std::size_t mark = seen().size();
    send("spBv1.0/plant/NCMD/gw-sp", Payload{.timestamp = 1,
                                             .metrics = {Metric{.name = "Node Control/Rebirth",
                                                                .type = DataType::boolean,
                                                                .send_datatype = true,
                                                                .value = true}}});
    ASSERT_TRUE(wait_for([&](const auto& all) { return has(all, "NBIRTH", mark); }, 10s)) << log();
    all = seen();
    for (std::size_t i = mark; i < all.size(); ++i) {
        if (all[i].type != "NBIRTH") continue;
        EXPECT_EQ(all[i].payload.seq, 0u);
        EXPECT_EQ(metric(all[i].payload, "bdSeq")->value, MetricValue(std::int64_t(0)));
    }
    EXPECT_TRUE(wait_for([&](const auto& all) { return has(all, "DBIRTH", mark); }, 10s));

    // The device dies (the simulator stops): DDEATH; it returns: DBIRTH.
    mark = seen().size();
    sim_->signal(SIGTERM);
    ASSERT_TRUE(sim_->wait_for_exit(10s).has_value());
    ASSERT_TRUE(wait_for([&](const auto& all) { return has(all, "DDEATH", mark); }, 15s)) << log();
    mark = seen().size();
    start_sim();
    ASSERT_TRUE(wait_for([&](const auto& all) { return has(all, "DBIRTH", mark); }, 15s)) << log();
    expect_seq_order(seen());

    // The daemon is killed: the broker sends the Will, NDEATH with the NBIRTH's bdSeq.
    mark = seen().size();
    daemon_->signal(SIGKILL);
    ASSERT_TRUE(daemon_->wait_for_exit(10s).has_value());
    ASSERT_TRUE(wait_for([&](const auto& all) { return has(all, "NDEATH", mark); }, 20s));
    all = seen();
    for (std::size_t i = mark; i < all.size(); ++i) {
        if (all[i].type != "NDEATH") continue;
        ASSERT_EQ(all[i].payload.metrics.size(), 1u);
        EXPECT_EQ(all[i].payload.metrics[0].name, "bdSeq");
        EXPECT_EQ(all[i].payload.metrics[0].value, MetricValue(std::int64_t(0)));
    }
    // Sparkplug has an MQTT session (and Will) of its own: the health topic's Will turns it
    // "offline" after the crash too (docs/sparkplug.md, "Two MQTT sessions").
    Subscriber health(broker_.port(), {"nodebridge/gw-sp/status"});
    EXPECT_TRUE(health.wait_for_message("nodebridge/gw-sp/status", 10s, "offline").has_value())
        << log();
}

TEST_P(Sparkplug, ACleanStopSendsNdeathAndARestartBirthsAgain) {
    start_daemon();
    ASSERT_TRUE(wait_for([](const auto& all) { return has(all, "DBIRTH"); }, 15s)) << log();
    daemon_->signal(SIGTERM);
    ASSERT_EQ(daemon_->wait_for_exit(15s), 0) << log();
    ASSERT_TRUE(wait_for([](const auto& all) { return has(all, "NDEATH"); }, 10s)) << log();
    const std::size_t mark = seen().size();
    start_daemon();
    ASSERT_TRUE(wait_for([&](const auto& all) { return has(all, "DBIRTH", mark); }, 15s)) << log();
    const auto all = seen();
    EXPECT_EQ(all[mark].type, "NBIRTH");
    EXPECT_EQ(all[mark].payload.seq, 0u);
}

TEST_P(Sparkplug, BirthsWaitForThePrimaryHostAndItsOfflineStateEndsTheSession) {
    config_path_ =
        dir_.write("nodebridge.yaml", replace_all(read_file(config_path_), "  group_id: plant\n",
                                                  "  group_id: plant\n  primary_host_id: scada\n"));
    start_daemon();
    // Connected and subscribed, but no STATE yet: nothing but the (unsent) Will.
    ASSERT_TRUE(daemon_->wait_for_output("MQTT: connected", 15s)) << log();
    std::this_thread::sleep_for(1s);
    EXPECT_TRUE(seen().empty());
    state(true, 100);
    ASSERT_TRUE(wait_for([](const auto& all) { return has(all, "DBIRTH"); }, 15s)) << log();
    EXPECT_EQ(metric(seen()[0].payload, "bdSeq")->value, MetricValue(std::int64_t(0)));
    // An older offline STATE is ignored; a newer one ends the session (NDEATH), and the next
    // session waits for online again, then births with the next bdSeq.
    state(false, 99);
    std::this_thread::sleep_for(1s);
    EXPECT_FALSE(has(seen(), "NDEATH"));
    state(false, 101);
    ASSERT_TRUE(wait_for([](const auto& all) { return has(all, "NDEATH"); }, 15s)) << log();
    // Retained: the reconnected session takes it after subscribing, whenever that is.
    const std::size_t mark = seen().size();
    state(true, 102);
    ASSERT_TRUE(wait_for([&](const auto& all) { return has(all, "NBIRTH", mark); }, 20s)) << log();
    const auto all = seen();
    for (std::size_t i = mark; i < all.size(); ++i) {
        if (all[i].type == "NBIRTH") {
            EXPECT_NE(metric(all[i].payload, "bdSeq")->value, MetricValue(std::int64_t(0)));
        }
    }
}

// Two brokers in mqtt.hosts, the primary host offline on the first and online on the
// second: the Sparkplug session ends on the first (NDEATH, no birth there) and walks to the
// second, where it is born (chapter 5, tck-id-operational-behavior-primary-application-
// state-with-multiple-servers-walk).
TEST_P(Sparkplug, AnOfflineHostOnOneBrokerWalksToTheNext) {
    Broker second{Broker::Options{.persistence = false}};
    second.start();
    Subscriber on_second(second.port(), {"spBv1.0/#"});
    const std::string one = "127.0.0.1:" + std::to_string(broker_.port());
    const std::string two = "127.0.0.1:" + std::to_string(second.port());
    config_path_ = dir_.write(
        "nodebridge.yaml",
        replace_all(replace_all(read_file(config_path_), "  group_id: plant\n",
                                "  group_id: plant\n  primary_host_id: scada\n"),
                    "  host: 127.0.0.1\n  port: " + std::to_string(broker_.port()) + "\n",
                    "  hosts: [\"" + one + "\", \"" + two + "\"]\n"));
    state(false, 100);  // on the first broker
    Process pub(
        {"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(second.port()), "-q",
         "1", "-r", "-t", "spBv1.0/STATE/scada", "-m", R"({"online":true,"timestamp":100})"},
        dir_.file("state-second.log"));
    ASSERT_EQ(pub.wait_for_exit(10s), 0) << pub.output();
    start_daemon();
    ASSERT_TRUE(on_second.wait_for_message("spBv1.0/plant/NBIRTH/gw-sp", 15s).has_value()) << log();
    const auto first = seen();  // what the first broker saw
    ASSERT_FALSE(first.empty()) << log();
    for (const Seen& s : first) EXPECT_EQ(s.type, "NDEATH");
    const auto all = on_second.messages();
    const auto birth = std::find_if(all.begin(), all.end(), [](const Received& r) {
        return r.topic.starts_with("spBv1.0/plant/");
    });
    ASSERT_NE(birth, all.end());
    EXPECT_EQ(birth->topic, "spBv1.0/plant/NBIRTH/gw-sp");
}

// A reload that changes `mqtt:` replaces both sessions: the Sparkplug one ends with its
// NDEATH and the new one starts with NBIRTH (the next bdSeq), then the devices' births.
TEST_P(Sparkplug, AReloadOfTheMqttSectionEndsAndBirthsTheSessionAgain) {
    start_daemon();
    ASSERT_TRUE(wait_for([](const auto& all) { return has(all, "DBIRTH"); }, 15s)) << log();
    const std::size_t mark = seen().size();
    dir_.write("nodebridge.yaml",
               replace_all(read_file(config_path_), "  keepalive: 5s\n", "  keepalive: 6s\n"));
    daemon_->signal(SIGHUP);
    ASSERT_TRUE(daemon_->wait_for_output("MQTT session reconnected", 15s)) << log();
    ASSERT_TRUE(wait_for([&](const auto& all) { return has(all, "DBIRTH", mark); }, 15s)) << log();
    const auto all = seen();
    ASSERT_GE(all.size(), mark + 3);
    EXPECT_EQ(all[mark].type, "NDEATH");
    EXPECT_EQ(all[mark].payload.metrics.at(0).value, MetricValue(std::int64_t(0)));
    EXPECT_EQ(all[mark + 1].type, "NBIRTH");
    EXPECT_EQ(metric(all[mark + 1].payload, "bdSeq")->value, MetricValue(std::int64_t(1)));
    expect_seq_order(std::vector<Seen>(all.begin() + mark, all.end()));
}

// The most connections the reconnect backoff allows in `window`: the first at once, then
// each after a delay of at least half its ceiling (equal jitter), the ceiling starting at
// Publisher::kFirstRetryDelay and doubling up to mqtt.reconnect_max (docs/configuration.md).
std::size_t connects_allowed(Millis window, Millis reconnect_max) {
    std::size_t connects = 1;
    Millis ceiling = Publisher::kFirstRetryDelay;
    Millis elapsed{0};
    for (;;) {
        elapsed += std::min(ceiling, reconnect_max) / 2;
        if (elapsed > window) return connects;
        ++connects;
        ceiling *= 2;
    }
}

// The primary host is away and its retained STATE says offline: every connection receives
// it and ends (chapter 5, tck-id-operational-behavior-primary-application-state-with-
// multiple-servers-walk), but never faster than the reconnect backoff allows, and nothing
// but the NDEATH is ever published; when the host returns, the node is born.
TEST_P(Sparkplug, AnOfflineHostIsRetriedWithBackoffNotAStorm) {
    constexpr Millis kReconnectMax{4000};
    config_path_ =
        dir_.write("nodebridge.yaml",
                   replace_all(replace_all(read_file(config_path_), "  group_id: plant\n",
                                           "  group_id: plant\n  primary_host_id: scada\n"),
                               "  keepalive: 5s\n", "  keepalive: 5s\n  reconnect_max: 4s\n"));
    state(false, 100);
    const auto started = std::chrono::steady_clock::now();
    start_daemon();
    std::this_thread::sleep_for(8s);
    const auto window =
        std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started);
    std::vector<Seen> all = seen();
    const std::size_t deaths = static_cast<std::size_t>(
        std::count_if(all.begin(), all.end(), [](const Seen& s) { return s.type == "NDEATH"; }));
    EXPECT_GE(deaths, 2u) << log();  // it does keep trying
    EXPECT_LE(deaths, connects_allowed(window, kReconnectMax)) << "in " << window.count() << " ms\n"
                                                               << log();
    for (const Seen& s : all) EXPECT_EQ(s.type, "NDEATH");
    // The host returns: born within one reconnect_max.
    state(true, 101);
    ASSERT_TRUE(wait_for([](const auto& all) { return has(all, "NBIRTH"); }, 15s)) << log();
}

INSTANTIATE_TEST_SUITE_P(Protocols, Sparkplug, ::testing::Values("3.1.1", "5"),
                         [](const auto& info) {
                             return std::string(info.param) == "5" ? "Mqtt5" : "Mqtt311";
                         });

}  // namespace
}  // namespace nodebridge::test
