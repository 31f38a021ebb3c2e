// The whole pipeline with real processes: nodebridge-sim serving Modbus TCP, nodebridged,
// mosquitto, and a subscriber asserting what arrives.

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

#include "support/support.hpp"

namespace nodebridge::test {
namespace {

constexpr const char* kConfig = R"(gateway: gw-test
mqtt:
  host: 127.0.0.1
  port: @MQTT@
  keepalive: 5s
  buffer: { dir: @SPOOL@ }
  health:
    topic: nodebridge/gw-test/status
stats:
  interval: 1s
sources:
  - name: pdu-bus
    type: modbus-tcp
    host: 127.0.0.1
    port: @MODBUS@
    timeout: 300ms
    nodes:
      - id: pdu-1
        unit: 1
        poll: 200ms
        attributes:
          voltage: { table: input, address: 0, type: float32, unit: V }
          current: { table: input, address: 2, type: float32, unit: A }
          power:   { table: input, address: 4, type: float32, unit: W }
          energy:  { table: holding, address: 100, type: uint32, scale: 0.001, unit: kWh }
          breaker: { table: coil, address: 0, type: bool }
      - id: meter-7
        unit: 7
        poll: 200ms
        attributes:
          frequency: { table: input, address: 70, type: float32, word_order: little, unit: Hz }
          temperature: { table: holding, address: 10, type: int16, scale: 0.1, round: 1, unit: "°C" }
mappings:
  - name: power
    match: { source: pdu-bus, node: "pdu-*" }
    attributes: [voltage, current, power, energy]
    topic: dc1/{gateway}/{node}/{attribute}
    payload: value
    qos: 1
    retain: true
  - name: breakers
    match: { node: "pdu-*" }
    attributes: [breaker]
    topic: dc1/{gateway}/{node}/breaker
    payload: json
    qos: 2
  - name: meters
    match: { node: "meter-*" }
    topic: dc1/{gateway}/meters/{node}
    payload: json
    qos: 0
)";

class ModbusToMqtt : public ::testing::Test {
  protected:
    void SetUp() override {
        broker_.start();
        modbus_port_ = free_port();
        sim_ = std::make_unique<Process>(std::vector<std::string>{SIM_PATH, "modbus-tcp", "--port",
                                                                  std::to_string(modbus_port_)},
                                         dir_.file("sim.log"));
        ASSERT_TRUE(sim_->wait_for_output("ready", 10s)) << sim_->output();
        config_path_ = dir_.write(
            "nodebridge.yaml",
            replace_all(replace_all(replace_all(kConfig, "@MQTT@", std::to_string(broker_.port())),
                                    "@MODBUS@", std::to_string(modbus_port_)),
                        "@SPOOL@", dir_.file("spool")));
        subscriber_ = std::make_unique<Subscriber>(
            broker_.port(), std::vector<std::string>{"dc1/#", "nodebridge/#"});
    }

    void start_daemon() {
        daemon_ = std::make_unique<Process>(
            std::vector<std::string>{NODEBRIDGED_PATH, "-c", config_path_, "--log-level", "debug"},
            dir_.file("daemon.log"));
    }

    std::string daemon_log() const { return daemon_ ? daemon_->output() : ""; }

    TempDir dir_;
    Broker broker_;
    int modbus_port_ = 0;
    std::string config_path_;
    std::unique_ptr<Process> sim_;
    std::unique_ptr<Subscriber> subscriber_;
    std::unique_ptr<Process> daemon_;
};

// Issue #21, item 4: one entry for many endpoints, each a source of its own.
TEST(ManyEndpoints, OneEntryPollsEveryEndpointAsASourceOfItsOwn) {
    TempDir dir;
    Broker broker{Broker::Options{.persistence = false}};
    broker.start();
    std::vector<std::unique_ptr<Process>> sims;
    std::string hosts;
    for (int i = 0; i < 3; ++i) {
        const int port = free_port();
        sims.push_back(std::make_unique<Process>(
            std::vector<std::string>{SIM_PATH, "modbus-tcp", "--port", std::to_string(port)},
            dir.file("sim" + std::to_string(i) + ".log")));
        ASSERT_TRUE(sims.back()->wait_for_output("ready", 10s)) << sims.back()->output();
        hosts +=
            (hosts.empty() ? "" : ", ") + std::string("\"127.0.0.1:") + std::to_string(port) + "\"";
    }
    const std::string config = dir.write("nodebridge.yaml", R"(gateway: gw-many
mqtt: { host: 127.0.0.1, port: )" + std::to_string(broker.port()) +
                                                                R"(, buffer: { dir: "" } }
sources:
  - name: pdu-{index}
    type: modbus-tcp
    hosts: [)" + hosts + R"(]
    max_in_flight: 2
    nodes:
      - id: "strip-{index}"
        unit: 1
        poll: 200ms
        attributes:
          voltage: { table: input, address: 0, type: float32, unit: V }
mappings:
  - name: volts
    topic: dc/{source}/{node}/{attribute}
    payload: value
)");
    Subscriber subscriber(broker.port(), {"dc/#"});
    Process daemon({NODEBRIDGED_PATH, "-c", config}, dir.file("daemon.log"));
    for (int i = 1; i <= 3; ++i) {
        const std::string topic =
            "dc/pdu-" + std::to_string(i) + "/strip-" + std::to_string(i) + "/voltage";
        EXPECT_TRUE(subscriber.wait_for_message(topic, 15s).has_value()) << topic << "\n"
                                                                         << daemon.output();
    }
}

// Issue #23, item 2: meters on a noisy 9,600-baud line behind a serial device server, one of
// them dead, read with RTU frames over TCP; every published value is its own unit's.
TEST(RtuOverTcp, PublishesTheMetersBehindASerialServer) {
    TempDir dir;
    Broker broker{Broker::Options{.persistence = false}};
    broker.start();
    Process sim({SIM_PATH, "modbus-rtu", "--tcp-port", "0", "--nodes", "3", "--attributes", "2",
                 "--wire", "--baud", "9600", "--corrupt", "0.05", "--dead", "3", "--seed", "3"},
                dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    std::smatch match;
    const std::string ready = sim.output();
    ASSERT_TRUE(std::regex_search(ready, match, std::regex(R"(tcp 127\.0\.0\.1:(\d+))"))) << ready;
    const std::string config = dir.write("nodebridge.yaml", R"(gateway: gw-rtu
mqtt: { host: 127.0.0.1, port: )" + std::to_string(broker.port()) +
                                                                R"(, buffer: { dir: "" } }
stats: { interval: 1s }
sources:
  - name: boiler-room
    type: modbus-tcp
    host: 127.0.0.1
    port: )" + match[1].str() + R"(
    framing: rtu
    timeout: 300ms
    request_gap: 10ms
    retries: 1
    dead_after: 2
    nodes:
      - { id: meter-1, unit: 1, poll: 500ms, attributes: { a0: { table: input, address: 0, type: float32 }, a1: { table: input, address: 2, type: float32 } } }
      - { id: meter-2, unit: 2, poll: 500ms, attributes: { a0: { table: input, address: 0, type: float32 }, a1: { table: input, address: 2, type: float32 } } }
      - { id: meter-3, unit: 3, poll: 500ms, attributes: { a0: { table: input, address: 0, type: float32 } } }
mappings:
  - name: meters
    topic: plant/{node}/{attribute}
    payload: value
)");
    Subscriber subscriber(broker.port(), {"plant/#", "nodebridge/gw-rtu/stats"});
    Process daemon({NODEBRIDGED_PATH, "-c", config}, dir.file("daemon.log"));
    // Attribute k of unit u is 10 k + u, give or take 0.5 (the simulator's generated devices).
    for (int unit = 1; unit <= 2; ++unit) {
        for (int k = 0; k < 2; ++k) {
            const std::string topic =
                "plant/meter-" + std::to_string(unit) + "/a" + std::to_string(k);
            ASSERT_TRUE(subscriber.wait_for_message(topic, 15s).has_value()) << topic << "\n"
                                                                             << daemon.output();
        }
    }
    ASSERT_TRUE(subscriber.wait_for(
        [](const std::vector<Received>& messages) {
            for (const auto& m : messages) {
                if (m.topic == "nodebridge/gw-rtu/stats" &&
                    m.payload.find("\"timeout\":") != std::string::npos) {
                    return true;
                }
            }
            return false;
        },
        15s))
        << daemon.output();
    std::size_t values = 0;
    for (int unit = 1; unit <= 2; ++unit) {
        for (int k = 0; k < 2; ++k) {
            const std::string topic =
                "plant/meter-" + std::to_string(unit) + "/a" + std::to_string(k);
            for (const auto& message : subscriber.on_topic(topic)) {
                ++values;
                EXPECT_NEAR(std::stod(message.payload), 10.0 * k + unit, 0.51) << topic;
            }
        }
    }
    EXPECT_GE(values, 4u);
    EXPECT_TRUE(subscriber.on_topic("plant/meter-3/a0").empty());
}

// Issue #21, item 5: top -H, perf and the journal tell the threads apart.
TEST_F(ModbusToMqtt, TheDaemonsThreadsAreNamed) {
    start_daemon();
    ASSERT_TRUE(subscriber_->wait_for_message("dc1/gw-test/pdu-1/voltage", 15s).has_value())
        << daemon_log();
    std::multiset<std::string> names;
    const std::string tasks = "/proc/" + std::to_string(daemon_->pid()) + "/task";
    for (const auto& task : std::filesystem::directory_iterator(tasks)) {
        std::string name = read_file(task.path().string() + "/comm");
        while (!name.empty() && name.back() == '\n') name.pop_back();
        names.insert(name);
    }
    EXPECT_EQ(names.count("modbus-tcp"), 1u);
    EXPECT_EQ(names.count("mapping"), 1u);
    EXPECT_EQ(names.count("mqtt"), 1u);
    EXPECT_LE(names.size(), 6u);
}

// Issue #21: an endpoint is a descriptor and one hosts: entry may stand for thousands, so the
// daemon raises its soft open-file limit (1,024 under systemd) to the hard one.
TEST_F(ModbusToMqtt, TheDaemonRaisesItsOpenFileLimitToTheHardOne) {
    rlimit own{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &own), 0);
    if (own.rlim_max <= 1024) GTEST_SKIP() << "the hard limit is 1,024 already";
    rlimit lowered = own;
    lowered.rlim_cur = 1024;  // as systemd starts a service
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
    start_daemon();  // inherits the lowered limit
    setrlimit(RLIMIT_NOFILE, &own);
    ASSERT_TRUE(subscriber_->wait_for_message("dc1/gw-test/pdu-1/voltage", 15s).has_value())
        << daemon_log();
    const std::string limits = read_file("/proc/" + std::to_string(daemon_->pid()) + "/limits");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(limits, match, std::regex(R"(Max open files\s+(\d+)\s+(\d+))")))
        << limits;
    EXPECT_EQ(match[1].str(), match[2].str()) << limits;
    EXPECT_EQ(std::stoull(match[2].str()), own.rlim_max);
}

TEST_F(ModbusToMqtt, PublishesSelectedAttributesWithRuleQosRetainAndPayload) {
    start_daemon();

    auto health = subscriber_->wait_for_message("nodebridge/gw-test/status", 15s, "online");
    ASSERT_TRUE(health.has_value()) << daemon_log();
    EXPECT_TRUE(health->retain);
    EXPECT_EQ(health->qos, 1);

    auto voltage = subscriber_->wait_for_message("dc1/gw-test/pdu-1/voltage", 15s);
    ASSERT_TRUE(voltage.has_value()) << daemon_log();
    EXPECT_EQ(voltage->qos, 1);
    EXPECT_TRUE(voltage->retain);
    const double volts = std::strtod(voltage->payload.c_str(), nullptr);
    EXPECT_GT(volts, 200.0) << voltage->payload;
    EXPECT_LT(volts, 260.0) << voltage->payload;

    auto energy = subscriber_->wait_for_message("dc1/gw-test/pdu-1/energy", 15s);
    ASSERT_TRUE(energy.has_value());
    EXPECT_TRUE(std::regex_match(energy->payload, std::regex(R"(\d+(\.\d+)?)"))) << energy->payload;

    auto breaker = subscriber_->wait_for_message("dc1/gw-test/pdu-1/breaker", 15s);
    ASSERT_TRUE(breaker.has_value());
    EXPECT_EQ(breaker->qos, 2);
    EXPECT_FALSE(breaker->retain);
    EXPECT_TRUE(std::regex_match(
        breaker->payload,
        std::regex(
            R"(\{"node":"pdu-1","ts":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","breaker":true\})")))
        << breaker->payload;

    auto meter = subscriber_->wait_for_message("dc1/gw-test/meters/meter-7", 15s);
    ASSERT_TRUE(meter.has_value());
    EXPECT_EQ(meter->qos, 0);
    EXPECT_FALSE(meter->retain);
    EXPECT_TRUE(std::regex_search(meter->payload, std::regex(R"(^\{"node":"meter-7","ts":")")))
        << meter->payload;
    std::smatch frequency;
    ASSERT_TRUE(
        std::regex_search(meter->payload, frequency, std::regex(R"("frequency":([0-9.]+))")))
        << meter->payload;
    EXPECT_NEAR(std::stod(frequency[1]), 50.0, 1.0);
    EXPECT_TRUE(std::regex_search(meter->payload, std::regex(R"("temperature":-?\d+(\.\d)?[,}])")))
        << meter->payload;

    // Only what the rules select: the power rule does not publish the breaker or the meter.
    for (const Received& message : subscriber_->messages()) {
        EXPECT_EQ(message.topic.find("dc1/gw-test/meter-7/"), std::string::npos) << message.topic;
        if (message.topic == "dc1/gw-test/pdu-1/breaker") {
            EXPECT_EQ(message.payload.front(), '{');
        }
    }

    daemon_->signal(SIGTERM);
    auto offline = subscriber_->wait_for_message("nodebridge/gw-test/status", 15s, "offline");
    ASSERT_TRUE(offline.has_value()) << daemon_log();
    EXPECT_TRUE(offline->retain);
    EXPECT_EQ(daemon_->wait_for_exit(15s), 0) << daemon_log();
}

TEST_F(ModbusToMqtt, StatsTopicReportsSourcesAndBroker) {
    start_daemon();
    ASSERT_TRUE(subscriber_->wait_for(
        [](const std::vector<Received>& messages) {
            for (const auto& m : messages) {
                if (m.topic == "nodebridge/gw-test/stats" &&
                    m.payload.find(R"("pdu-bus":{"nodes_online":2,"nodes_total":2)") !=
                        std::string::npos) {
                    return true;
                }
            }
            return false;
        },
        20s))
        << daemon_log();
    const auto stats = subscriber_->on_topic("nodebridge/gw-test/stats").back();
    EXPECT_TRUE(stats.retain);
    EXPECT_NE(stats.payload.find(R"("broker":{"connected":true)"), std::string::npos)
        << stats.payload;
    for (const char* field : {"\"uptime_s\":", "\"version\":", "\"samples_per_s\":",
                              "\"messages_per_s\":", "\"messages_dropped\":", "\"queue_depth\":",
                              "\"polls\":", "\"errors\":{", "\"last_error\":"}) {
        EXPECT_NE(stats.payload.find(field), std::string::npos) << field << " in " << stats.payload;
    }
}

TEST_F(ModbusToMqtt, LastWillGoesOfflineWhenTheDaemonIsKilled) {
    start_daemon();
    ASSERT_TRUE(subscriber_->wait_for_message("nodebridge/gw-test/status", 15s, "online"))
        << daemon_log();
    daemon_->signal(SIGKILL);
    ASSERT_EQ(daemon_->wait_for_exit(10s), 128 + SIGKILL);
    auto will = subscriber_->wait_for_message("nodebridge/gw-test/status", 20s, "offline");
    ASSERT_TRUE(will.has_value()) << broker_.log();
    EXPECT_TRUE(will->retain);
}

TEST_F(ModbusToMqtt, KeepsPollingAndReconnectsWhenTheBrokerComesBack) {
    start_daemon();
    ASSERT_TRUE(subscriber_->wait_for_message("dc1/gw-test/pdu-1/voltage", 15s)) << daemon_log();
    subscriber_.reset();
    broker_.stop(SIGTERM);
    std::this_thread::sleep_for(1s);
    broker_.start();
    subscriber_ = std::make_unique<Subscriber>(broker_.port(), std::vector<std::string>{"dc1/#"});
    subscriber_->clear();  // drop the retained copies: wait for fresh, live readings
    ASSERT_TRUE(subscriber_->wait_for(
        [](const std::vector<Received>& messages) {
            for (const auto& m : messages) {
                if (m.topic == "dc1/gw-test/meters/meter-7") return true;  // qos 0, never retained
            }
            return false;
        },
        30s))
        << daemon_log();
    EXPECT_TRUE(daemon_->running());
}

TEST_F(ModbusToMqtt, ReloadRefusesABrokenConfigAndAppliesAChangedRuleWithoutReconnecting) {
    start_daemon();
    ASSERT_TRUE(subscriber_->wait_for_message("dc1/gw-test/meters/meter-7", 15s)) << daemon_log();
    const std::string good = read_file(config_path_);

    // A broken edit: every error is logged, the old configuration keeps running.
    dir_.write("nodebridge.yaml", good + "  - name: broken\n    topic: a/{nod}\n    qos: 7\n");
    daemon_->signal(SIGHUP);
    ASSERT_TRUE(daemon_->wait_for_output("reload refused", 10s)) << daemon_log();
    EXPECT_NE(daemon_log().find(config_path_ + ":"), std::string::npos) << daemon_log();
    subscriber_->clear();
    ASSERT_TRUE(subscriber_->wait_for_message("dc1/gw-test/meters/meter-7", 10s)) << daemon_log();
    EXPECT_TRUE(daemon_->running());

    // A changed rule takes effect; the source and the MQTT session are kept.
    dir_.write("nodebridge.yaml", replace_all(good, "topic: dc1/{gateway}/meters/{node}",
                                              "topic: dc1/{gateway}/m/{node}"));
    daemon_->signal(SIGHUP);
    ASSERT_TRUE(daemon_->wait_for_output("reloaded:", 10s)) << daemon_log();
    EXPECT_NE(daemon_log().find("0 sources (re)started, 1 kept; rules replaced; MQTT session kept"),
              std::string::npos)
        << daemon_log();
    ASSERT_TRUE(subscriber_->wait_for_message("dc1/gw-test/m/meter-7", 10s)) << daemon_log();
    int births = 0;
    for (const Received& message : subscriber_->messages()) {
        births += message.topic == "nodebridge/gw-test/status" && message.payload == "online";
    }
    EXPECT_EQ(births, 0) << "no reconnect, so no new birth message since the first clear()";
    daemon_->signal(SIGTERM);
    EXPECT_EQ(daemon_->wait_for_exit(15s), 0) << daemon_log();
}

// Counts the messages on `topic` received so far.
std::size_t count_on(const Subscriber& subscriber, std::string_view topic) {
    return subscriber.on_topic(topic).size();
}

TEST_F(ModbusToMqtt, ReloadKeepsTheStateOfUnchangedRules) {
    // The breakers rule publishes on change only; the simulator's breaker coil stays 1.
    const std::string breakers = "    topic: dc1/{gateway}/{node}/breaker\n";
    std::string config = read_file(config_path_);
    ASSERT_NE(config.find(breakers), std::string::npos);
    config = replace_all(config, breakers, breakers + "    on_change: true\n");
    dir_.write("nodebridge.yaml", config);
    start_daemon();
    ASSERT_TRUE(subscriber_->wait_for_message("dc1/gw-test/pdu-1/breaker", 15s)) << daemon_log();
    // Several more polls of both nodes (200 ms each) send no second breaker message.
    ASSERT_TRUE(subscriber_->wait_for(
        [](const std::vector<Received>& messages) {
            int meters = 0;
            for (const auto& m : messages) meters += m.topic == "dc1/gw-test/meters/meter-7";
            return meters >= 4;
        },
        10s))
        << daemon_log();
    ASSERT_EQ(count_on(*subscriber_, "dc1/gw-test/pdu-1/breaker"), 1u);
    subscriber_->clear();

    // Change only the meters rule.
    dir_.write("nodebridge.yaml", replace_all(config, "topic: dc1/{gateway}/meters/{node}",
                                              "topic: dc1/{gateway}/m/{node}"));
    daemon_->signal(SIGHUP);
    ASSERT_TRUE(daemon_->wait_for_output("reloaded:", 10s)) << daemon_log();
    EXPECT_NE(daemon_log().find("0 sources (re)started, 1 kept; rules replaced; MQTT session kept"),
              std::string::npos)
        << daemon_log();
    // The changed rule takes effect, and pdu-1 is polled again several times meanwhile.
    ASSERT_TRUE(subscriber_->wait_for(
        [](const std::vector<Received>& messages) {
            int meters = 0;
            for (const auto& m : messages) meters += m.topic == "dc1/gw-test/m/meter-7";
            return meters >= 5;
        },
        10s))
        << daemon_log();
    ASSERT_TRUE(subscriber_->wait_for_message("dc1/gw-test/pdu-1/voltage", 5s)) << daemon_log();
    EXPECT_EQ(count_on(*subscriber_, "dc1/gw-test/pdu-1/breaker"), 0u)
        << "the unchanged on_change rule kept its last published value across the reload";
    int births = 0;
    for (const Received& message : subscriber_->messages()) {
        births += message.topic == "nodebridge/gw-test/status" && message.payload == "online";
    }
    EXPECT_EQ(births, 0) << "no reconnect, so no new birth message since the clear()";
    daemon_->signal(SIGTERM);
    EXPECT_EQ(daemon_->wait_for_exit(15s), 0) << daemon_log();
}

// A changed mqtt section replaces the session; the new one must get the spool directory
// back (the old one closes it first), and readings keep flowing.
TEST_F(ModbusToMqtt, ReloadWithAChangedMqttSectionKeepsTheSpool) {
    start_daemon();
    ASSERT_TRUE(subscriber_->wait_for_message("dc1/gw-test/pdu-1/voltage", 15s)) << daemon_log();
    const std::string config = read_file(config_path_);
    ASSERT_NE(config.find("keepalive: 5s"), std::string::npos);
    dir_.write("nodebridge.yaml", replace_all(config, "keepalive: 5s", "keepalive: 7s"));
    daemon_->signal(SIGHUP);
    ASSERT_TRUE(daemon_->wait_for_output("MQTT session reconnected", 20s)) << daemon_log();
    subscriber_->clear();
    ASSERT_TRUE(subscriber_->wait_for(
        [](const std::vector<Received>& messages) {
            for (const auto& m : messages) {
                if (m.topic == "nodebridge/gw-test/stats" &&
                    m.payload.find("\"spool\":{\"active\":true") != std::string::npos) {
                    return true;
                }
            }
            return false;
        },
        15s))
        << daemon_log();
    EXPECT_TRUE(subscriber_->wait_for_message("dc1/gw-test/pdu-1/energy", 10s)) << daemon_log();
    EXPECT_EQ(daemon_log().find("in use by another process"), std::string::npos) << daemon_log();
}

}  // namespace
}  // namespace nodebridge::test
