#pragma once
// The stats topic's JSON and the systemd status line, from a snapshot of the counters.
// docs/topics.md documents every field.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "edge_node.hpp"
#include "nodebridge/publisher.hpp"
#include "nodebridge/sample.hpp"
#include "nodebridge/source.hpp"
#include "write_back.hpp"

namespace nodebridge {

struct StatsSnapshot {
    SteadyClock::time_point taken;
    double uptime_seconds = 0;
    std::uint64_t samples = 0;          // samples mapped since start
    std::uint64_t messages = 0;         // messages produced by the rules since start
    std::uint64_t samples_dropped = 0;  // samples lost because the queue was full
    std::uint64_t unknown_states = 0;   // readings of coded attributes that were no code
    std::size_t queue_depth = 0;        // samples waiting to be mapped
    PublisherStats publisher;
    CommandStats commands;
    std::vector<std::pair<std::string, SourceStats>> sources;  // by source name, config order
    std::optional<sparkplug::EdgeNodeStats> sparkplug;         // set when `sparkplug:` is on
};

// The disk spool in a word or two: "active", "off" (mqtt.buffer.dir is "") or
// "unavailable (REASON)" (configured but unusable: messages are kept in memory only).
std::string spool_state(const PublisherStats& mqtt);

// Rates are computed between `previous` and `current` (zero on the first snapshot).
std::string stats_json(const StatsSnapshot& current, const StatsSnapshot* previous);

// One line for systemd's STATUS=: "broker 10.0.0.5:1883 connected; nodes 3/3 online;
// 12.5 msg/s; 0 errors", then "; N dropped" when messages were dropped and
// "; spool: unavailable (REASON)" when the configured spool cannot be used.
std::string status_line(const StatsSnapshot& current, const StatsSnapshot* previous);

}  // namespace nodebridge
