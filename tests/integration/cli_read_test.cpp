// nodebridge read against the simulator (issue #22): a node read once from a config prints
// the values the simulator serves, the daemon publishes the very same values for that node,
// a register the device does not map shows "illegal data address" on its attribute only,
// and the table and --watch show what they promise.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <regex>

#include "support/json.hpp"
#include "support/support.hpp"

namespace nodebridge::test {
namespace {

// Constant values, so what read prints and what the daemon publishes can be compared exactly.
constexpr const char* kDevices = R"(devices:
  - unit: 4
    sizes: { input: 40, holding: 40 }
    unmapped: [{ table: input, from: 20, to: 21 }]
    points:
      - { table: input, address: 0, type: float32, value: 230.5 }
      - { table: input, address: 2, type: uint32, word_order: little, value: 123456 }
      - { table: holding, address: 10, type: int16, value: -215 }
      - { table: holding, address: 12, type: uint16, value: 2 }
)";

constexpr const char* kConfig = R"(gateway: gw-read
mqtt:
  host: 127.0.0.1
  port: @MQTT@
  keepalive: 5s
  buffer: { dir: @SPOOL@ }
sources:
  - name: bus
    type: modbus-tcp
    host: 127.0.0.1
    port: @MODBUS@
    timeout: 500ms
    max_gap: 30
    nodes:
      - id: meter
        unit: 4
        poll: 200ms
        attributes:
          voltage: { table: input, address: 0, type: float32, unit: V }
          energy: { table: input, address: 2, type: uint32, word_order: little, scale: 0.01, unit: kWh }
          temperature: { table: holding, address: 10, type: int16, scale: 0.1, unit: "°C" }
          mode: { table: holding, address: 12, type: uint16, states: { 1: normal, 2: battery } }
          missing: { table: input, address: 20, type: float32 }
mappings:
  - name: each
    match: { source: bus }
    topic: read/{node}/{attribute}
    payload: value
    qos: 0
)";

int sim_port(const Process& sim) {
    std::smatch match;
    const std::string output = sim.output();
    if (!std::regex_search(output, match, std::regex(R"(ready modbus-tcp [0-9.]+:(\d+))")))
        return 0;
    return std::stoi(match[1]);
}

struct Fixture {
    TempDir dir;
    std::unique_ptr<Process> sim;
    std::string config;
    std::string models;  // an empty model dir: the config describes its node itself

    explicit Fixture(int mqtt_port) {
        sim = std::make_unique<Process>(
            std::vector<std::string>{SIM_PATH, "modbus-tcp", "--port", "0", "--devices",
                                     dir.write("devices.yaml", kDevices)},
            dir.file("sim.log"));
        if (!sim->wait_for_output("ready", 10s)) throw std::runtime_error(sim->output());
        std::string text = replace_all(kConfig, "@MQTT@", std::to_string(mqtt_port));
        text = replace_all(text, "@SPOOL@", dir.file("spool"));
        text = replace_all(text, "@MODBUS@", std::to_string(sim_port(*sim)));
        config = dir.write("nodebridge.yaml", text);
        models = dir.file("models");
        std::filesystem::create_directories(models);
    }

    std::pair<std::optional<int>, std::string> read(std::vector<std::string> args,
                                                    Millis timeout = 20s) {
        args.insert(args.begin(), NODEBRIDGE_CLI_PATH);
        args.insert(args.end(), {"--model-dir", models});
        Process cli(args, dir.file("read.log"));
        const auto code = cli.wait_for_exit(timeout);
        return {code, cli.output()};
    }
};

TEST(CliRead, PrintsWhatTheDaemonPublishesAndTheSimulatorServes) {
    Broker broker;
    broker.start();
    Fixture f(broker.port());
    const auto [code, output] = f.read({"read", "-c", f.config, "meter", "--json"});
    ASSERT_EQ(code, 0) << output;
    std::string error;
    const auto json = parse_json(output, &error);
    ASSERT_TRUE(json) << error << "\n" << output;
    std::map<std::string, const Json*> by_name;
    for (const Json& attribute : json->find("attributes")->array())
        by_name[attribute.text("name")] = &attribute;
    ASSERT_EQ(by_name.size(), 5u) << output;
    // The simulator's values under the config's descriptions.
    EXPECT_EQ(by_name["voltage"]->find("value")->number(), 230.5);
    EXPECT_EQ(by_name["voltage"]->text("raw"), "0x4366 0x8000");
    EXPECT_EQ(by_name["energy"]->find("value")->number(), 1234.56);
    EXPECT_EQ(by_name["energy"]->text("raw"), "0xE240 0x0001");  // low word first
    EXPECT_EQ(by_name["temperature"]->find("value")->number(), -21.5);
    EXPECT_EQ(by_name["mode"]->text("value"), "battery");
    // The unmapped register fails alone: the joined read was split as the daemon splits it.
    EXPECT_FALSE(by_name["missing"]->find("value")->is_number());
    EXPECT_EQ(by_name["missing"]->text("error"), "illegal data address (exception 2)");
    EXPECT_FALSE(by_name["voltage"]->find("error")->is_string());

    // The daemon publishes the same values for the same node.
    Subscriber subscriber(broker.port(), {"read/#"});
    Process daemon({NODEBRIDGED_PATH, "-c", f.config, "--model-dir", f.models},
                   f.dir.file("daemon.log"));
    for (const std::string name : {"voltage", "energy", "temperature", "mode"}) {
        const auto message = subscriber.wait_for_message("read/meter/" + name, 15s);
        ASSERT_TRUE(message) << name << "\n" << daemon.output();
        const Json& value = *by_name[name]->find("value");
        if (value.is_string()) {
            EXPECT_EQ(message->payload, value.string()) << name;
        } else {
            EXPECT_EQ(std::stod(message->payload), value.number()) << name;
        }
    }
    EXPECT_TRUE(subscriber.on_topic("read/meter/missing").empty());
}

TEST(CliRead, TheTableShowsErrorsInlineAndTcpNeedsNoConfig) {
    Fixture f(1883);
    const auto [code, output] = f.read({"read", "-c", f.config, "meter"});
    ASSERT_EQ(code, 0) << output;
    EXPECT_NE(output.find("ATTRIBUTE"), std::string::npos) << output;
    EXPECT_TRUE(std::regex_search(
        output, std::regex(R"(voltage +230\.5 +V +input +0 \(0x0000\) +0x4366 0x8000)")))
        << output;
    EXPECT_TRUE(std::regex_search(output, std::regex(R"(mode +battery \(2\) +holding)"))) << output;
    EXPECT_TRUE(std::regex_search(
        output, std::regex(R"(missing +- +input +20 \(0x0014\) +illegal data address)")))
        << output;
    // Unknown node, and the wrong kind of arguments.
    auto [unknown, why] = f.read({"read", "-c", f.config, "metre"});
    EXPECT_EQ(unknown, 64) << why;
    EXPECT_NE(why.find("no Modbus node 'metre'"), std::string::npos) << why;
    auto [usage, text] = f.read({"read", "tcp", "127.0.0.1"});
    EXPECT_EQ(usage, 64) << text;
}

// The same node on a serial line: the config's modbus-rtu source, the simulator's pty.
TEST(CliRead, ReadsANodeOnASerialLine) {
    TempDir dir;
    Process sim({SIM_PATH, "modbus-rtu", "--link", dir.file("tty"), "--devices",
                 dir.write("devices.yaml", kDevices), "--baud", "19200", "--check-line"},
                dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    std::filesystem::create_directories(dir.file("models"));
    const std::string config = dir.write(
        "nodebridge.yaml",
        "gateway: gw\nmqtt: { host: 127.0.0.1 }\nsources:\n  - name: line\n    type: modbus-rtu\n"
        "    device: " +
            dir.file("tty") +
            "\n    baud: 19200\n    timeout: 300ms\n    max_gap: 30\n    nodes:\n"
            "      - id: meter\n        unit: 4\n        attributes:\n"
            "          voltage: { table: input, address: 0, type: float32, unit: V }\n"
            "          missing: { table: input, address: 20, type: float32 }\n");
    Process cli({NODEBRIDGE_CLI_PATH, "read", "-c", config, "meter", "--json", "--model-dir",
                 dir.file("models")},
                dir.file("read.log"));
    ASSERT_EQ(cli.wait_for_exit(10s), 0) << cli.output();
    const auto json = parse_json(cli.output());
    ASSERT_TRUE(json) << cli.output();
    EXPECT_EQ(json->text("at"), dir.file("tty") + " 19200 8N1");
    const auto& attributes = json->find("attributes")->array();
    ASSERT_EQ(attributes.size(), 2u) << cli.output();
    EXPECT_EQ(attributes[0].find("value")->number(), 230.5) << cli.output();
    EXPECT_EQ(attributes[1].text("error"), "illegal data address (exception 2)") << cli.output();
}

TEST(CliRead, WatchRepeatsUntilStopped) {
    Fixture f(1883);
    Process cli({NODEBRIDGE_CLI_PATH, "read", "-c", f.config, "meter", "--watch", "200ms"},
                f.dir.file("watch.log"));
    ASSERT_TRUE(wait_until(
        [&] {
            const std::string out = cli.output();
            std::size_t count = 0;
            for (auto at = out.find("ATTRIBUTE"); at != std::string::npos;
                 at = out.find("ATTRIBUTE", at + 1))
                ++count;
            return count >= 3;
        },
        10s))
        << cli.output();
    cli.signal(SIGTERM);
    EXPECT_TRUE(cli.wait_for_exit(5s).has_value());
}

}  // namespace
}  // namespace nodebridge::test
