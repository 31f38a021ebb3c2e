#pragma once
// What the HTTP endpoint shows, as plain values: the daemon's counters (the same
// StatsSnapshot the stats topic is made of) and the nodes the mapping thread has seen. The
// HTTP threads read only these immutable snapshots; they never touch the pipeline.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "nodebridge/sample.hpp"
#include "stats.hpp"

namespace nodebridge::http {

// One node as last seen by the mapping thread.
struct NodeSummary {
    std::string source;
    std::string node;
    // The last availability change the source reported; true until it reports one, since
    // a node that sends readings is answering.
    bool online = true;
    bool has_reading = false;                // false: only an availability change was seen
    SteadyClock::time_point last_reading{};  // when its last reading was mapped
    WallClock::time_point last_reading_wall{};
    std::uint64_t readings = 0;         // readings mapped since start
    double interval_s = 0;  // seconds between its last two readings; 0 before the second
    std::vector<Attribute> attributes;  // the last value of each attribute, by first seen
};

// Every node, sorted by (source, node).
struct NodesSnapshot {
    SteadyClock::time_point taken{};
    std::vector<NodeSummary> nodes;
    std::uint64_t nodes_ignored = 0;  // readings of nodes past the table's bound, not shown
};

// Each Modbus node's configured poll interval in seconds, by source '\0' node.
using PollIntervals = std::unordered_map<std::string, double>;

// Everything one request may show. Built by the daemon's main thread, then shared read-only.
struct View {
    std::string gateway;
    StatsSnapshot stats;
    std::string spool_state;                     // spool_state(stats.publisher)
    std::shared_ptr<const NodesSnapshot> nodes;  // never null once published
    std::shared_ptr<const PollIntervals> polls;  // may be null: none known
};

// Recent numeric readings of one attribute: (milliseconds since the epoch, value), oldest
// first.
struct Series {
    std::string attribute;
    std::string unit;
    std::vector<std::pair<std::int64_t, double>> points;
};

}  // namespace nodebridge::http
