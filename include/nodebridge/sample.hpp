#pragma once
// What a source saw of one node at one instant. Plain values, moved across the
// source -> mapping queue, never shared.

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace nodebridge {

using WallClock = std::chrono::system_clock;
using SteadyClock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// A reading's value: a number (double), an integer, a bool or text.
// Integers that do not fit int64 (uint64 above 2^63-1) are carried as numbers.
using Value = std::variant<double, std::int64_t, bool, std::string>;

// One named attribute of a node: "voltage" = 230.5 "V".
struct Attribute {
    std::string name;
    Value value;
    std::string unit;  // empty when the attribute has none

    friend bool operator==(const Attribute&, const Attribute&) = default;
};

struct Sample {
    std::string source;  // the configured source name, e.g. "pdu-bus"
    std::string node;    // the node id, e.g. "pdu-1"
    WallClock::time_point time;
    std::vector<Attribute> attributes;

    friend bool operator==(const Sample&, const Sample&) = default;
};

}  // namespace nodebridge
