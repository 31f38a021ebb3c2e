#pragma once
// What a source saw of one node at one instant. Plain values, moved across the
// source -> mapping queue, never shared.

#include <chrono>
#include <cstdint>
#include <optional>
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

// A reading, or a change of a node's availability. A reading carries attributes and no
// `online`; an availability change carries `online` (true: the node is heard or answering
// again, or was heard for the first time; false: it went silent) and no attributes.
struct Sample {
    std::string source;  // the configured source name, e.g. "pdu-bus"
    std::string node;    // the node id, e.g. "pdu-1"
    WallClock::time_point time;
    std::vector<Attribute> attributes;
    std::optional<bool> online{};  // set only on an availability change

    friend bool operator==(const Sample&, const Sample&) = default;
};

}  // namespace nodebridge
