#pragma once
// nodebridge: the commissioning command (issue #22). Finds devices and proves their readings
// before any YAML is written; never needs the daemon's config unless given one.
//
// What is where (one subcommand per file, the pieces they share below):
//   main.cpp         dispatch, --help, --version
//   scan_tcp.cpp     nodebridge scan tcp HOST[:PORT] [--units 1-247] [--timeout 200ms]
//                    [--model-dir DIR] [--name NAME]: units that answer, their round trip,
//                    Read Device Identification, the library models that fit, a YAML block
//   scan_rtu.cpp     nodebridge scan rtu DEVICE [--baud ...] [--parity ...] [--stop-bits 1|2]
//                    [--units 1-247] [--timeout 200ms]: the line settings and units that
//                    answer, swept in installers' order, the port held exclusively
//   scan_serial.cpp  nodebridge scan serial DEVICE [--baud ...] [--listen 3s]: a wireless-node
//                    receiver's baud rate, line format, node ids and attributes
//   scan_report.*    what both scans share once a unit answered (identification, report)
//   rtu_port.*       an exclusively held serial port with Modbus RTU transactions
//   read.cpp         nodebridge read tcp HOST[:PORT] --unit N --model NAME [--timeout 1s]
//                    nodebridge read rtu DEVICE [--baud 9600 ...] --unit N --model NAME
//                    nodebridge read -c CONFIG NODE: one node's readings as a table, --json,
//                    --watch 1s
//   args.cpp         HOST[:PORT], unit lists, durations (the parsing every subcommand uses)
//   tcp_client.*     a blocking Modbus TCP client over the pure MBAP framing (mbap.hpp)
//   identify.*       which models' `identify:` a unit satisfies, and the evidence (pure)
//   paste_yaml.*     the `sources:`/`mappings:` block scan prints for a conf.d file
//
// Exit codes (every subcommand): 0 done; 1 nothing answered; 2 the host could not be
// resolved or reached; 3 the answers cannot be trusted (every unit id answered, or the
// device echoed the request); 64 usage; 78 the models or the config do not load.

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nodebridge::cli {

using Args = std::span<const std::string_view>;
using Millis = std::chrono::milliseconds;

inline constexpr int kExitOk = 0;
inline constexpr int kExitNothing = 1;
inline constexpr int kExitUnreachable = 2;
inline constexpr int kExitUntrusted = 3;
inline constexpr int kExitUsage = 64;
inline constexpr int kExitConfig = 78;

int run_scan_tcp(Args args);
int run_scan_rtu(Args args);
int run_scan_serial(Args args);
int run_read(Args args);

// ---- args.cpp -----------------------------------------------------------------------------

// "HOST", "HOST:PORT", "[V6]:PORT" or "[V6]"; port default `default_port`. Nullopt and
// `error` set when malformed (empty host, port not 1..65535).
struct Target {
    std::string host;
    int port = 502;
};
std::optional<Target> parse_target(std::string_view text, int default_port, std::string& error);

// "1-247", "1,3,10-20": unit ids `lowest`..`highest`, ascending order kept as written, each
// once. Nullopt and `error` set otherwise.
std::optional<std::vector<int>> parse_unit_list(std::string_view text, int lowest, int highest,
                                                std::string& error);

// "250ms", "1s", "2m" or a number of seconds ("0.5"); at least 1 ms. Nullopt when not.
std::optional<Millis> parse_millis(std::string_view text);

// "1-3, 7, 9-10": runs of consecutive units, as the YAML's `units:` and messages write them.
std::string unit_ranges(const std::vector<int>& units);

// "1.5 s", "250 ms", "0.4 ms": a duration for people.
std::string human_duration(std::chrono::microseconds duration);

}  // namespace nodebridge::cli
