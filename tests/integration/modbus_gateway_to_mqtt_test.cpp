// nodebridged with four requests in flight per connection, reading through simulated Modbus
// TCP-to-RTU gateways that answer one request at a time (nodebridge-sim --rtu-gateway): every
// reading of every node arrives on MQTT with its own unit's values (issue #21).

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>

#include "support/support.hpp"

namespace nodebridge::test {
namespace {

// The ports of "ready modbus-tcp HOST:PORT units ... ports P1,P2".
std::vector<int> ready_ports(const std::string& output) {
    std::smatch match;
    std::vector<int> ports;
    if (!std::regex_search(output, match, std::regex(R"( ports (\d+),(\d+))"))) return ports;
    ports.push_back(std::stoi(match[1]));
    ports.push_back(std::stoi(match[2]));
    return ports;
}

// Two endpoints (one simulator, --ports 2) of 8 units x 4 float32 attributes behind one
// gateway line of 20 ms a request, so 32 polls a second take 640 ms of each second; polled
// every 500 ms with max_in_flight 4 from one hosts: entry. In 3 s every node publishes its
// six readings, each with the values its own unit serves (attribute k of unit u is 10 k + u
// +- 0.5), so no reply went to another request.
TEST(ModbusGatewayToMqtt, FourInFlightThroughAOneAtATimeGatewayDeliversEveryReading) {
    TempDir dir;
    Broker broker{Broker::Options{.persistence = false}};
    broker.start();
    Process sim({SIM_PATH, "modbus-tcp", "--port", "0", "--ports", "2", "--nodes", "8",
                 "--attributes", "4", "--rtu-gateway", "--turnaround", "20ms"},
                dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    const std::vector<int> ports = ready_ports(sim.output());
    ASSERT_EQ(ports.size(), 2u) << sim.output();
    const std::string config = dir.write("nodebridge.yaml", R"(gateway: gw
mqtt: { host: 127.0.0.1, port: )" + std::to_string(broker.port()) +
                                                                R"(, buffer: { dir: "" } }
sources:
  - name: line-{index}
    type: modbus-tcp
    hosts: ["127.0.0.1:)" + std::to_string(ports[0]) + R"(", "127.0.0.1:)" +
                                                                std::to_string(ports[1]) + R"("]
    max_in_flight: 4
    timeout: 1s
    nodes:
      - id: "u{unit}"
        units: 1-8
        poll: 500ms
        attributes:
          a0: { table: input, address: 0, type: float32 }
          a1: { table: input, address: 2, type: float32 }
          a2: { table: input, address: 4, type: float32 }
          a3: { table: input, address: 6, type: float32 }
mappings:
  - name: all
    topic: t/{source}/{node}
    payload: json
    qos: 0
)");
    Subscriber subscriber(broker.port(), {"t/#"});
    Process daemon({NODEBRIDGED_PATH, "-c", config, "--log-level", "warning"},
                   dir.file("daemon.log"));
    auto topic = [](int line, int unit) {
        return "t/line-" + std::to_string(line) + "/u" + std::to_string(unit);
    };
    for (int line = 1; line <= 2; ++line) {
        for (int unit = 1; unit <= 8; ++unit) {
            ASSERT_TRUE(subscriber.wait_for_message(topic(line, unit), 15s).has_value())
                << topic(line, unit) << "\n"
                << daemon.output();
        }
    }
    subscriber.clear();
    std::this_thread::sleep_for(3s);
    const auto messages = subscriber.messages();
    std::map<std::string, int> per_topic;
    const std::regex value(R"re("a(\d)":(-?[0-9.eE+-]+))re");
    for (const auto& message : messages) {
        ++per_topic[message.topic];
        const int unit = std::stoi(message.topic.substr(message.topic.rfind('u') + 1));
        int seen = 0;
        for (std::sregex_iterator it(message.payload.begin(), message.payload.end(), value), end;
             it != end; ++it) {
            const int k = std::stoi((*it)[1]);
            EXPECT_NEAR(std::stod((*it)[2]), 10.0 * k + unit, 0.51)
                << message.topic << ": " << message.payload;
            ++seen;
        }
        EXPECT_EQ(seen, 4) << message.topic << ": " << message.payload;
    }
    for (int line = 1; line <= 2; ++line) {
        for (int unit = 1; unit <= 8; ++unit) {
            // Six polls in 3 s; the window's edges may cut one.
            EXPECT_GE(per_topic[topic(line, unit)], 5) << topic(line, unit);
            EXPECT_LE(per_topic[topic(line, unit)], 7) << topic(line, unit);
        }
    }
    EXPECT_EQ(daemon.output().find("timeout"), std::string::npos) << daemon.output();
}

}  // namespace
}  // namespace nodebridge::test
