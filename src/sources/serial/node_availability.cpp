#include "sources/serial/node_availability.hpp"

#include <algorithm>

namespace nodebridge::serial {

NodeAvailability::NodeAvailability(std::optional<Millis> offline_after)
    : fixed_offline_after_(offline_after) {}

Millis NodeAvailability::offline_after(const NodeStatus& status) const {
    if (fixed_offline_after_) return *fixed_offline_after_;
    if (!status.interval) return kUnknownIntervalOfflineAfter;
    return std::max(kMinimumOfflineAfter, *status.interval * 3);
}

bool NodeAvailability::heard(std::string_view node, SteadyClock::time_point now) {
    auto it = nodes_.find(std::string(node));
    bool came_online = false;
    if (it == nodes_.end()) {
        if (nodes_.size() >= kMaxNodes) {
            ++untracked_;
            return false;
        }
        it = nodes_.emplace(std::string(node), NodeStatus{std::string(node), true, now, {}}).first;
        ++online_;
        came_online = true;
    } else {
        NodeStatus& status = it->second;
        if (!status.online) {
            // The gap while offline says nothing about the reporting interval.
            status.online = true;
            ++online_;
            came_online = true;
        } else if (now > status.last_heard) {
            const auto gap = std::chrono::duration_cast<Millis>(now - status.last_heard);
            // Smoothed so one lost report does not triple the allowance at once.
            status.interval = status.interval ? (*status.interval * 3 + gap) / 4 : gap;
        }
        status.last_heard = std::max(status.last_heard, now);
    }
    next_due_ = std::min(next_due_, it->second.last_heard + offline_after(it->second));
    return came_online;
}

void NodeAvailability::check(SteadyClock::time_point now, std::vector<std::string>& went_offline) {
    if (now < next_due_) return;
    next_due_ = SteadyClock::time_point::max();
    for (auto& [id, status] : nodes_) {
        if (!status.online) continue;
        const auto deadline = status.last_heard + offline_after(status);
        if (now >= deadline) {
            status.online = false;
            --online_;
            went_offline.push_back(id);
        } else {
            next_due_ = std::min(next_due_, deadline);
        }
    }
}

std::vector<NodeStatus> NodeAvailability::snapshot() const {
    std::vector<NodeStatus> out;
    out.reserve(nodes_.size());
    for (const auto& [id, status] : nodes_) out.push_back(status);
    return out;
}

}  // namespace nodebridge::serial
