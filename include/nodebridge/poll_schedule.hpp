#pragma once
// When a source's polls fall due: its nodes' deadlines spread evenly across their poll
// interval, so that a steady configuration leaves as a steady stream of readings rather than
// one burst per interval (a burst is what publish latency sees). Arithmetic on time points
// only: no clock, no I/O. The source owns the clock and tells the schedule what happened
// (polled, reconnected, a write wants a read-back); the schedule says which node is next and
// when. Not thread-safe: one source thread owns it.
//
// Node i's deadlines form a grid, anchor + offset(i) + k * interval(i) for k = 0, 1, ...
// The nodes that share an interval get offsets evenly spaced across it, in config order, and
// the whole set is turned by less than one spacing (and at most kMaxTurn) derived from `salt`
// (the source's name), so that several sources with the same interval and node count
// interleave instead of polling together, while a source's first node is still read soon
// after the start even when its interval is long.
//
// Nothing moves the grid: a poll that ran late, a reconnect, a dead unit's timeouts or a
// write's read-back only decide which grid point comes next, and missed points are skipped
// rather than caught up in a burst. Hence every node's first poll comes within one interval
// of the anchor, and the spread survives reconnects, dead units and reloads (a restarted
// source lays out the same grid from its new anchor).

#include <cstddef>
#include <string_view>
#include <vector>

#include "nodebridge/sample.hpp"

namespace nodebridge {

class PollSchedule {
  public:
    using TimePoint = SteadyClock::time_point;
    using Duration = SteadyClock::duration;

    // The salt turns a grid by at most this much.
    static constexpr Millis kMaxTurn{100};

    // `intervals[i]` is node i's poll interval (anything below 1 ms counts as 1 ms); `salt`
    // turns the grid (same salt, same grid); `anchor` is where the grid starts, usually the
    // moment the source starts.
    PollSchedule(const std::vector<Millis>& intervals, std::string_view salt, TimePoint anchor);

    std::size_t size() const { return nodes_.size(); }

    // Node `node`'s interval (at least 1 ms) and its offset into it, in [0, interval).
    Duration interval(std::size_t node) const { return nodes_.at(node).interval; }
    Duration offset(std::size_t node) const { return nodes_.at(node).offset; }

    // Node `node`'s first deadline: anchor + offset.
    TimePoint first(std::size_t node) const { return anchor_ + offset(node); }

    // The earliest grid point of `node` at or after `time` (its first one when `time` is
    // earlier). A source that (re)connects at `time` polls each node at at_or_after(time).
    TimePoint at_or_after(std::size_t node, TimePoint time) const;

    // The earliest grid point of `node` strictly after `time`. A source that finished a poll
    // of `node` at `time` (on time, late, or early for a write's read-back) polls it next at
    // after(time): the rhythm is kept and missed points are skipped.
    TimePoint after(std::size_t node, TimePoint time) const;

    // ---- the deadlines: each starts at first(node) ----

    // The node to poll next: the earliest deadline, the lowest index on a tie. Needs size() > 0.
    std::size_t next() const;
    TimePoint deadline(std::size_t node) const { return nodes_.at(node).deadline; }

    // `node` was polled and the poll finished at `now`: its deadline becomes after(now +
    // hold). `hold` > 0 keeps it away longer, still on its grid (a dead unit: dead_poll minus
    // its interval).
    void polled(std::size_t node, TimePoint now, Duration hold = Duration::zero());

    // A poll of `node` is under way (a source that polls several nodes at once): next()
    // passes over it until polled() gives it its next deadline.
    void started(std::size_t node);

    // Brings `node`'s deadline forward to `time` if it is later (a written value is read
    // back at once); polled() puts it back on its grid afterwards.
    void poll_by(std::size_t node, TimePoint time);

    // The bus is usable again at `now` (connected after an outage): every deadline becomes
    // at_or_after(now), so the polls missed meanwhile are skipped instead of leaving at once.
    void resume(TimePoint now);

  private:
    struct Node {
        Duration interval;
        Duration offset;
        TimePoint deadline;
    };
    TimePoint anchor_;
    std::vector<Node> nodes_;
};

}  // namespace nodebridge
