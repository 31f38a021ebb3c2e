// SIGHUP picks up a changed model file like any other config file: nodebridged polls the
// simulator through a site model in its --model-dir; the test rewrites that file (a new
// attribute, a changed scale) or breaks it, sends SIGHUP, and checks what is published next.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "support/support.hpp"

namespace nodebridge::test {
namespace {

const std::string kLibraryDir = std::string(SOURCE_DIR) + "/models";

// The site's own model of the simulated meter (the simulator serves the shipped
// eastron-sdm120: float32 input registers, voltage at 0x00, frequency at 0x46).
constexpr const char* kModelBefore = R"(models:
  site-meter:
    manufacturer: Site
    model: SDM120 as the site reads it
    description: Voltage only
    attributes:
      voltage: {table: input, address: 0x00, type: float32, unit: V, quantity: voltage}
)";

// The same file after an edit: voltage in kV (scale changed) and frequency added.
constexpr const char* kModelAfter = R"(models:
  site-meter:
    manufacturer: Site
    model: SDM120 as the site reads it
    description: Voltage and frequency
    attributes:
      voltage: {table: input, address: 0x00, type: float32, scale: 0.001, unit: kV, quantity: voltage}
      frequency: {table: input, address: 0x46, type: float32, unit: Hz, quantity: frequency}
)";

constexpr const char* kConfig = R"(gateway: gw-reload
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
    nodes:
      - id: meter
        unit: 1
        poll: 200ms
        model: site-meter
mappings:
  - name: every-attribute
    match: { source: bus }
    topic: reload/{node}/{attribute}
    payload: value
    qos: 0
)";

int ready_port(const std::string& output) {
    std::smatch match;
    if (!std::regex_search(output, match, std::regex(R"(ready modbus-tcp [0-9.]+:(\d+))")))
        return 0;
    return std::stoi(match[1]);
}

double number(const Received& message) { return std::strtod(message.payload.c_str(), nullptr); }

class ModelReload : public ::testing::Test {
  protected:
    void SetUp() override {
        broker_.start();
        sim_ = std::make_unique<Process>(
            std::vector<std::string>{SIM_PATH, "modbus-tcp", "--port", "0", "--model-dir",
                                     kLibraryDir, "--model", "eastron-sdm120", "--units", "1"},
            dir_.file("sim.log"));
        ASSERT_TRUE(sim_->wait_for_output("ready", 10s)) << sim_->output();
        const int sim_port = ready_port(sim_->output());
        ASSERT_NE(sim_port, 0) << sim_->output();

        std::filesystem::create_directories(models_dir_);
        write_model(kModelBefore);
        std::string config = replace_all(kConfig, "@MQTT@", std::to_string(broker_.port()));
        config = replace_all(config, "@SPOOL@", dir_.file("spool"));
        config = replace_all(config, "@MODBUS@", std::to_string(sim_port));
        config_path_ = dir_.write("nodebridge.yaml", config);
        subscriber_ =
            std::make_unique<Subscriber>(broker_.port(), std::vector<std::string>{"reload/#"});
        daemon_ =
            std::make_unique<Process>(std::vector<std::string>{NODEBRIDGED_PATH, "-c", config_path_,
                                                               "--model-dir", models_dir_},
                                      dir_.file("daemon.log"));
    }

    void TearDown() override {
        if (daemon_ && daemon_->running()) {
            daemon_->signal(SIGTERM);
            EXPECT_EQ(daemon_->wait_for_exit(10s), 0) << daemon_->output();
        }
    }

    void write_model(const std::string& text) {
        // Written whole and renamed, as an editor or a package would: the daemon never
        // reads half a file.
        const std::string tmp = dir_.write("site-meter.yaml.new", text);
        std::filesystem::rename(tmp, models_dir_ + "/site-meter.yaml");
    }

    // Sends SIGHUP and waits for the daemon to report the reload's outcome (`word`) once more
    // than it had before.
    bool reload_and_wait(const std::string& word) {
        const auto count = [&] {
            const std::string out = daemon_->output();
            std::size_t n = 0;
            for (auto at = out.find(word); at != std::string::npos; at = out.find(word, at + 1))
                ++n;
            return n;
        };
        const std::size_t before = count();
        daemon_->signal(SIGHUP);
        return wait_until([&] { return count() > before; }, 10s);
    }

    TempDir dir_;
    const std::string models_dir_ = dir_.file("models");
    std::string config_path_;
    Broker broker_;
    std::unique_ptr<Process> sim_;
    std::unique_ptr<Subscriber> subscriber_;
    std::unique_ptr<Process> daemon_;
};

TEST_F(ModelReload, AChangedModelFileIsAppliedOnSighup) {
    // Before: voltage in V (the simulator's mains voltage), and no frequency.
    const auto volts = subscriber_->wait_for_message("reload/meter/voltage", 10s);
    ASSERT_TRUE(volts) << daemon_->output();
    EXPECT_GT(number(*volts), 100.0) << volts->payload;
    EXPECT_TRUE(subscriber_->on_topic("reload/meter/frequency").empty());

    write_model(kModelAfter);
    ASSERT_TRUE(reload_and_wait("reloaded:")) << daemon_->output();
    EXPECT_NE(daemon_->output().find("1 sources (re)started"), std::string::npos)
        << "the source whose model changed must be rebuilt:\n"
        << daemon_->output();
    subscriber_->clear();

    // After: the new attribute is published, and voltage carries the new scale.
    const auto hz = subscriber_->wait_for_message("reload/meter/frequency", 10s);
    ASSERT_TRUE(hz) << daemon_->output();
    EXPECT_GT(number(*hz), 40.0) << hz->payload;
    EXPECT_LT(number(*hz), 70.0) << hz->payload;
    const auto kilovolts = subscriber_->wait_for_message("reload/meter/voltage", 10s);
    ASSERT_TRUE(kilovolts) << daemon_->output();
    EXPECT_GT(number(*kilovolts), 0.1) << kilovolts->payload;
    EXPECT_LT(number(*kilovolts), 1.0) << kilovolts->payload;
}

TEST_F(ModelReload, ABrokenModelFileIsRefusedAndTheRunningModelKept) {
    ASSERT_TRUE(subscriber_->wait_for_message("reload/meter/voltage", 10s)) << daemon_->output();

    write_model(
        "models:\n  site-meter:\n    attributes:\n      voltage: {table: input, address: [\n");
    ASSERT_TRUE(reload_and_wait("reload refused")) << daemon_->output();
    EXPECT_NE(daemon_->output().find("site-meter.yaml"), std::string::npos)
        << "the refusal names the broken file:\n"
        << daemon_->output();

    // Still polling with the model it had: voltage in V keeps arriving.
    subscriber_->clear();
    const auto volts = subscriber_->wait_for_message("reload/meter/voltage", 10s);
    ASSERT_TRUE(volts) << daemon_->output();
    EXPECT_GT(number(*volts), 100.0) << volts->payload;
    EXPECT_TRUE(daemon_->running());
}

}  // namespace
}  // namespace nodebridge::test
