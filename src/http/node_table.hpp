#pragma once
// The nodes the HTTP endpoint shows, kept by the mapping thread as a SampleObserver: each
// node's availability, last values and a short history of its numeric readings.
//
// The mapping thread never waits on an HTTP thread: once a second it builds a fresh
// NodesSnapshot and swaps it in (a pointer swap under a mutex held for nothing else), and it
// records history under a mutex it only try_locks, keeping points in a bounded pending list
// when an HTTP thread holds it.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pipeline.hpp"
#include "view.hpp"

namespace nodebridge::http {

class NodeTable final : public SampleObserver {
  public:
    // At most `max_nodes` nodes are tracked (readings of later ones are counted in
    // nodes_ignored), each numeric attribute keeps its last `history` readings, and a
    // snapshot is published every `interval`.
    static constexpr std::size_t kMaxNodes = 20'000;
    explicit NodeTable(std::size_t history, std::size_t max_nodes = kMaxNodes,
                       Millis interval = Millis(1000));

    // ---- the mapping thread (SampleObserver) ----
    void observe(const Sample& sample, SteadyClock::time_point now) override;
    void tick(SteadyClock::time_point now) override;
    SteadyClock::time_point next_due() const override { return next_publish_; }

    // ---- any thread ----
    // The latest snapshot: an empty one until the first tick.
    std::shared_ptr<const NodesSnapshot> snapshot() const;
    // The recent readings of each numeric attribute of one node; nullopt if it is unknown.
    std::optional<std::vector<Series>> history(const std::string& source,
                                               const std::string& node) const;

  private:
    struct Entry {
        NodeSummary summary;
    };
    struct Point {
        std::string key;  // source '\0' node
        std::string attribute;
        std::string unit;
        std::int64_t time_ms;
        double value;
    };
    void flush_pending();

    const std::size_t history_;
    const std::size_t max_nodes_;
    const Millis interval_;

    // Mapping thread only.
    std::unordered_map<std::string, Entry> entries_;
    std::uint64_t ignored_ = 0;
    SteadyClock::time_point next_publish_{};
    std::vector<Point> pending_;

    mutable std::mutex snapshot_mutex_;  // held for a pointer copy or swap only
    std::shared_ptr<const NodesSnapshot> snapshot_;

    // One attribute's recent readings in a ring of history_ slots: `next` is where the next
    // one goes, the oldest once the ring is full.
    struct Ring {
        std::string attribute;
        std::string unit;
        std::vector<std::pair<std::int64_t, double>> points;
        std::size_t next = 0;
    };
    mutable std::mutex history_mutex_;  // try_locked by the mapping thread
    std::unordered_map<std::string, std::vector<Ring>> histories_;
};

}  // namespace nodebridge::http
