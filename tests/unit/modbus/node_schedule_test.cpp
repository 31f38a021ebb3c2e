// NodeSchedule: a node's interval groups each on a grid of their own, spread across the bus,
// read together when due together, never caught up in a burst.

#include "node_schedule.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace nodebridge::modbus {
namespace {

using namespace std::chrono_literals;
using TimePoint = NodeSchedule::TimePoint;
using Duration = NodeSchedule::Duration;

const TimePoint kStart = TimePoint(1000h);

struct Read {
    TimePoint at;
    std::size_t node;
    std::vector<std::size_t> groups;
};

// Drives `schedule` like a source whose every poll takes `cost` on the bus, from kStart until
// `until`; returns each poll with the groups it read.
std::vector<Read> run(NodeSchedule& schedule, TimePoint until, Duration cost = 1ms) {
    std::vector<Read> reads;
    TimePoint now = kStart;
    for (;;) {
        const std::size_t node = schedule.next();
        now = std::max(now, schedule.deadline(node));
        if (now >= until) break;
        reads.push_back({now, node, schedule.started(node, now)});
        now += cost;
        schedule.polled(node, now);
    }
    return reads;
}

// Ten SDM630-shaped meters: instantaneous values every second, energy every minute.
std::vector<std::vector<Millis>> ten_meters() {
    return std::vector<std::vector<Millis>>(10, std::vector<Millis>{1000ms, 60000ms});
}

TEST(NodeSchedule, EachIntervalGroupIsSpreadEvenlyAcrossTheBus) {
    const NodeSchedule schedule(ten_meters(), "rtu-1", kStart);
    for (std::size_t node = 1; node < 10; ++node) {
        EXPECT_EQ(schedule.offset(node, 0) - schedule.offset(node - 1, 0), Duration(100ms));
        EXPECT_EQ(schedule.offset(node, 1) - schedule.offset(node - 1, 1), Duration(6s));
        EXPECT_EQ(schedule.interval(node, 0), Duration(1s));
        EXPECT_EQ(schedule.interval(node, 1), Duration(60s));
    }
}

TEST(NodeSchedule, EveryGroupIsReadAtItsOwnInterval) {
    NodeSchedule schedule(ten_meters(), "rtu-1", kStart);
    const auto reads = run(schedule, kStart + 180s);
    std::map<std::pair<std::size_t, std::size_t>, int> count;  // (node, group) -> reads
    for (const Read& read : reads) {
        ASSERT_FALSE(read.groups.empty());
        for (const std::size_t group : read.groups) ++count[{read.node, group}];
    }
    for (std::size_t node = 0; node < 10; ++node) {
        EXPECT_EQ((count[{node, 0}]), 180) << "node " << node;
        EXPECT_EQ((count[{node, 1}]), 3) << "node " << node;
    }
    // A group due with another is read in the same poll, not in one of its own: node 0's
    // minute points fall on its second points (the salt turns both grids alike), the other
    // nodes' minute points fall between theirs (9 nodes x 3 polls of their own).
    EXPECT_EQ(reads.size(), 1800u + 27u);
}

TEST(NodeSchedule, ReadsOnlyTheGroupsDueAndHoldsABusyNode) {
    NodeSchedule schedule({{100ms, 1000ms}}, "x", kStart);
    const TimePoint first = schedule.deadline(0);
    // The salt turns both grids alike: the first poll reads both groups.
    EXPECT_EQ(schedule.started(0, first), (std::vector<std::size_t>{0, 1}));
    EXPECT_EQ(schedule.deadline(0), TimePoint::max());  // busy until polled
    schedule.polled(0, first + 5ms);
    EXPECT_EQ(schedule.deadline(0), first + 100ms);
    EXPECT_EQ(schedule.started(0, first + 100ms), (std::vector<std::size_t>{0}));
    schedule.polled(0, first + 105ms);
    EXPECT_EQ(schedule.deadline(0), first + 200ms);
    // Called early (a write's read-back), the earliest group alone.
    EXPECT_EQ(schedule.started(0, first + 150ms), (std::vector<std::size_t>{0}));
    schedule.polled(0, first + 155ms);
    EXPECT_EQ(schedule.deadline(0), first + 200ms);
}

TEST(NodeSchedule, AStalledBusSkipsMissedPointsInsteadOfBursting) {
    NodeSchedule schedule({{1000ms, 60000ms}}, "x", kStart);
    const TimePoint first = schedule.deadline(0);
    ASSERT_EQ(schedule.started(0, first).size(), 2u);
    schedule.polled(0, first + 10ms);
    // The next poll (the 1 s group alone) hangs for 150 s: the minute group misses two
    // points meanwhile, and the second group 149 of its.
    EXPECT_EQ(schedule.started(0, first + 1s), (std::vector<std::size_t>{0}));
    schedule.polled(0, first + 151s);
    EXPECT_EQ(schedule.deadline(0), first + 60s);  // the minute group, late
    // Read once, late, alone (the second group's next point is still to come) ...
    EXPECT_EQ(schedule.started(0, first + 151s), (std::vector<std::size_t>{1}));
    schedule.polled(0, first + 151s + 10ms);
    // ... and then both back on their grids: nothing is caught up.
    EXPECT_EQ(schedule.deadline(0), first + 152s);
    EXPECT_EQ(schedule.started(0, first + 152s), (std::vector<std::size_t>{0}));
    schedule.polled(0, first + 152s + 10ms);
    TimePoint now = first + 152s + 10ms;
    int minute_reads = 0;
    while (now < first + 181s) {
        now = std::max(now, schedule.deadline(0));
        for (const std::size_t group : schedule.started(0, now)) minute_reads += group == 1;
        now += 10ms;
        schedule.polled(0, now);
    }
    EXPECT_EQ(minute_reads, 1);  // at first + 180s, its next point
}

TEST(NodeSchedule, ADeadUnitHoldsEveryGroupOfItsNode) {
    NodeSchedule schedule({{1000ms, 10000ms}, {1000ms}}, "x", kStart);
    const TimePoint at = kStart + 11s;  // both groups of node 0 are due
    ASSERT_EQ(schedule.started(0, at), (std::vector<std::size_t>{0, 1}));
    schedule.polled(0, at, 30s);  // dead: dead_poll 30 s
    EXPECT_GE(schedule.deadline(0), at + 29s);
    EXPECT_LE(schedule.deadline(0), at + 30s);
    // The 10 s group comes due first (10 s before its hold ends); polled with the hold
    // again, the 1 s group (not read) is held too, rather than polling the dead unit as
    // soon as that group's own hold ends.
    const TimePoint next = schedule.deadline(0);
    ASSERT_EQ(schedule.started(0, next), (std::vector<std::size_t>{1}));
    schedule.polled(0, next, 30s);
    EXPECT_GE(schedule.deadline(0), next + 20s);
    // The other node keeps its rhythm.
    EXPECT_LT(schedule.deadline(1), kStart + 1s);
}

TEST(NodeSchedule, PollByBringsEveryGroupForwardAndResumeSkipsTheOutage) {
    NodeSchedule schedule({{1000ms, 60000ms}}, "x", kStart);
    const TimePoint first = schedule.deadline(0);
    schedule.started(0, first);
    schedule.polled(0, first + 10ms);
    schedule.poll_by(0, first + 20ms);
    EXPECT_EQ(schedule.deadline(0), first + 20ms);
    EXPECT_EQ(schedule.started(0, first + 20ms), (std::vector<std::size_t>{0, 1}));
    schedule.polled(0, first + 30ms);
    EXPECT_EQ(schedule.deadline(0), first + 1s);  // back on the grids
    schedule.started(0, first + 1s);              // a poll under way when the link went
    schedule.resume(first + 90s + 500ms);
    EXPECT_EQ(schedule.deadline(0), first + 91s);
    EXPECT_EQ(schedule.started(0, first + 91s), (std::vector<std::size_t>{0}));
    schedule.polled(0, first + 91s);
    EXPECT_EQ(schedule.deadline(0), first + 92s);
}

TEST(NodeSchedule, ANodeWithoutGroupsIsNeverDue) {
    NodeSchedule schedule({{}, {500ms}}, "x", kStart);
    EXPECT_EQ(schedule.deadline(0), TimePoint::max());
    EXPECT_EQ(schedule.next(), 1u);
}

}  // namespace
}  // namespace nodebridge::modbus
