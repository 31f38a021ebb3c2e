#pragma once
// Which nodes of a source are online: a node is online from its first report until it has
// not been heard for its offline_after, and back online with its next report. Pure logic
// on a steady clock the caller passes in, so it is tested without waiting.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nodebridge/sample.hpp"

namespace nodebridge::serial {

struct NodeStatus {
    std::string node;
    bool online = false;
    SteadyClock::time_point last_heard;
    std::optional<Millis> interval;  // smoothed interval between reports, once observed
};

class NodeAvailability {
  public:
    // `offline_after` fixes the silence after which any node is offline. Without it, each
    // node gets 3x its observed reporting interval, at least kMinimumOfflineAfter; a node
    // heard only once (interval unknown yet) gets kUnknownIntervalOfflineAfter.
    explicit NodeAvailability(std::optional<Millis> offline_after);

    static constexpr Millis kMinimumOfflineAfter{30'000};
    static constexpr Millis kUnknownIntervalOfflineAfter{300'000};
    // Nodes beyond this many are not tracked (their reports still flow); see untracked().
    static constexpr std::size_t kMaxNodes = 4096;

    // Records a report from `node` at `now`. Returns true when the node is new or was
    // offline, i.e. it has just come online.
    bool heard(std::string_view node, SteadyClock::time_point now);

    // Marks nodes silent for longer than their offline_after as offline and appends their
    // ids to `went_offline`.
    void check(SteadyClock::time_point now, std::vector<std::string>& went_offline);

    // When check() should run next: never later than the earliest time a node can go
    // offline (it may be earlier after reports moved deadlines); time_point::max() if none.
    SteadyClock::time_point next_due() const { return next_due_; }

    // The silence after which `status` counts as offline.
    Millis offline_after(const NodeStatus& status) const;

    int total() const { return static_cast<int>(nodes_.size()); }
    int online() const { return online_; }
    std::uint64_t untracked() const { return untracked_; }

    // A copy of every tracked node's state, in no particular order.
    std::vector<NodeStatus> snapshot() const;

  private:
    std::optional<Millis> fixed_offline_after_;
    std::unordered_map<std::string, NodeStatus> nodes_;
    int online_ = 0;
    std::uint64_t untracked_ = 0;
    SteadyClock::time_point next_due_ = SteadyClock::time_point::max();
};

}  // namespace nodebridge::serial
