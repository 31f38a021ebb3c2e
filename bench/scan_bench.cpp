// nodebridge scan against the simulator (issue #22): how long each scan takes beside the
// worst case it prints before it starts.
//   1. scan tcp of units 1-247 with one present (unit 100), default timeout (200 ms);
//   2. scan rtu of one baud/parity pair (19200 8N1, units 1-247, one present) on the
//      simulator's wire-accurate line (--wire --check-line), default timeout;
//   3. scan rtu's full default sweep (24 settings, units 1-247) of a line where nothing
//      answers (the simulator runs at 230400, outside the sweep), at --timeout 20ms (the
//      default 200 ms makes it ~25 minutes; its printed bound is shown too).
// Usage: scan_bench [--skip-sweep]. Prints a markdown table.

#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;
using test::Process;
using test::TempDir;

struct Row {
    std::string what;
    std::string bound;  // as the command printed it
    double seconds = 0;
    std::string result;
};

std::string bound_of(const std::string& output) {
    std::smatch match;
    if (std::regex_search(output, match, std::regex(R"(worst case: ([0-9.]+ m?s))")))
        return match[1];
    return "?";
}

Row run_scan(const TempDir& dir, const std::string& what, std::vector<std::string> args,
             test::Millis limit) {
    args.insert(args.begin(), NODEBRIDGE_CLI_PATH);
    const auto start = std::chrono::steady_clock::now();
    Process cli(args, dir.file("scan.log"));
    const auto code = cli.wait_for_exit(limit);
    Row row;
    row.what = what;
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    row.bound = bound_of(cli.output());
    std::smatch match;
    const std::string output = cli.output();
    if (!code) {
        row.result = "did not end within the limit";
    } else if (std::regex_search(output, match,
                                 std::regex(R"((\d+ of \d+ units answered[^\n]*))"))) {
        row.result = match[1];
    } else if (output.find("no unit answered") != std::string::npos) {
        row.result = "no unit answered (exit " + std::to_string(*code) + ")";
    } else {
        row.result = "exit " + std::to_string(*code);
    }
    return row;
}

int tcp_port(const Process& sim) {
    std::smatch match;
    const std::string output = sim.output();
    if (!std::regex_search(output, match, std::regex(R"(ready modbus-tcp [0-9.]+:(\d+))")))
        return 0;
    return std::stoi(match[1]);
}

}  // namespace
}  // namespace nodebridge

int main(int argc, char** argv) {
    using namespace nodebridge;
    const bool sweep = !(argc > 1 && std::string(argv[1]) == "--skip-sweep");
    const std::string models = std::string(SOURCE_DIR) + "/models";
    std::vector<Row> rows;
    {
        TempDir dir;
        Process sim({SIM_PATH, "modbus-tcp", "--port", "0", "--model-dir", models, "--model",
                     "carlo-gavazzi-em24", "--units", "100"},
                    dir.file("sim.log"));
        if (!sim.wait_for_output("ready", 10s)) return 1;
        rows.push_back(run_scan(
            dir, "scan tcp, units 1-247, one present, timeout 200 ms",
            {"scan", "tcp", "127.0.0.1:" + std::to_string(tcp_port(sim)), "--model-dir", models},
            300s));
    }
    {
        TempDir dir;
        Process sim({SIM_PATH, "modbus-rtu", "--link", dir.file("tty"), "--wire", "--baud", "19200",
                     "--parity", "none", "--check-line", "--model-dir", models, "--model",
                     "carlo-gavazzi-em24", "--units", "100"},
                    dir.file("sim.log"));
        if (!sim.wait_for_output("ready", 10s)) return 1;
        rows.push_back(
            run_scan(dir, "scan rtu, 19200 8N1 only, units 1-247, one present, timeout 200 ms",
                     {"scan", "rtu", dir.file("tty"), "--baud", "19200", "--parity", "none",
                      "--model-dir", models},
                     300s));
    }
    if (sweep) {
        TempDir dir;
        Process sim({SIM_PATH, "modbus-rtu", "--link", dir.file("tty"), "--wire", "--baud",
                     "230400", "--parity", "none", "--check-line", "--model-dir", models, "--model",
                     "carlo-gavazzi-em24", "--units", "100"},
                    dir.file("sim.log"));
        if (!sim.wait_for_output("ready", 10s)) return 1;
        rows.push_back(run_scan(
            dir,
            "scan rtu, full default sweep (24 settings), units 1-247, nothing answers, timeout 20 "
            "ms",
            {"scan", "rtu", dir.file("tty"), "--timeout", "20ms", "--model-dir", models}, 900s));
        Process bound(
            {NODEBRIDGE_CLI_PATH, "scan", "rtu", dir.file("absent"), "--model-dir", models},
            dir.file("bound.log"));
        bound.wait_for_exit(10s);
        rows.push_back({"scan rtu, full default sweep, timeout 200 ms (bound only, not run)",
                        bound_of(bound.output()), 0, "-"});
    }
    std::printf("| scan | printed worst case | took | result |\n|---|---|---|---|\n");
    for (const Row& row : rows) {
        std::printf("| %s | %s | %.1f s | %s |\n", row.what.c_str(), row.bound.c_str(), row.seconds,
                    row.result.c_str());
    }
    return 0;
}
