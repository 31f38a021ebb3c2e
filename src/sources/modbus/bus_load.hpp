#pragma once
// What a Modbus source's configuration asks of its bus: the read requests per second its
// nodes' interval groups need (each group's planned requests once per its interval), and for
// a modbus-rtu line how much of the line's time those requests take at the least, from the
// baud rate and the frame sizes (rtu_timing.hpp) with no device delay and no retries. A line
// asked for more than it can carry is over-committed: its polls run late, every one of them.
// Pure arithmetic over the configuration, for --check-config.

#include <string>
#include <vector>

#include "nodebridge/config.hpp"

namespace nodebridge::modbus {

struct BusLoad {
    double requests_per_second = 0;  // planned reads per second, without retries or writes
    bool rtu = false;                // the figures below apply
    // The share of the line's time those reads take at the least (1 = all of it): each one's
    // request, t3.5, reply and t3.5 at the line's framing, plus its node's request_gap.
    double line_share = 0;
    // The reads per second the line could carry at most in the same mix of requests:
    // requests_per_second / line_share.
    double line_limit = 0;
};

// The load `config` puts on its bus.
BusLoad bus_load(const ModbusSourceConfig& config);

// One line per Modbus source for --check-config ("  bus: 12.5 reads/s ..."), the sources of
// one `hosts:` entry as one ("each"); `warnings` gets a "FILE:LINE:COL: ..." line for every
// over-committed RTU line (line_share above 1).
std::string describe_bus_loads(const Config& config, std::vector<std::string>& warnings);

}  // namespace nodebridge::modbus
