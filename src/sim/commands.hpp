#pragma once
// The simulator's subcommands. Each takes the arguments after its name and returns the
// process exit code. Adding a subcommand is one new file plus one line in main.cpp.

#include <span>
#include <string_view>

namespace nodebridge::sim {

using Args = std::span<const std::string_view>;

// nodebridge-sim modbus-tcp --port P [--ports N] [--bind ADDR] [--devices FILE]
//                           [--nodes N --attributes M]
//                           [--rtu-gateway [--baud B --parity P --stop-bits S] [--turnaround T]]
int run_modbus_tcp(Args args);

// nodebridge-sim modbus-rtu --link PATH [--devices FILE] [--nodes N --attributes M]
//                           [--wire --baud B --parity P --stop-bits S --turnaround T]
//                           [--corrupt P] [--drop P] [--slow UNIT:MS] [--dead UNIT] [--seed S]
//                           [--request-registers N]
int run_modbus_rtu(Args args);

// nodebridge-sim serial-nodes --link PATH [--nodes N] [--format kv|json|csv] [--interval T]
//                             [--garbage PERCENT] [--dropouts yes|no] [--seed S]
int run_serial_nodes(Args args);

}  // namespace nodebridge::sim
