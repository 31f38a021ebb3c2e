// Register bits (`bit:`) and forced read functions (`function: 3|4`) end to end: nodebridge-sim
// on its wire-accurate RTU line (--wire, 19200 baud) serves a device whose input and holding
// tables hold different values at the same addresses, nodebridged polls it, and a subscriber
// on a real mosquitto checks that every message carries the value of the right table and bit.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "support/support.hpp"

namespace nodebridge::test {
namespace {

// Unit 3. Holding 7 = 0x00A9 (bits 0, 3, 5, 7 set); holding 9 = 0x0001, read byte-swapped as
// 0x0100; input 8 = 0x8000 (bit 15 only). Addresses 10 and 20 hold different values in the
// input and holding tables, so a read from the wrong table shows.
constexpr const char* kDevices = R"(devices:
  - unit: 3
    points:
      - { table: holding, address: 7, type: uint16, value: 169 }
      - { table: holding, address: 9, type: uint16, value: 1 }
      - { table: input, address: 8, type: uint16, value: 32768 }
      - { table: input, address: 10, type: uint16, value: 1111 }
      - { table: holding, address: 10, type: uint16, value: 2222 }
      - { table: input, address: 20, type: float32, value: 3.5 }
      - { table: holding, address: 20, type: float32, value: -7.25 }
)";

constexpr const char* kConfig = R"(gateway: gw-test
mqtt:
  host: 127.0.0.1
  port: @MQTT@
  keepalive: 5s
  buffer: { dir: @SPOOL@ }
sources:
  - name: line
    type: modbus-rtu
    device: @LINK@
    baud: 19200
    parity: none
    timeout: 300ms
    nodes:
      - id: plc-3
        unit: 3
        poll: 200ms
        attributes:
          run:        { table: holding, address: 7, bit: 0 }
          idle:       { table: holding, address: 7, bit: 1 }
          fault:      { table: holding, address: 7, bit: 3 }
          high:       { table: holding, address: 7, bit: 7 }
          top:        { table: holding, address: 7, bit: 15 }
          swapped_hi: { table: holding, address: 9, bit: 8, byte_swap: true }
          swapped_lo: { table: holding, address: 9, bit: 0, byte_swap: true }
          alarm:      { table: input, address: 8, bit: 15 }
          ok:         { table: input, address: 8, bit: 0 }
          by_fc4:     { table: holding, address: 10, type: uint16, function: 4 }
          by_fc3:     { table: input, address: 10, type: uint16, function: 3 }
          input_20:   { table: input, address: 20, type: float32 }
          holding_20: { table: holding, address: 20, type: float32 }
mappings:
  - topic: plc/{gateway}/{node}/{attribute}
    payload: value
)";

TEST(ModbusRtuWireToMqtt, BitsAndReadFunctionsArriveWithTheirTablesValues) {
    TempDir dir;
    Broker broker;
    broker.start();
    Subscriber subscriber(broker.port(), {"plc/#"});
    const std::string link = dir.file("ttySIM0");
    Process sim({SIM_PATH, "modbus-rtu", "--link", link, "--wire", "--baud", "19200", "--devices",
                 dir.write("devices.yaml", kDevices)},
                dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready modbus-rtu", 10s)) << sim.output();
    const std::string config =
        replace_all(replace_all(replace_all(kConfig, "@MQTT@", std::to_string(broker.port())),
                                "@SPOOL@", dir.file("spool")),
                    "@LINK@", link);
    Process daemon({NODEBRIDGED_PATH, "-c", dir.write("nodebridge.yaml", config)},
                   dir.file("daemon.log"));

    const std::map<std::string, std::string> expected = {
        {"run", "true"},         {"idle", "false"},  {"fault", "true"},
        {"high", "true"},        {"top", "false"},   {"swapped_hi", "true"},
        {"swapped_lo", "false"}, {"alarm", "true"},  {"ok", "false"},
        {"by_fc4", "1111"},      {"by_fc3", "2222"}, {"input_20", "3.5"},
        {"holding_20", "-7.25"},
    };
    const std::string prefix = "plc/gw-test/plc-3/";
    // Every attribute arrives from at least three polls.
    const bool arrived = subscriber.wait_for(
        [&](const std::vector<Received>& messages) {
            std::map<std::string, int> seen;
            for (const Received& message : messages) ++seen[message.topic];
            for (const auto& [name, value] : expected) {
                if (seen[prefix + name] < 3) return false;
            }
            return true;
        },
        20s);
    ASSERT_TRUE(arrived) << daemon.output();
    // And every message carries its table's and bit's value: none from the wrong table.
    for (const Received& message : subscriber.messages()) {
        ASSERT_TRUE(message.topic.starts_with(prefix)) << message.topic;
        const auto want = expected.find(message.topic.substr(prefix.size()));
        ASSERT_NE(want, expected.end()) << message.topic;
        EXPECT_EQ(message.payload, want->second) << message.topic;
    }
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait_for_exit(10s), 0) << daemon.output();
}

}  // namespace
}  // namespace nodebridge::test
