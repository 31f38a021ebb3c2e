// nodebridge-sim: simulated devices and receivers for the demo, the tests and the benchmark.

#include <cstdio>
#include <string_view>
#include <vector>

#include "commands.hpp"

namespace {

struct Command {
    std::string_view name;
    int (*run)(nodebridge::sim::Args);
    std::string_view usage;
};

constexpr Command kCommands[] = {
    {"modbus-tcp", nodebridge::sim::run_modbus_tcp,
     "modbus-tcp --port P [--ports N] [--bind 127.0.0.1] [--devices FILE.yaml |\n"
     "             --nodes N --attributes M | --model NAME [--units 1-10] [--model-dir DIR]]\n"
     "             [--rtu-gateway [--baud B [--parity none|even|odd] [--stop-bits 1|2]]\n"
     "             [--turnaround 5ms]]"},
    {"modbus-rtu", nodebridge::sim::run_modbus_rtu,
     "modbus-rtu --link PATH [--devices FILE.yaml | --nodes N --attributes M |\n"
     "             --model NAME [--units 1-10] [--model-dir DIR]] [--wire] "
     "[--baud 19200] [--parity none|even|odd] [--stop-bits 1|2] [--turnaround 5ms] "
     "[--corrupt P] [--drop P] [--slow UNIT:MS,...] [--dead UNIT,...] [--seed S] "
     "[--request-registers N] [--check-line]"},
    {"serial-nodes", nodebridge::sim::run_serial_nodes,
     "serial-nodes --link PATH [--nodes N] [--format kv|json|csv] [--interval 1s] "
     "[--garbage PERCENT] [--dropouts yes|no] [--seed S] [--baud B --check-line]"},
};

void usage(std::FILE* out) {
    std::fprintf(out, "usage: nodebridge-sim COMMAND [OPTIONS]\n\ncommands:\n");
    for (const Command& command : kCommands) {
        std::fprintf(out, "  %.*s\n", static_cast<int>(command.usage.size()), command.usage.data());
    }
    std::fprintf(out,
                 "\nSee src/sim/README.md for the devices file and what each device serves.\n");
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.empty()) {
        usage(stderr);
        return 64;
    }
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        usage(stdout);
        return 0;
    }
    for (const Command& command : kCommands) {
        if (args[0] != command.name) continue;
        // "COMMAND --help" anywhere among its options: that command's usage, not an option
        // missing its value.
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "--help" || args[i] == "-h") {
                std::printf(
                    "usage: nodebridge-sim %.*s\n\nSee nodebridge-sim(1) and "
                    "src/sim/README.md for what each option does.\n",
                    static_cast<int>(command.usage.size()), command.usage.data());
                return 0;
            }
        }
        return command.run(nodebridge::sim::Args(args).subspan(1));
    }
    std::fprintf(stderr, "nodebridge-sim: unknown command '%.*s'\n",
                 static_cast<int>(args[0].size()), args[0].data());
    usage(stderr);
    return 64;
}
