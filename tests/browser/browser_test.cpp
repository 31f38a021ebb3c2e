// The status page in a real headless browser (issue #24): Debian's chromium driven by
// playwright-core (npm, installed into the build tree at test time, never into the repo)
// against nodebridged, nodebridge-sim and mosquitto. status_page.mjs does the browsing; this
// side starts the processes and stops the simulator when the script asks.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "support/support.hpp"

namespace nodebridge::test {
namespace {

constexpr const char* kConfig = R"(gateway: gw-page
mqtt: { host: 127.0.0.1, port: @MQTT@, buffer: { dir: "" } }
http:
  listen: 127.0.0.1:@HTTP@
  static_dir: @STATIC@
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
          voltage: { table: input, address: 0, type: float32, unit: V }
          power:   { table: input, address: 4, type: float32, unit: W }
      - id: meter-7
        unit: 7
        poll: 500ms
        attributes:
          frequency: { table: input, address: 70, type: float32, word_order: little, unit: Hz }
mappings:
  - name: all
    topic: dc/{node}/{attribute}
    payload: value
)";

bool has_program(const char* name) {
    return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}

TEST(StatusPage, ShowsNodesLiveAndANodeGoingOffline) {
    if (::access("/usr/bin/chromium", X_OK) != 0) {
        GTEST_SKIP() << "SKIP: /usr/bin/chromium is not installed (Debian package chromium, "
                        "scripts/deps)";
    }
    if (!has_program("node") || !has_program("npm")) {
        GTEST_SKIP() << "SKIP: node and npm are not installed";
    }
    // playwright-core, once per build tree (it downloads no browser of its own).
    const std::string modules = std::string(BROWSER_NODE_DIR);
    if (!std::filesystem::exists(modules + "/node_modules/playwright-core/package.json")) {
        std::filesystem::create_directories(modules);
        const std::string install =
            "npm install --prefix '" + modules +
            "' --no-audit --no-fund --loglevel=error playwright-core@1 > '" + modules +
            "/npm.log' 2>&1";
        ASSERT_EQ(std::system(install.c_str()), 0) << "npm install playwright-core failed:\n"
                                                   << read_file(modules + "/npm.log");
    }

    TempDir dir;
    Broker broker{Broker::Options{.persistence = false}};
    broker.start();
    const int modbus_port = free_port();
    const int http_port = free_port();
    auto sim = std::make_unique<Process>(
        std::vector<std::string>{SIM_PATH, "modbus-tcp", "--port", std::to_string(modbus_port)},
        dir.file("sim.log"));
    ASSERT_TRUE(sim->wait_for_output("ready", 10s)) << sim->output();
    std::string config = kConfig;
    config = replace_all(config, "@MQTT@", std::to_string(broker.port()));
    config = replace_all(config, "@MODBUS@", std::to_string(modbus_port));
    config = replace_all(config, "@HTTP@", std::to_string(http_port));
    config = replace_all(config, "@STATIC@", std::string(SOURCE_DIR) + "/src/http/static");
    Process daemon({NODEBRIDGED_PATH, "-c", dir.write("nodebridge.yaml", config)},
                   dir.file("daemon.log"));
    ASSERT_TRUE(daemon.wait_for_output("http: listening", 10s)) << daemon.output();

    // The script is run from the build tree's node dir, so `import 'playwright-core'` finds it.
    const std::string script = modules + "/status_page.mjs";
    std::filesystem::copy_file(std::string(SOURCE_DIR) + "/tests/browser/status_page.mjs", script,
                               std::filesystem::copy_options::overwrite_existing);
    const std::string shot = std::string(BROWSER_NODE_DIR) + "/status_page.png";
    Process browser({"/usr/bin/env", "node", script,
                     "http://127.0.0.1:" + std::to_string(http_port) + "/", shot},
                    dir.file("browser.log"));
    // Until the script asks for the simulator to stop, or ends early (a failed step).
    wait_until(
        [&] {
            return browser.output().find("STOP-SIM") != std::string::npos || !browser.running();
        },
        90s);
    ASSERT_NE(browser.output().find("STOP-SIM"), std::string::npos)
        << browser.output() << daemon.output();
    sim.reset();  // SIGKILL: the devices are gone
    const auto code = browser.wait_for_exit(60s);
    ASSERT_TRUE(code.has_value()) << browser.output();
    EXPECT_EQ(*code, 0) << browser.output() << "\n" << daemon.output();
    EXPECT_NE(browser.output().find("PASS"), std::string::npos) << browser.output();
    std::cout << browser.output();
}

}  // namespace
}  // namespace nodebridge::test
