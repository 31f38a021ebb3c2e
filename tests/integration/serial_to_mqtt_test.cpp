// Wireless nodes and Modbus RTU end to end over real pseudo-terminals: nodebridge-sim
// (serial-nodes or modbus-rtu) on a pty link, nodebridged reading it, mosquitto, and a
// subscriber asserting what arrives, including unplugging, a receiver plugged in after the
// daemon started, and node availability.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include "support/support.hpp"

namespace nodebridge::test {
namespace {

namespace fs = std::filesystem;

// @SOURCE@ is replaced by the source's keys (indented by 4 spaces).
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
  - name: radio
@SOURCE@
mappings:
  - name: readings
    match: { source: radio }
    topic: wl/{gateway}/{node}/{attribute}
    payload: value
    availability_topic: wl/{gateway}/{node}/available
  - name: rssi
    match: { source: radio }
    attributes: [rssi]
    topic: wl/{gateway}/{node}/rssi-json
    availability_topic: wl/{gateway}/{node}/available
)";

std::string serial_source(const std::string& link, const std::string& format,
                          const std::string& extra = "") {
    std::string keys = "    type: serial-nodes\n    device: " + link +
                       "\n    baud: 115200\n    format: " + format + "\n";
    if (format == "csv") {
        keys +=
            "    columns: [node, voltage, current, power, energy, pf, temperature, humidity, "
            "rssi]\n";
    }
    return keys + extra;
}

bool is_number(const std::string& text) {
    char* end = nullptr;
    std::strtod(text.c_str(), &end);
    return !text.empty() && end == text.c_str() + text.size();
}

class SerialToMqtt : public ::testing::Test {
  protected:
    void SetUp() override {
        broker_.start();
        subscriber_ = std::make_unique<Subscriber>(
            broker_.port(), std::vector<std::string>{"wl/#", "rtu/#", "nodebridge/#"});
    }

    void TearDown() override {
        // Stop the daemon first, so its last messages do not race the broker going away.
        if (daemon_) {
            daemon_->signal(SIGTERM);
            daemon_->wait_for_exit(10s);
        }
    }

    // nodebridge-sim serial-nodes on link_, reporting every 100 ms without garbage.
    void start_sim(const std::string& format, std::vector<std::string> extra = {}) {
        std::vector<std::string> argv{SIM_PATH,   "serial-nodes", "--link",     link_,
                                      "--format", format,         "--interval", "100ms",
                                      "--seed",   "11",           "--garbage",  "0"};
        if (std::find(extra.begin(), extra.end(), "--dropouts") == extra.end()) {
            extra.insert(extra.end(), {"--dropouts", "no"});
        }
        argv.insert(argv.end(), extra.begin(), extra.end());
        sim_ =
            std::make_unique<Process>(argv, dir_.file("sim-" + std::to_string(++sims_) + ".log"));
        ASSERT_TRUE(sim_->wait_for_output("ready serial-nodes", 10s)) << sim_->output();
    }

    void start_daemon(const std::string& source_keys) {
        const std::string config =
            replace_all(replace_all(replace_all(kConfig, "@MQTT@", std::to_string(broker_.port())),
                                    "@SOURCE@", source_keys),
                        "@SPOOL@", dir_.file("spool"));
        const std::string path = dir_.write("nodebridge.yaml", config);
        daemon_ = std::make_unique<Process>(
            std::vector<std::string>{NODEBRIDGED_PATH, "-c", path, "--log-level", "debug"},
            dir_.file("daemon.log"));
    }

    std::string daemon_log() const { return daemon_ ? daemon_->output() : ""; }

    // Every availability message received so far, one per line, for failure messages.
    std::string available_log() const {
        std::string out;
        for (const Received& m : subscriber_->messages()) {
            if (m.topic.ends_with("/available")) out += m.topic + " " + m.payload + "\n";
        }
        return out;
    }

    // Waits until a message with `payload` has arrived on `topic` after message number
    // `after` (an index into messages()).
    bool wait_after(std::size_t after, const std::string& topic, const std::string& payload,
                    Millis timeout) {
        return subscriber_->wait_for(
            [&](const std::vector<Received>& messages) {
                for (std::size_t i = after; i < messages.size(); ++i) {
                    if (messages[i].topic == topic && messages[i].payload == payload) return true;
                }
                return false;
            },
            timeout);
    }

    TempDir dir_;
    std::string link_ = dir_.file("ttyRX");
    Broker broker_;
    std::unique_ptr<Subscriber> subscriber_;
    std::unique_ptr<Process> sim_;
    std::unique_ptr<Process> daemon_;
    int sims_ = 0;
};

// ---- one test per format -----------------------------------------------------------------

struct FormatCase {
    std::string format;
    std::string temperature;  // the attribute name an environmental monitor's temperature gets
};

// Names the case in test listings (ctest shows GetParam()).
void PrintTo(const FormatCase& param, std::ostream* out) { *out << param.format; }

class SerialFormats : public SerialToMqtt, public ::testing::WithParamInterface<FormatCase> {};

TEST_P(SerialFormats, PublishesReadingsAndAvailabilityOfEveryNode) {
    const FormatCase& param = GetParam();
    start_sim(param.format, {"--nodes", "4"});
    start_daemon(serial_source(link_, param.format));

    // Node 0A1B00 is a power monitor, 0A1B01 an environmental one.
    auto voltage = subscriber_->wait_for_message("wl/gw-test/0A1B00/voltage", 15s);
    ASSERT_TRUE(voltage.has_value()) << daemon_log();
    EXPECT_TRUE(is_number(voltage->payload)) << voltage->payload;
    EXPECT_NEAR(std::strtod(voltage->payload.c_str(), nullptr), 230, 10);
    EXPECT_EQ(voltage->qos, 0);
    EXPECT_FALSE(voltage->retain);

    auto temperature = subscriber_->wait_for_message("wl/gw-test/0A1B01/" + param.temperature, 15s);
    ASSERT_TRUE(temperature.has_value()) << daemon_log();
    EXPECT_NEAR(std::strtod(temperature->payload.c_str(), nullptr), 20, 10) << temperature->payload;

    auto rssi = subscriber_->wait_for_message("wl/gw-test/0A1B02/rssi-json", 15s);
    ASSERT_TRUE(rssi.has_value()) << daemon_log();
    EXPECT_TRUE(std::regex_match(rssi->payload,
                                 std::regex(R"(\{"node":"0A1B02","ts":"[^"]+Z","rssi":-\d+\})")))
        << rssi->payload;

    // Every node is announced online once (two rules share the topic), retained at QoS 1.
    for (const char* node : {"0A1B00", "0A1B01", "0A1B02", "0A1B03"}) {
        const std::string topic = std::string("wl/gw-test/") + node + "/available";
        auto online = subscriber_->wait_for_message(topic, 10s, "online");
        ASSERT_TRUE(online.has_value()) << topic << "\n" << daemon_log();
        EXPECT_EQ(online->qos, 1);
        EXPECT_TRUE(online->retain);
        EXPECT_EQ(subscriber_->on_topic(topic).size(), 1u) << topic;
    }
    // The JSON decoder's nested objects and the CSV's empty fields never become attributes
    // of the wrong node type.
    for (const Received& message : subscriber_->messages()) {
        EXPECT_EQ(message.topic.find("0A1B01/voltage"), std::string::npos) << message.topic;
        EXPECT_EQ(message.topic.find("0A1B00/humidity"), std::string::npos) << message.topic;
    }
}

INSTANTIATE_TEST_SUITE_P(Formats, SerialFormats,
                         ::testing::Values(FormatCase{"kv", "temperature"},
                                           FormatCase{"json", "env.temperature"},
                                           FormatCase{"csv", "temperature"}),
                         [](const auto& info) { return info.param.format; });

// ---- lifecycle -------------------------------------------------------------------------------

TEST_F(SerialToMqtt, StatsListTheNodesOfTheSerialSource) {
    start_sim("kv", {"--nodes", "2"});
    start_daemon(serial_source(link_, "kv"));
    ASSERT_TRUE(subscriber_->wait_for(
        [](const std::vector<Received>& messages) {
            for (const auto& m : messages) {
                if (m.topic == "nodebridge/gw-test/stats" &&
                    m.payload.find(R"("radio":{"nodes_online":2,"nodes_total":2,)"
                                   R"("nodes":{"0A1B00":"online","0A1B01":"online"})") !=
                        std::string::npos) {
                    return true;
                }
            }
            return false;
        },
        15s))
        << daemon_log();
}

TEST_F(SerialToMqtt, PicksUpAReceiverPluggedInAfterTheDaemonStarted) {
    start_daemon(serial_source(link_, "kv"));
    ASSERT_TRUE(subscriber_->wait_for_message("nodebridge/gw-test/status", 15s, "online"))
        << daemon_log();
    std::this_thread::sleep_for(1500ms);  // the daemon has tried and failed to open the link
    EXPECT_TRUE(daemon_->running());
    EXPECT_TRUE(subscriber_->on_topic("wl/gw-test/0A1B00/voltage").empty());

    start_sim("kv", {"--nodes", "2"});
    ASSERT_TRUE(subscriber_->wait_for_message("wl/gw-test/0A1B00/voltage", 15s)) << daemon_log();
    ASSERT_TRUE(subscriber_->wait_for_message("wl/gw-test/0A1B01/available", 5s, "online"));
}

TEST_F(SerialToMqtt, SurvivesUnplugAndReplugAndReportsAvailability) {
    start_sim("kv", {"--nodes", "2"});
    start_daemon(serial_source(link_, "kv", "    offline_after: 1s\n"));
    ASSERT_TRUE(subscriber_->wait_for_message("wl/gw-test/0A1B00/available", 15s, "online"))
        << daemon_log();
    ASSERT_TRUE(subscriber_->wait_for_message("wl/gw-test/0A1B01/available", 5s, "online"));
    ASSERT_TRUE(subscriber_->wait_for_message("wl/gw-test/0A1B00/voltage", 5s));

    // Unplugged the hard way: the receiver dies, then its device node disappears.
    sim_->signal(SIGKILL);
    ASSERT_TRUE(sim_->wait_for_exit(5s).has_value());
    std::error_code ignored;
    fs::remove(link_, ignored);
    const std::size_t before = subscriber_->messages().size();
    ASSERT_TRUE(wait_after(before, "wl/gw-test/0A1B00/available", "offline", 10s)) << daemon_log();
    ASSERT_TRUE(wait_after(before, "wl/gw-test/0A1B01/available", "offline", 5s))
        << available_log() << daemon_log();
    EXPECT_TRUE(daemon_->running());

    // Plugged back in on the same path: readings and availability return.
    const std::size_t replugged = subscriber_->messages().size();
    start_sim("kv", {"--nodes", "2"});
    ASSERT_TRUE(wait_after(replugged, "wl/gw-test/0A1B00/available", "online", 15s))
        << daemon_log();
    ASSERT_TRUE(subscriber_->wait_for(
        [&](const std::vector<Received>& messages) {
            for (std::size_t i = replugged; i < messages.size(); ++i) {
                if (messages[i].topic == "wl/gw-test/0A1B01/temperature") return true;
            }
            return false;
        },
        10s))
        << daemon_log();
    EXPECT_NE(daemon_log().find("reopened"), std::string::npos) << daemon_log();
}

TEST_F(SerialToMqtt, NodesThatFallSilentGoOfflineAndComeBackOnline) {
    // Simulated dropouts: a node falls silent for 3 to 8 reporting intervals (300..800 ms),
    // longer than offline_after.
    start_sim("kv", {"--nodes", "10", "--dropouts", "yes"});
    start_daemon(serial_source(link_, "kv", "    offline_after: 250ms\n"));
    std::string node;
    ASSERT_TRUE(subscriber_->wait_for(
        [&](const std::vector<Received>& messages) {
            std::set<std::string> went_offline;
            for (const auto& m : messages) {
                if (!m.topic.ends_with("/available")) continue;
                if (m.payload == "offline") went_offline.insert(m.topic);
                if (m.payload == "online" && went_offline.contains(m.topic)) {
                    node = m.topic;
                    return true;
                }
            }
            return false;
        },
        25s))
        << daemon_log();
    // Its readings resume after it is back.
    const auto back = subscriber_->messages();
    std::size_t online_at = 0;
    for (std::size_t i = 0; i < back.size(); ++i) {
        if (back[i].topic == node && back[i].payload == "online") online_at = i;
    }
    const std::string prefix = node.substr(0, node.size() - std::string("available").size());
    ASSERT_TRUE(subscriber_->wait_for(
        [&](const std::vector<Received>& messages) {
            for (std::size_t i = online_at; i < messages.size(); ++i) {
                if (messages[i].topic.starts_with(prefix) && messages[i].topic.ends_with("/rssi")) {
                    return true;
                }
            }
            return false;
        },
        5s))
        << node;
}

// ---- Modbus RTU over a pty -------------------------------------------------------------------

TEST(ModbusRtuToMqtt, PollsTheRtuSimulatorThroughTheDaemon) {
    TempDir dir;
    Broker broker;
    broker.start();
    Subscriber subscriber(broker.port(), {"rtu/#"});
    const std::string link = dir.file("ttySIM0");
    Process sim({SIM_PATH, "modbus-rtu", "--link", link}, dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready modbus-rtu", 10s)) << sim.output();

    const std::string config =
        "gateway: gw-test\n"
        "mqtt: { host: 127.0.0.1, port: " +
        std::to_string(broker.port()) +
        ", keepalive: 5s, buffer: { dir: " +
        dir.file("spool") +
        " } }\n"
        "sources:\n"
        "  - name: meters\n"
        "    type: modbus-rtu\n"
        "    device: " +
        link +
        "\n"
        "    baud: 19200\n"
        "    parity: even\n"
        "    timeout: 300ms\n"
        "    offline_after: 1s\n"
        "    nodes:\n"
        "      - id: meter-7\n"
        "        unit: 7\n"
        "        poll: 200ms\n"
        "        attributes:\n"
        "          frequency: { table: input, address: 70, type: float32,"
        " word_order: little, unit: Hz }\n"
        "      - id: dead-9\n"
        "        unit: 9\n"
        "        poll: 500ms\n"
        "        attributes:\n"
        "          frequency: { table: input, address: 70, type: float32 }\n"
        "mappings:\n"
        "  - topic: rtu/{gateway}/{node}/{attribute}\n"
        "    payload: value\n"
        "    availability_topic: rtu/{gateway}/{node}/available\n";
    Process daemon({NODEBRIDGED_PATH, "-c", dir.write("nodebridge.yaml", config)},
                   dir.file("daemon.log"));

    auto frequency = subscriber.wait_for_message("rtu/gw-test/meter-7/frequency", 15s);
    ASSERT_TRUE(frequency.has_value()) << daemon.output();
    EXPECT_NEAR(std::strtod(frequency->payload.c_str(), nullptr), 50, 1) << frequency->payload;
    EXPECT_TRUE(subscriber.wait_for_message("rtu/gw-test/meter-7/available", 5s, "online"));
    // Unit 9 has no device behind it: it never answers and is offline after 1 s.
    auto dead = subscriber.wait_for_message("rtu/gw-test/dead-9/available", 10s);
    ASSERT_TRUE(dead.has_value()) << daemon.output();
    EXPECT_EQ(dead->payload, "offline");
    EXPECT_TRUE(dead->retain);

    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait_for_exit(10s), 0) << daemon.output();
}

}  // namespace
}  // namespace nodebridge::test
