#pragma once
// What scan tcp and scan rtu share once a unit has answered: its identification (function 43
// and the library's identification registers, through any transport) and the report.

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "identify.hpp"
#include "nodebridge/config.hpp"

namespace nodebridge::cli {

// One request's outcome, whatever carried it.
struct Answer {
    bool replied = false;
    std::vector<std::uint8_t> pdu;  // when replied
    std::string error;              // when not: "no answer", "the peer closed ..."
};
using Send = std::function<Answer(std::span<const std::uint8_t> pdu)>;

struct ScannedUnit {
    int unit = 0;
    std::chrono::microseconds rtt{0};
    std::string probe;           // "replied with a register", "replied illegal data address ..."
    std::string identification;  // function 43's objects, or why there are none
    std::vector<Candidate> candidates;
};

// "illegal data address (exception 2)"
std::string exception_name(std::uint8_t code);

// The probe every scan sends: read one holding register at 0.
std::vector<std::uint8_t> probe_pdu();

// Whether a reply to the probe means the unit is there: anything but a gateway's exceptions
// 0x0A and 0x0B (MODBUS Application Protocol Specification V1.1b3, section 7). Sets
// `unit.probe`.
bool present(const std::vector<std::uint8_t>& reply, ScannedUnit& unit);

// Asks the unit for function 43 and reads the identification registers `models` name, through
// `send`; fills unit.identification and unit.candidates.
void identify_unit(ScannedUnit& unit, const std::vector<ModelRef>& models, const Send& send);

// The per-unit report and the "N of M units answered" line, on stdout.
void print_units(const std::vector<ScannedUnit>& found, std::size_t scanned);

}  // namespace nodebridge::cli
