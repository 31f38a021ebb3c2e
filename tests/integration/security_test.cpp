// Credentials end to end: nodebridged refuses a password file others can read, and the
// password never shows in --check-config output, the daemon's log or anything it publishes.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/support.hpp"

namespace nodebridge::test {
namespace {

constexpr const char* kSecret = "s3cret-Horse-Battery-91";

struct CommandResult {
    int exit_code;
    std::string output;
};

CommandResult run(const TempDir& dir, std::vector<std::string> argv) {
    const std::string program = argv.front();
    Process process(std::move(argv), dir.file("run-" + std::to_string(free_port()) + ".log"));
    const auto code = process.wait_for_exit(30s);
    EXPECT_TRUE(code.has_value()) << program << " did not exit";
    return {code.value_or(-1), process.output()};
}

std::string config_text(int port, const std::string& password_lines) {
    return "gateway: gw-sec\n"
           "mqtt:\n"
           "  host: 127.0.0.1\n"
           "  port: " +
           std::to_string(port) +
           "\n"
           "  keepalive: 5s\n"
           "  username: bridge\n" +
           password_lines +
           "  buffer: { dir: \"\" }\n"  // memory only: no spool shared between tests
           "stats:\n  interval: 1s\n";
}

std::string write_password_file(const TempDir& dir, mode_t mode) {
    const std::string path = dir.write("mqtt-password", std::string(kSecret) + "\n");
    ::chmod(path.c_str(), mode);
    return path;
}

TEST(Security, CheckConfigRefusesAPasswordFileOthersCanRead) {
    TempDir dir;
    const std::string password = write_password_file(dir, 0644);
    const std::string config =
        dir.write("nodebridge.yaml", config_text(1883, "  password_file: mqtt-password\n"));
    const CommandResult refused = run(dir, {NODEBRIDGED_PATH, "--check-config", "-c", config});
    EXPECT_EQ(refused.exit_code, 78) << refused.output;
    EXPECT_NE(refused.output.find(config + ":7:18: password_file: '" + password +
                                  "' can be read or changed by group or others (mode 0644)"),
              std::string::npos)
        << refused.output;
    EXPECT_EQ(refused.output.find(kSecret), std::string::npos) << refused.output;

    ::chmod(password.c_str(), 0600);
    const CommandResult accepted = run(dir, {NODEBRIDGED_PATH, "--check-config", "-c", config});
    EXPECT_EQ(accepted.exit_code, 0) << accepted.output;
    EXPECT_NE(accepted.output.find("password: (from file " + password + ")"), std::string::npos)
        << accepted.output;
    EXPECT_EQ(accepted.output.find(kSecret), std::string::npos) << accepted.output;
}

TEST(Security, InlinePasswordIsWarnedAboutAndNeverPrinted) {
    TempDir dir;
    const std::string config = dir.write(
        "nodebridge.yaml", config_text(1883, "  password: " + std::string(kSecret) + "\n"));
    const CommandResult checked = run(dir, {NODEBRIDGED_PATH, "--check-config", "-c", config});
    EXPECT_EQ(checked.exit_code, 0) << checked.output;
    EXPECT_NE(checked.output.find("warning: " + config + ":7:13: password: written in the config"),
              std::string::npos)
        << checked.output;
    EXPECT_NE(checked.output.find("password: (inline in the config file)"), std::string::npos);
    EXPECT_EQ(checked.output.find(kSecret), std::string::npos) << checked.output;
}

TEST(Security, ThePasswordNeverShowsInTheLogOrOnTheBroker) {
    TempDir dir;
    const std::string passwords = dir.file("broker-passwords");
    const CommandResult made =
        run(dir, {"/usr/bin/mosquitto_passwd", "-c", "-b", passwords, "bridge", kSecret});
    ASSERT_EQ(made.exit_code, 0) << made.output;
    Broker broker(
        Broker::Options{.persistence = false, .extra_config = "password_file " + passwords + "\n"});
    broker.start();
    Subscriber everything(broker.port(), {"#"});

    write_password_file(dir, 0600);
    const std::string config = dir.write(
        "nodebridge.yaml", config_text(broker.port(), "  password_file: mqtt-password\n"));
    const CommandResult checked = run(dir, {NODEBRIDGED_PATH, "--check-config", "-c", config});
    EXPECT_EQ(checked.exit_code, 0) << checked.output;

    Process daemon({NODEBRIDGED_PATH, "-c", config, "--log-level", "debug"},
                   dir.file("daemon.log"));
    // Connected with the password from the file: the health and two stats messages arrive.
    ASSERT_TRUE(everything.wait_for_message("nodebridge/gw-sec/status", 15s, "online"))
        << daemon.output();
    ASSERT_TRUE(everything.wait_for(
        [](const std::vector<Received>& all) {
            int stats = 0;
            for (const auto& m : all) stats += m.topic == "nodebridge/gw-sec/stats";
            return stats >= 2;
        },
        15s))
        << daemon.output();
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait_for_exit(15s), 0) << daemon.output();

    std::string published;
    for (const auto& m : everything.messages()) published += m.topic + " " + m.payload + "\n";
    for (const std::string& text : {checked.output, daemon.output(), published, broker.log()}) {
        EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
    }
}

// The broker's ACL denies one rule's topics: over MQTT 5 the daemon counts that rule's
// refused messages on the stats topic, logs them, and every other topic keeps flowing.
TEST(Security, AclDeniedRuleIsCountedAndTheOthersKeepFlowing) {
    TempDir dir;
    const std::string acl =
        dir.write("acl", "topic read #\ntopic write nodebridge/#\ntopic write dc1/allowed/#\n");
    Broker broker(Broker::Options{.persistence = false, .extra_config = "acl_file " + acl + "\n"});
    broker.start();
    const int modbus_port = free_port();
    Process sim({SIM_PATH, "modbus-tcp", "--port", std::to_string(modbus_port)},
                dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    Subscriber everything(broker.port(), {"#"});
    const std::string config =
        dir.write("nodebridge.yaml",
                  "gateway: gw-acl\n"
                  "mqtt:\n"
                  "  host: 127.0.0.1\n"
                  "  port: " +
                      std::to_string(broker.port()) +
                      "\n"
                      "  protocol: \"5\"\n"
                      "  buffer: { dir: " +
                      dir.file("spool") +
                      " }\n"
                      "stats:\n  interval: 1s\n"
                      "sources:\n"
                      "  - name: pdu-bus\n"
                      "    type: modbus-tcp\n"
                      "    host: 127.0.0.1\n"
                      "    port: " +
                      std::to_string(modbus_port) +
                      "\n"
                      "    nodes:\n"
                      "      - id: pdu-1\n"
                      "        unit: 1\n"
                      "        poll: 200ms\n"
                      "        attributes:\n"
                      "          voltage: { table: input, address: 0, type: float32 }\n"
                      "mappings:\n"
                      "  - name: allowed-rule\n"
                      "    topic: dc1/allowed/{node}/{attribute}\n"
                      "    payload: value\n"
                      "    qos: 1\n"
                      "  - name: denied-rule\n"
                      "    topic: dc1/denied/{node}/{attribute}\n"
                      "    payload: value\n"
                      "    qos: 1\n");
    Process daemon({NODEBRIDGED_PATH, "-c", config}, dir.file("daemon.log"));
    ASSERT_TRUE(everything.wait_for(
        [](const std::vector<Received>& all) {
            for (const auto& m : all) {
                if (m.topic == "nodebridge/gw-acl/stats" &&
                    m.payload.find("\"refused_by_rule\":{\"denied-rule\":") != std::string::npos) {
                    return true;
                }
            }
            return false;
        },
        20s))
        << daemon.output();
    // The allowed rule keeps delivering after the refusals started.
    everything.clear();
    EXPECT_TRUE(everything.wait_for_message("dc1/allowed/pdu-1/voltage", 10s).has_value());
    EXPECT_TRUE(everything.on_topic("dc1/denied/pdu-1/voltage").empty());
    EXPECT_TRUE(daemon.wait_for_output(
        "the broker refused the message on 'dc1/denied/pdu-1/voltage' (rule denied-rule): "
        "Not authorized (0x87)",
        5s))
        << daemon.output();
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait_for_exit(15s), 0) << daemon.output();
}

}  // namespace
}  // namespace nodebridge::test
