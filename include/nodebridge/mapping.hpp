#pragma once
// The Mapping turns Samples into Messages by the configured rules. Pure logic: no I/O,
// no threads, no clock of its own (callers pass `now`), so it is tested without waiting.

#include <memory>
#include <string>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/message.hpp"
#include "nodebridge/sample.hpp"

namespace nodebridge {

class Mapper {
public:
    // `rules` must be valid (as load_config() returns them).
    Mapper(std::string gateway, const std::vector<MappingRule>& rules);
    ~Mapper();
    Mapper(Mapper&&) noexcept;
    Mapper& operator=(Mapper&&) noexcept;

    // Appends to `out` the messages `sample` produces at steady time `now`, by every rule
    // that matches it, in rule order. Keeps the per-(rule, node, attribute) state that
    // on_change, deadband, heartbeat and min_interval need.
    void map(const Sample& sample, SteadyClock::time_point now, std::vector<Message>& out);

    // Appends messages that are due without a new sample: heartbeat republishes of
    // unchanged values, and the latest value held back by min_interval.
    void tick(SteadyClock::time_point now, std::vector<Message>& out);

    // The earliest time tick() may have something to do; time_point::max() when nothing is
    // pending.
    SteadyClock::time_point next_due() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Formats a value as a payload or JSON fragment: numbers in the shortest form that
// round-trips ("230.5", "1e-07"; non-finite numbers as "null" in JSON), bools as
// true/false, text as is (value) or as an escaped JSON string (json).
void append_value_text(const Value& value, std::string& out);
void append_value_json(const Value& value, std::string& out);

// "2026-11-24T12:00:00.123Z"
std::string format_timestamp(WallClock::time_point time);

}  // namespace nodebridge
