// Issue #23, item 1, end to end: nodebridge-sim serving Modbus TCP behind a relay that logs
// every read reply (ModbusTap), nodebridged reading some attributes every 200 ms and others
// every second, mosquitto and a subscriber. The messages per attribute match the attributes'
// intervals within one poll, and the relay's log shows the reads coalesced by interval only.

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <map>
#include <regex>
#include <thread>

#include "modbus_tap.hpp"
#include "support/support.hpp"

namespace nodebridge::test {
namespace {

// The simulator's pdu (unit 1): float32 voltage, current and power at input 0, 2 and 4,
// energy as uint32 at holding 100 (src/sim/README.md). Power sits right after current, so
// without intervals one read of input 0..5 would fetch all three.
constexpr const char* kConfig = R"(gateway: gw-intervals
mqtt:
  host: 127.0.0.1
  port: @MQTT@
  keepalive: 5s
  buffer: { dir: @SPOOL@ }
sources:
  - name: pdu-bus
    type: modbus-tcp
    host: 127.0.0.1
    port: @MODBUS@
    timeout: 500ms
    nodes:
      - id: pdu-1
        unit: 1
        poll: 200ms
        attributes:
          voltage: { table: input, address: 0, type: float32, unit: V }
          current: { table: input, address: 2, type: float32, unit: A }
          power:   { table: input, address: 4, type: float32, unit: W, poll: 1s }
          energy:  { table: holding, address: 100, type: uint32, scale: 0.001, unit: kWh, poll: 1s }
mappings:
  - name: every-reading
    topic: iv/{node}/{attribute}
    payload: value
    qos: 0
)";

int ready_port(const std::string& output) {
    std::smatch match;
    if (!std::regex_search(output, match, std::regex(R"(ready modbus-tcp [0-9.]+:(\d+))")))
        return 0;
    return std::stoi(match[1]);
}

std::string kind(const TappedReply& reply) {
    return std::to_string(reply.function) + ":" + std::to_string(reply.start) + "+" +
           std::to_string(reply.words.size());
}

TEST(AttributeIntervals, EachAttributeIsReadAndPublishedAtItsOwnInterval) {
    TempDir dir;
    Broker broker;
    broker.start();
    Process sim({SIM_PATH, "modbus-tcp", "--port", "0"}, dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    const int sim_port = ready_port(sim.output());
    ASSERT_NE(sim_port, 0) << sim.output();
    ModbusTap tap(sim_port);

    std::string config = replace_all(kConfig, "@MQTT@", std::to_string(broker.port()));
    config = replace_all(config, "@SPOOL@", dir.file("spool"));
    config = replace_all(config, "@MODBUS@", std::to_string(tap.port()));
    Subscriber subscriber(broker.port(), {"iv/#"});
    Process daemon({NODEBRIDGED_PATH, "-c", dir.write("nodebridge.yaml", config)},
                   dir.file("daemon.log"));
    ASSERT_TRUE(subscriber.wait_for_message("iv/pdu-1/energy", 10s)) << daemon.output();

    // A window of 3 s, counted from here: 15 fast polls and 3 slow ones, each +-1.
    subscriber.clear();
    const std::size_t replies_before = tap.replies().size();
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(3s);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::vector<Received> messages = subscriber.messages();
    const std::vector<TappedReply> replies = tap.replies();

    std::map<std::string, int> published;
    for (const Received& message : messages) ++published[message.topic];
    const double fast = seconds / 0.2;
    const double slow = seconds / 1.0;
    EXPECT_NEAR(published["iv/pdu-1/voltage"], fast, 1.5) << daemon.output();
    EXPECT_NEAR(published["iv/pdu-1/current"], fast, 1.5);
    EXPECT_NEAR(published["iv/pdu-1/power"], slow, 1.5);
    EXPECT_NEAR(published["iv/pdu-1/energy"], slow, 1.5);

    // The request log: input 0..3 (voltage and current) every 200 ms; input 4..5 (power) and
    // holding 100..101 (energy) every second; never a read that mixes the two intervals.
    std::map<std::string, int> reads;
    for (std::size_t i = replies_before; i < replies.size(); ++i) ++reads[kind(replies[i])];
    EXPECT_NEAR(reads["4:0+4"], fast, 1.5);
    EXPECT_NEAR(reads["4:4+2"], slow, 1.5);
    EXPECT_NEAR(reads["3:100+2"], slow, 1.5);
    for (const TappedReply& reply : replies) {
        const std::string what = kind(reply);
        EXPECT_TRUE(what == "4:0+4" || what == "4:4+2" || what == "3:100+2") << what;
    }
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait_for_exit(10s), 0) << daemon.output();
}

}  // namespace
}  // namespace nodebridge::test
