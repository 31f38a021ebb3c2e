#include "node_schedule.hpp"

#include <algorithm>

namespace nodebridge::modbus {

namespace {

std::vector<Millis> flatten(const std::vector<std::vector<Millis>>& intervals) {
    std::vector<Millis> all;
    for (const auto& node : intervals) all.insert(all.end(), node.begin(), node.end());
    return all;
}

}  // namespace

NodeSchedule::NodeSchedule(const std::vector<std::vector<Millis>>& intervals, std::string_view salt,
                           TimePoint anchor)
    : grid_(flatten(intervals), salt, anchor) {
    std::size_t first = 0;
    nodes_.reserve(intervals.size());
    for (const auto& node : intervals) {
        nodes_.push_back(Node{.first = first,
                              .count = node.size(),
                              .busy = false,
                              .taken = std::vector<bool>(node.size(), false)});
        first += node.size();
    }
}

std::size_t NodeSchedule::next() const {
    std::size_t best = 0;
    for (std::size_t i = 1; i < nodes_.size(); ++i) {
        if (deadline(i) < deadline(best)) best = i;
    }
    return best;
}

NodeSchedule::TimePoint NodeSchedule::deadline(std::size_t node) const {
    const Node& entry = nodes_.at(node);
    if (entry.busy) return TimePoint::max();
    TimePoint earliest = TimePoint::max();
    for (std::size_t g = 0; g < entry.count; ++g) {
        earliest = std::min(earliest, grid_.deadline(entry.first + g));
    }
    return earliest;
}

std::vector<std::size_t> NodeSchedule::started(std::size_t node, TimePoint now) {
    Node& entry = nodes_.at(node);
    std::vector<std::size_t> groups;
    std::size_t earliest = 0;
    for (std::size_t g = 0; g < entry.count; ++g) {
        const TimePoint due = grid_.deadline(entry.first + g);
        entry.taken[g] = due <= now;
        if (entry.taken[g]) groups.push_back(g);
        if (due < grid_.deadline(entry.first + earliest)) earliest = g;
    }
    if (groups.empty() && entry.count > 0) {
        entry.taken[earliest] = true;
        groups.push_back(earliest);
    }
    entry.busy = true;
    return groups;
}

void NodeSchedule::polled(std::size_t node, TimePoint now, Duration hold) {
    Node& entry = nodes_.at(node);
    for (std::size_t g = 0; g < entry.count; ++g) {
        const std::size_t index = entry.first + g;
        const Duration beyond = hold - grid_.interval(index);  // the wait past one interval
        if (entry.taken[g]) {
            grid_.polled(index, now, std::max(beyond, Duration::zero()));
        } else if (beyond > Duration::zero() &&
                   grid_.deadline(index) < grid_.after(index, now + beyond)) {
            grid_.polled(index, now, beyond);
        }
        entry.taken[g] = false;
    }
    entry.busy = false;
}

void NodeSchedule::poll_by(std::size_t node, TimePoint time) {
    const Node& entry = nodes_.at(node);
    for (std::size_t g = 0; g < entry.count; ++g) grid_.poll_by(entry.first + g, time);
}

void NodeSchedule::resume(TimePoint now) {
    grid_.resume(now);
    for (Node& entry : nodes_) {
        entry.busy = false;
        std::fill(entry.taken.begin(), entry.taken.end(), false);
    }
}

NodeSchedule::Duration NodeSchedule::interval(std::size_t node, std::size_t group) const {
    return grid_.interval(nodes_.at(node).first + group);
}

NodeSchedule::Duration NodeSchedule::offset(std::size_t node, std::size_t group) const {
    return grid_.offset(nodes_.at(node).first + group);
}

}  // namespace nodebridge::modbus
