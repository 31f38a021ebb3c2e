#pragma once
// When a Modbus source's nodes fall due, when a node's attributes are read at several
// intervals (`poll:` on an attribute). Each of a node's interval groups (PollGroup) has a
// grid of its own in one PollSchedule: the groups that share an interval, across the bus's
// nodes, spread evenly over it, and a late poll, a reconnect or a dead unit skips missed grid
// points instead of catching up in a burst (poll_schedule.hpp). A poll of a node reads the
// groups due when it starts (started()), in one PollRound; groups that come due while it runs
// wait for the node's next poll, one after the other rather than at once.
//
// The node-level calls mirror PollSchedule's, so a source drives it as it drove the nodes'
// grids: next(), deadline(), started(), polled(), poll_by(), resume(). Arithmetic on time
// points only; not thread-safe (the bus's thread or loop owns it).

#include <cstddef>
#include <string_view>
#include <vector>

#include "nodebridge/poll_schedule.hpp"

namespace nodebridge::modbus {

class NodeSchedule {
  public:
    using TimePoint = PollSchedule::TimePoint;
    using Duration = PollSchedule::Duration;

    // `intervals[node][group]` is the interval of that node's group (PollGroup::interval); a
    // node without groups is never due. `salt` and `anchor` as for PollSchedule.
    NodeSchedule(const std::vector<std::vector<Millis>>& intervals, std::string_view salt,
                 TimePoint anchor);

    std::size_t size() const { return nodes_.size(); }

    // The node to poll next: the earliest deadline, the lowest index on a tie. Needs size() > 0.
    std::size_t next() const;

    // The earliest deadline of `node`'s groups; TimePoint::max() while a poll of it is under
    // way (between started() and polled()) or when it has no groups.
    TimePoint deadline(std::size_t node) const;

    // A poll of `node` starts at `now`: returns the groups it reads (those due by `now`; at
    // least the earliest one), in group order, and the node is busy until polled().
    std::vector<std::size_t> started(std::size_t node, TimePoint now);

    // The poll of `node` finished at `now`: each group it read moves to its next grid point
    // after `now`, at least `hold` later (a dead unit: dead_poll); with `hold`, a group not read
    // is not due before then either. Missed points are skipped.
    void polled(std::size_t node, TimePoint now, Duration hold = Duration::zero());

    // Brings every group of `node` forward to `time` if later (a written value is read back
    // at once); polled() puts them back on their grids.
    void poll_by(std::size_t node, TimePoint time);

    // The bus is usable again at `now`: every group's deadline becomes its next grid point at
    // or after `now`, and no node is busy.
    void resume(TimePoint now);

    // The grid of group `group` of `node` (for tests and --check-config): its interval and
    // offset.
    Duration interval(std::size_t node, std::size_t group) const;
    Duration offset(std::size_t node, std::size_t group) const;

  private:
    struct Node {
        std::size_t first = 0;  // its first group's index in grid_
        std::size_t count = 0;
        bool busy = false;
        std::vector<bool> taken;  // the groups its poll under way reads
    };
    PollSchedule grid_;  // one entry per group, node by node
    std::vector<Node> nodes_;
};

}  // namespace nodebridge::modbus
