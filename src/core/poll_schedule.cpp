#include "nodebridge/poll_schedule.hpp"

#include <algorithm>
#include <cstdint>
#include <map>

namespace nodebridge {

namespace {

// FNV-1a, 64 bits: a fixed, portable hash, so a source's grid is the same in every build.
std::uint64_t fnv1a(std::string_view text) {
    std::uint64_t hash = 14695981039346656037ull;
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ull;
    }
    return hash;
}

}  // namespace

PollSchedule::PollSchedule(const std::vector<Millis>& intervals, std::string_view salt,
                           TimePoint anchor)
    : anchor_(anchor) {
    const std::uint64_t turn = fnv1a(salt);
    // How many nodes share each interval, and each node's rank among them.
    std::map<Duration, std::uint64_t> sharing;
    std::vector<std::uint64_t> rank;
    rank.reserve(intervals.size());
    nodes_.reserve(intervals.size());
    for (const Millis each : intervals) {
        const Duration interval = std::max<Duration>(each, Millis{1});
        rank.push_back(sharing[interval]++);
        nodes_.push_back(Node{.interval = interval, .offset = {}, .deadline = {}});
    }
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        Node& node = nodes_[i];
        // rank * spacing + turn, where spacing = interval / count and turn < min(spacing,
        // kMaxTurn); in the clock's ticks, 128-bit so that long intervals times many nodes
        // cannot overflow.
        const auto ticks = static_cast<unsigned __int128>(node.interval.count());
        const unsigned __int128 count = sharing[node.interval];
        const auto turn_span = std::min<unsigned __int128>(
            ticks, count * static_cast<unsigned __int128>(Duration(kMaxTurn).count()));
        const unsigned __int128 turned = rank[i] * ticks + turn % turn_span;
        node.offset = Duration(static_cast<Duration::rep>(turned / count));
        node.deadline = anchor_ + node.offset;
    }
}

PollSchedule::TimePoint PollSchedule::at_or_after(std::size_t node, TimePoint time) const {
    const TimePoint start = first(node);
    if (time <= start) return start;
    const Duration step = interval(node);
    const auto steps = (time - start + step - Duration(1)) / step;  // rounded up
    return start + steps * step;
}

PollSchedule::TimePoint PollSchedule::after(std::size_t node, TimePoint time) const {
    const TimePoint start = first(node);
    if (time < start) return start;
    const Duration step = interval(node);
    return start + ((time - start) / step + 1) * step;
}

std::size_t PollSchedule::next() const {
    const auto earliest =
        std::min_element(nodes_.begin(), nodes_.end(),
                         [](const Node& a, const Node& b) { return a.deadline < b.deadline; });
    return static_cast<std::size_t>(earliest - nodes_.begin());
}

void PollSchedule::polled(std::size_t node, TimePoint now, Duration hold) {
    nodes_.at(node).deadline = after(node, now + std::max(hold, Duration::zero()));
}

void PollSchedule::started(std::size_t node) { nodes_.at(node).deadline = TimePoint::max(); }

void PollSchedule::poll_by(std::size_t node, TimePoint time) {
    TimePoint& deadline = nodes_.at(node).deadline;
    deadline = std::min(deadline, time);
}

void PollSchedule::resume(TimePoint now) {
    for (std::size_t i = 0; i < nodes_.size(); ++i) nodes_[i].deadline = at_or_after(i, now);
}

}  // namespace nodebridge
