// nodebridge scan tcp against the simulator over loopback (issue #22): the units that answer,
// Read Device Identification, every shipped model with `identify:` recognised from the
// simulator serving it and none mistaken for another, the YAML block passing
// nodebridged --check-config as it is, and the bad cases (a host that does not resolve, a
// refused connection, an endpoint answering every unit id, an echo), each a clear message and
// a non-zero exit within the bound printed first.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <regex>
#include <thread>

#include "nodebridge/config.hpp"
#include "support/support.hpp"

namespace nodebridge::test {
namespace {

const std::string kLibraryDir = std::string(SOURCE_DIR) + "/models";

int sim_port(const Process& sim) {
    std::smatch match;
    const std::string output = sim.output();
    if (!std::regex_search(output, match, std::regex(R"(ready modbus-tcp [0-9.]+:(\d+))")))
        return 0;
    return std::stoi(match[1]);
}

struct CliRun {
    std::optional<int> code;
    std::string output;
};

CliRun run_cli(const TempDir& dir, std::vector<std::string> args, Millis timeout = 30s) {
    args.insert(args.begin(), NODEBRIDGE_CLI_PATH);
    Process cli(args, dir.file("cli.log"));
    CliRun run;
    run.code = cli.wait_for_exit(timeout);
    run.output = cli.output();
    return run;
}

// The YAML block: from "sources:" to the end.
std::string yaml_block(const std::string& output) {
    const auto at = output.find("\nsources:\n");
    return at == std::string::npos ? std::string() : output.substr(at + 1);
}

// Writes the block as conf.d/scan.yaml under a main config and runs --check-config on it.
CliRun check_config(const TempDir& dir, const std::string& block,
                    const std::string& model_dir = kLibraryDir) {
    std::filesystem::create_directories(dir.file("conf.d"));
    dir.write("conf.d/scan.yaml", block);
    const std::string main = dir.write("nodebridge.yaml",
                                       "gateway: gw-scan\nmqtt: { host: 127.0.0.1 }\n"
                                       "include: [conf.d/*.yaml]\n");
    Process check({NODEBRIDGED_PATH, "--check-config", "-c", main, "--model-dir", model_dir},
                  dir.file("check.log"));
    CliRun run;
    run.code = check.wait_for_exit(20s);
    run.output = check.output();
    return run;
}

std::vector<ModelRef> identified_library_models() {
    LoadOptions options;
    options.model_dirs = {kLibraryDir};
    const LoadResult loaded = load_models(options);
    std::vector<ModelRef> out;
    if (!loaded.config) return out;
    for (const ModelRef& model : loaded.config->models) {
        if (!model->identify.empty()) out.push_back(model);
    }
    return out;
}

TEST(CliScanTcp, RecognisesEveryShippedModelWithIdentificationAndNoOther) {
    const auto models = identified_library_models();
    ASSERT_GE(models.size(), 4u);  // the EM24, EM340, ET340 and SDM120 at least
    for (const ModelRef& model : models) {
        SCOPED_TRACE(model->name);
        TempDir dir;
        Process sim({SIM_PATH, "modbus-tcp", "--port", "0", "--model-dir", kLibraryDir, "--model",
                     model->name, "--units", "3,5"},
                    dir.file("sim.log"));
        ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
        const CliRun run =
            run_cli(dir, {"scan", "tcp", "127.0.0.1:" + std::to_string(sim_port(sim)), "--units",
                          "1-6", "--model-dir", kLibraryDir});
        ASSERT_EQ(run.code, 0) << run.output;
        // The bound comes before any result.
        EXPECT_LT(run.output.find("worst case:"), run.output.find("unit 3:")) << run.output;
        EXPECT_NE(run.output.find("2 of 6 units answered: 3, 5"), std::string::npos) << run.output;
        for (const ModelRef& other : models) {
            const bool listed = run.output.find("    " + other->name + ": ") != std::string::npos;
            EXPECT_EQ(listed, other->name == model->name) << other->name << "\n" << run.output;
        }
        const std::string block = yaml_block(run.output);
        EXPECT_NE(block.find("units: [3, 5]\n        model: " + model->name), std::string::npos)
            << block;
        const CliRun check = check_config(dir, block);
        EXPECT_EQ(check.code, 0) << block << "\n" << check.output;
        EXPECT_NE(check.output.find("config OK"), std::string::npos) << check.output;
    }
}

// Scan, paste, reload, watch: the pasted block, as it is, makes the daemon publish the units
// it found, and read -c prints that node from the same config.
TEST(CliScanTcp, ThePastedBlockMakesTheDaemonPublishTheUnitsFound) {
    TempDir dir;
    Process sim({SIM_PATH, "modbus-tcp", "--port", "0", "--model-dir", kLibraryDir, "--model",
                 "eastron-sdm120", "--units", "4"},
                dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    const CliRun run =
        run_cli(dir, {"scan", "tcp", "127.0.0.1:" + std::to_string(sim_port(sim)), "--units", "3-5",
                      "--model-dir", kLibraryDir, "--name", "meters"});
    ASSERT_EQ(run.code, 0) << run.output;
    Broker broker;
    broker.start();
    std::filesystem::create_directories(dir.file("conf.d"));
    dir.write("conf.d/scan.yaml", yaml_block(run.output));
    const std::string main = dir.write(
        "nodebridge.yaml",
        "gateway: gw-scan\nmqtt: { host: 127.0.0.1, port: " + std::to_string(broker.port()) +
            ", buffer: { dir: " + dir.file("spool") + " } }\ninclude: [conf.d/*.yaml]\n");
    Subscriber subscriber(broker.port(), {"site/#"});
    Process daemon({NODEBRIDGED_PATH, "-c", main, "--model-dir", kLibraryDir},
                   dir.file("daemon.log"));
    const auto message = subscriber.wait_for_message("site/gw-scan/meters-4", 15s);
    ASSERT_TRUE(message) << daemon.output();
    EXPECT_NE(message->payload.find("\"voltage\":"), std::string::npos) << message->payload;
    const CliRun read = run_cli(dir, {"read", "-c", main, "meters-4", "--model-dir", kLibraryDir});
    EXPECT_EQ(read.code, 0) << read.output;
    EXPECT_NE(read.output.find("energy_total"), std::string::npos) << read.output;
}

constexpr const char* kIdentifiedModel = R"(models:
  acme-pm10:
    manufacturer: ACME
    identify:
      vendor: ACME
      product_code: PM-10
      revision: "2."
    attributes:
      voltage: { table: input, address: 0, type: float32, unit: V, quantity: voltage }
  acme-pm20:
    identify:
      vendor: ACME
      product_code: PM-20
    attributes:
      voltage: { table: input, address: 0, type: float32, unit: V, quantity: voltage }
)";

TEST(CliScanTcp, ReportsReadDeviceIdentificationAndTheModelItNames) {
    TempDir dir;
    std::filesystem::create_directories(dir.file("models"));
    dir.write("models/acme.yaml", std::string(kIdentifiedModel) + "");
    // The simulator serves revision "2." as written; a device would say "2.14".
    Process sim({SIM_PATH, "modbus-tcp", "--port", "0", "--model-dir", dir.file("models"),
                 "--model", "acme-pm10", "--units", "7"},
                dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    const CliRun run = run_cli(dir, {"scan", "tcp", "127.0.0.1:" + std::to_string(sim_port(sim)),
                                     "--units", "6-8", "--model-dir", dir.file("models")});
    ASSERT_EQ(run.code, 0) << run.output;
    EXPECT_NE(run.output.find("identification: vendor 'ACME', product 'PM-10', revision '2.'"),
              std::string::npos)
        << run.output;
    EXPECT_NE(run.output.find("    acme-pm10: vendor 'ACME'; product code 'PM-10'; revision '2.'"),
              std::string::npos)
        << run.output;
    EXPECT_EQ(run.output.find("acme-pm20:"), std::string::npos) << run.output;
    const CliRun check = check_config(dir, yaml_block(run.output), dir.file("models"));
    EXPECT_EQ(check.code, 0) << run.output << "\n" << check.output;
}

TEST(CliScanTcp, AUnitNoModelFitsIsUnknownAndGetsNoNode) {
    TempDir dir;
    Process sim({SIM_PATH, "modbus-tcp", "--port", "0"}, dir.file("sim.log"));  // units 1, 2, 7
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    const CliRun run = run_cli(dir, {"scan", "tcp", "127.0.0.1:" + std::to_string(sim_port(sim)),
                                     "--units", "1-8", "--model-dir", kLibraryDir});
    ASSERT_EQ(run.code, 0) << run.output;
    EXPECT_NE(run.output.find("3 of 8 units answered: 1-2, 7"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("unit 1: answered in"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("model: unknown"), std::string::npos) << run.output;
    // Nothing recognised, so no source to paste: only a note naming the units.
    EXPECT_EQ(yaml_block(run.output), "") << run.output;
    EXPECT_NE(run.output.find("# units 1-2, 7: no library model fits"), std::string::npos)
        << run.output;
}

TEST(CliScanTcp, AHostThatDoesNotResolveOrRefusesExits2) {
    TempDir dir;
    CliRun run = run_cli(dir, {"scan", "tcp", "no-such-host.invalid", "--units", "1"});
    EXPECT_EQ(run.code, 2) << run.output;
    EXPECT_NE(run.output.find("cannot resolve 'no-such-host.invalid'"), std::string::npos)
        << run.output;
    run = run_cli(dir, {"scan", "tcp", "127.0.0.1:" + std::to_string(free_port()), "--units", "1"});
    EXPECT_EQ(run.code, 2) << run.output;
    EXPECT_NE(run.output.find("Connection refused"), std::string::npos) << run.output;
    run = run_cli(dir, {"scan", "tcp", "127.0.0.1:99999"});
    EXPECT_EQ(run.code, 64) << run.output;
    run = run_cli(dir, {"scan", "tcp", "127.0.0.1", "--units", "5-1"});
    EXPECT_EQ(run.code, 64) << run.output;
}

TEST(CliScanTcp, AnEndpointAnsweringEveryUnitIdIsNotTrusted) {
    TempDir dir;
    Process sim({SIM_PATH, "modbus-tcp", "--port", "0", "--nodes", "20", "--attributes", "1"},
                dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    const CliRun run = run_cli(dir, {"scan", "tcp", "127.0.0.1:" + std::to_string(sim_port(sim)),
                                     "--units", "1-20", "--model-dir", kLibraryDir});
    EXPECT_EQ(run.code, 3) << run.output;
    EXPECT_NE(run.output.find("every unit id 1-20 answered"), std::string::npos) << run.output;
    EXPECT_EQ(run.output.find("sources:"), std::string::npos) << run.output;
}

// A TCP server that sends back whatever it receives, as some misconfigured gateways do.
class EchoServer {
  public:
    EchoServer() {
        listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
        socklen_t length = sizeof address;
        getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        listen(listener_, 4);
        thread_ = std::thread([this] { serve(); });
    }
    ~EchoServer() {
        stop_ = true;
        thread_.join();
        close(listener_);
    }
    int port() const { return port_; }

  private:
    void serve() {
        std::vector<int> clients;
        while (!stop_) {
            std::vector<pollfd> fds{{listener_, POLLIN, 0}};
            for (int c : clients) fds.push_back({c, POLLIN, 0});
            if (poll(fds.data(), fds.size(), 50) <= 0) continue;
            if (fds[0].revents & POLLIN) clients.push_back(accept(listener_, nullptr, nullptr));
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
                char buffer[512];
                const ssize_t n = recv(fds[i].fd, buffer, sizeof buffer, 0);
                if (n > 0) send(fds[i].fd, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL);
            }
        }
        for (int c : clients) close(c);
    }
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

TEST(CliScanTcp, AnEchoIsNotTakenForDevices) {
    TempDir dir;
    EchoServer echo;
    const CliRun run = run_cli(dir, {"scan", "tcp", "127.0.0.1:" + std::to_string(echo.port()),
                                     "--units", "1-3", "--model-dir", kLibraryDir});
    EXPECT_EQ(run.code, 3) << run.output;
    EXPECT_NE(run.output.find("sends requests back unchanged"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace nodebridge::test
