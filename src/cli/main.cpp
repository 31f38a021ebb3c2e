// nodebridge: commissioning from the command line (cli.hpp lists what is where).

#include <cstdio>
#include <string_view>
#include <vector>

#include "cli.hpp"
#include "nodebridge/version.hpp"

namespace {

constexpr const char* kUsage =
    "usage: nodebridge COMMAND [OPTIONS]\n"
    "Finds Modbus devices, recognises their library models and proves their readings.\n"
    "\n"
    "commands:\n"
    "  scan tcp HOST[:PORT] [--units 1-247] [--timeout 200ms] [--model-dir DIR] [--name NAME]\n"
    "  scan rtu DEVICE [--baud 9600,19200] [--parity none,even,odd] [--stop-bits 1|2]\n"
    "       [--units 1-247] [--timeout 200ms] [--model-dir DIR] [--name NAME]\n"
    "  scan serial DEVICE [--baud 9600,115200] [--listen 3s] [--name NAME]\n"
    "  read tcp HOST[:PORT] --unit N --model NAME [--model-dir DIR] [--timeout 1s] [--json]\n"
    "       [--watch 1s]\n"
    "  read rtu DEVICE [--baud 9600] [--parity none] [--stop-bits 1] --unit N --model NAME\n"
    "       [--model-dir DIR] [--timeout 1s] [--json] [--watch 1s]\n"
    "  read -c CONFIG NODE [--model-dir DIR] [--json] [--watch 1s]\n"
    "\n"
    "  -h, --help     print this help and exit\n"
    "      --version  print the version and exit\n"
    "\n"
    "See nodebridge(1).\n";

}  // namespace

int main(int argc, char** argv) {
    using namespace nodebridge::cli;
    const std::vector<std::string_view> all(argv + 1, argv + argc);
    const Args args(all);
    if (args.empty()) {
        std::fputs(kUsage, stderr);
        return kExitUsage;
    }
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::fputs(kUsage, stdout);
        return kExitOk;
    }
    if (args[0] == "--version") {
        std::printf("nodebridge %s\n", nodebridge::kVersion);
        return kExitOk;
    }
    if (args[0] == "scan" && args.size() >= 2 && args[1] == "tcp") {
        return run_scan_tcp(args.subspan(2));
    }
    if (args[0] == "scan" && args.size() >= 2 && args[1] == "rtu") {
        return run_scan_rtu(args.subspan(2));
    }
    if (args[0] == "scan" && args.size() >= 2 && args[1] == "serial") {
        return run_scan_serial(args.subspan(2));
    }
    if (args[0] == "read") return run_read(args.subspan(1));
    std::fprintf(stderr, "nodebridge: unknown command '%.*s'\n\n%s",
                 static_cast<int>(args[0].size()), args[0].data(), kUsage);
    return kExitUsage;
}
