#pragma once
// What the end-to-end benchmarks share besides the broker (bench_broker.hpp): a Modbus TCP
// nodebridge-sim of generated units, and a process's memory figures from /proc.

#include <sys/types.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "support/support.hpp"

namespace nodebridge::bench {

// nodebridge-sim modbus-tcp on 127.0.0.1 and a free port, serving `nodes` units (1..nodes) of
// `attributes` float32 input registers each (attribute a at address 2a). SIM_PATH is the
// benchmark's compile definition.
class SimProcess {
  public:
    // `extra`: more options, such as {"--ports", "25"} (ports() then lists every port).
    SimProcess(const test::TempDir& dir, const std::string& name, int nodes, int attributes,
               const std::vector<std::string>& extra = {}) {
        using namespace std::chrono_literals;
        std::vector<std::string> args{SIM_PATH,       "modbus-tcp",
                                      "--bind",       "127.0.0.1",
                                      "--port",       "0",
                                      "--nodes",      std::to_string(nodes),
                                      "--attributes", std::to_string(attributes)};
        args.insert(args.end(), extra.begin(), extra.end());
        process_ = std::make_unique<test::Process>(args, dir.file(name + ".log"));
        if (!process_->wait_for_output("ready", 10s)) {
            throw std::runtime_error("nodebridge-sim did not start:\n" + process_->output());
        }
        std::smatch match;
        const std::string output = process_->output();
        if (!std::regex_search(output, match,
                               std::regex(R"(ready modbus-tcp 127\.0\.0\.1:(\d+))"))) {
            throw std::runtime_error("unexpected nodebridge-sim ready line:\n" + output);
        }
        port_ = std::stoi(match[1]);
        ports_ = {port_};
        if (std::regex_search(output, match, std::regex(R"( ports ([0-9,]+))"))) {
            ports_.clear();
            std::istringstream list(match[1].str());
            std::string item;
            while (std::getline(list, item, ',')) ports_.push_back(std::stoi(item));
        }
    }
    ~SimProcess() {
        using namespace std::chrono_literals;
        process_->signal(SIGTERM);
        process_->wait_for_exit(5s);
    }
    SimProcess(const SimProcess&) = delete;
    SimProcess& operator=(const SimProcess&) = delete;

    int port() const { return port_; }
    // Every port it listens on: port() alone unless it was started with --ports.
    const std::vector<int>& ports() const { return ports_; }
    pid_t pid() const { return process_->pid(); }

  private:
    int port_ = 0;
    std::vector<int> ports_;
    std::unique_ptr<test::Process> process_;
};

// A "VmRSS:"-style line of /proc/PID/status in KiB, or 0.
inline long status_kib(pid_t pid, std::string_view key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with(key)) return std::strtol(line.c_str() + key.size(), nullptr, 10);
    }
    return 0;
}

}  // namespace nodebridge::bench
