#pragma once
// Starts nodebridge-sim for a test and waits for its "ready" line.

#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/support.hpp"

namespace nodebridge::test {

class SimProcess {
  public:
    // Runs `nodebridge-sim <args...>` with its output in `dir`, and waits (10 s) for "ready".
    SimProcess(const TempDir& dir, std::vector<std::string> args,
               const std::string& log_name = "sim.log")
        : process_(with_binary(std::move(args)), dir.file(log_name)) {
        if (!process_.wait_for_output("ready", 10s)) {
            throw std::runtime_error("nodebridge-sim did not get ready: " + process_.output());
        }
    }

    // The TCP port from "ready modbus-tcp HOST:PORT ..." or, for a serial device server,
    // "ready modbus-rtu tcp HOST:PORT ...", or -1.
    int port() const {
        std::smatch match;
        const std::string output = process_.output();
        if (!std::regex_search(output, match,
                               std::regex(R"(ready modbus-(?:tcp|rtu tcp) [^ ]+:(\d+))")))
            return -1;
        return std::stoi(match[1]);
    }

    Process& process() { return process_; }

    // SIGTERM, then wait up to 5 s; returns the exit code.
    std::optional<int> terminate() {
        process_.signal(SIGTERM);
        return process_.wait_for_exit(5s);
    }

  private:
    static std::vector<std::string> with_binary(std::vector<std::string> args) {
        args.insert(args.begin(), NODEBRIDGE_SIM_PATH);
        return args;
    }
    Process process_;
};

}  // namespace nodebridge::test
