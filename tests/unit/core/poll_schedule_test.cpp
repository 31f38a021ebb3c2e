#include "nodebridge/poll_schedule.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <vector>

namespace nodebridge {
namespace {

using namespace std::chrono_literals;
using TimePoint = PollSchedule::TimePoint;
using Duration = PollSchedule::Duration;

// An arbitrary instant, far from the clock's epoch.
const TimePoint kStart = TimePoint(1'000'000s);

struct Poll {
    std::size_t node;
    TimePoint at;
};

// Drives `schedule` the way a source's thread does, on a virtual clock from `from` to
// `until`: wait for the earliest deadline, poll that node (taking `cost(node)`), report it.
// `outage` (if set) is a time span during which the bus is down; the source reconnects at
// its end and resumes the schedule.
std::vector<Poll> run(PollSchedule& schedule, TimePoint from, TimePoint until,
                      const std::function<Duration(std::size_t)>& cost,
                      std::pair<TimePoint, TimePoint> outage = {}) {
    std::vector<Poll> polls;
    TimePoint now = from;
    while (now < until) {
        const std::size_t node = schedule.next();
        now = std::max(now, schedule.deadline(node));
        if (now >= outage.first && now < outage.second) {
            now = outage.second;
            schedule.resume(now);
            continue;
        }
        if (now >= until) break;
        polls.push_back({node, now});
        now += cost(node);
        schedule.polled(node, now);
    }
    return polls;
}

std::vector<Millis> same_interval(std::size_t count, Millis interval) {
    return std::vector<Millis>(count, interval);
}

// The gaps between consecutive instants of `times` (sorted first).
std::vector<Duration> gaps(std::vector<TimePoint> times) {
    std::sort(times.begin(), times.end());
    std::vector<Duration> out;
    for (std::size_t i = 1; i < times.size(); ++i) out.push_back(times[i] - times[i - 1]);
    return out;
}

std::vector<TimePoint> times_of(const std::vector<Poll>& polls, TimePoint from, TimePoint until) {
    std::vector<TimePoint> out;
    for (const Poll& poll : polls) {
        if (poll.at >= from && poll.at < until) out.push_back(poll.at);
    }
    return out;
}

TEST(PollSchedule, FirstPollsSpreadEvenlyAcrossTheInterval) {
    // The benchmark's shape: 100 nodes polled every 200 ms, 2 ms apart.
    const PollSchedule schedule(same_interval(100, 200ms), "bus-1", kStart);
    std::vector<TimePoint> first;
    for (std::size_t i = 0; i < schedule.size(); ++i) {
        EXPECT_GE(schedule.first(i), kStart);
        EXPECT_LT(schedule.first(i), kStart + 200ms);
        EXPECT_EQ(schedule.deadline(i), schedule.first(i));
        first.push_back(schedule.first(i));
    }
    for (const Duration gap : gaps(first)) EXPECT_EQ(gap, 2ms);
    // In config order.
    for (std::size_t i = 1; i < schedule.size(); ++i) {
        EXPECT_LT(schedule.first(i - 1), schedule.first(i));
    }
}

TEST(PollSchedule, NodesSharingAnIntervalAreSpreadAmongThemselves) {
    // Two 1 s nodes, three 300 ms nodes, interleaved in the config.
    const PollSchedule schedule({1000ms, 300ms, 1000ms, 300ms, 300ms}, "mixed", kStart);
    EXPECT_EQ(schedule.offset(2) - schedule.offset(0), 500ms);
    EXPECT_EQ(schedule.offset(3) - schedule.offset(1), 100ms);
    EXPECT_EQ(schedule.offset(4) - schedule.offset(3), 100ms);
    for (std::size_t i = 0; i < schedule.size(); ++i) {
        EXPECT_GE(schedule.offset(i), Duration(0));
        EXPECT_LT(schedule.offset(i), schedule.interval(i));
    }
}

TEST(PollSchedule, TheSaltTurnsTheGridByLessThanOneSpacing) {
    const PollSchedule a(same_interval(20, 200ms), "bus-a", kStart);
    const PollSchedule a_again(same_interval(20, 200ms), "bus-a", kStart + 5s);
    const PollSchedule b(same_interval(20, 200ms), "bus-b", kStart);
    EXPECT_LT(a.offset(0), 10ms);
    EXPECT_LT(b.offset(0), 10ms);
    EXPECT_NE(a.offset(0), b.offset(0));  // two sources do not poll together
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a.offset(i), a_again.offset(i));
}

TEST(PollSchedule, ALongIntervalStillReadsTheFirstNodeSoon) {
    const PollSchedule schedule({1h, 1h}, "hourly", kStart);
    EXPECT_LT(schedule.offset(0), PollSchedule::kMaxTurn);
    EXPECT_EQ(schedule.offset(1) - schedule.offset(0), 30min);
}

TEST(PollSchedule, ZeroIntervalCountsAsOneMillisecond) {
    const PollSchedule schedule({0ms}, "", kStart);
    EXPECT_EQ(schedule.interval(0), 1ms);
    EXPECT_LT(schedule.offset(0), 1ms);
}

TEST(PollSchedule, GridPointsAtOrAfterAndStrictlyAfter) {
    const PollSchedule schedule({100ms}, "one", kStart);
    const TimePoint first = schedule.first(0);
    EXPECT_EQ(schedule.at_or_after(0, kStart - 1h), first);
    EXPECT_EQ(schedule.after(0, kStart - 1h), first);
    EXPECT_EQ(schedule.at_or_after(0, first), first);
    EXPECT_EQ(schedule.after(0, first), first + 100ms);
    EXPECT_EQ(schedule.at_or_after(0, first + 1ns), first + 100ms);
    EXPECT_EQ(schedule.after(0, first + 99ms), first + 100ms);
    // A poll that finished 2.5 intervals late skips the missed points.
    EXPECT_EQ(schedule.after(0, first + 250ms), first + 300ms);
    EXPECT_EQ(schedule.at_or_after(0, first + 300ms), first + 300ms);
}

TEST(PollSchedule, SteadyStateDeadlinesStayEvenlySpread) {
    PollSchedule schedule(same_interval(100, 200ms), "bus-1", kStart);
    const auto polls = run(schedule, kStart, kStart + 10s, [](std::size_t) { return 500us; });
    // Every node once per interval: 50 polls each in 10 s, no more, no fewer.
    std::vector<int> per_node(100, 0);
    for (const Poll& poll : polls) ++per_node[poll.node];
    for (const int count : per_node) EXPECT_EQ(count, 50);
    // Polls on their grid points, 2 ms apart throughout the last seconds.
    for (const Poll& poll : polls) {
        EXPECT_EQ((poll.at - schedule.first(poll.node)) % 200ms, Duration(0));
    }
    for (const Duration gap : gaps(times_of(polls, kStart + 8s, kStart + 10s))) {
        EXPECT_EQ(gap, 2ms);
    }
}

TEST(PollSchedule, ADeadUnitCostsItsTimeoutAndTheSpreadComesBack) {
    // Node 7 does not answer for the first 3 s: each poll of it blocks the bus for a 300 ms
    // timeout. The others are polled late meanwhile, never twice for one grid point, and once
    // the unit answers again the stream is as even as before.
    PollSchedule schedule(same_interval(100, 200ms), "bus-1", kStart);
    TimePoint clock = kStart;
    std::vector<Poll> polls;
    auto cost = [&](std::size_t node) -> Duration {
        return node == 7 && clock < kStart + 3s ? Duration(300ms) : Duration(500us);
    };
    while (clock < kStart + 8s) {
        const std::size_t node = schedule.next();
        clock = std::max(clock, schedule.deadline(node));
        polls.push_back({node, clock});
        clock += cost(node);
        schedule.polled(node, clock);
    }
    // No catching up: at most one poll per node per interval, the dead one included.
    std::vector<int> per_node(100, 0);
    for (const Poll& poll : polls) ++per_node[poll.node];
    for (const int count : per_node) EXPECT_LE(count, 41);
    for (std::size_t node = 0; node < 100; ++node) {
        EXPECT_EQ((schedule.deadline(node) - schedule.first(node)) % 200ms, Duration(0)) << node;
    }
    for (const Duration gap : gaps(times_of(polls, kStart + 5s, kStart + 8s))) {
        EXPECT_EQ(gap, 2ms);
    }
}

TEST(PollSchedule, AHoldKeepsADeadUnitAwayOnItsGrid) {
    // A dead unit (dead_poll 30 s, poll 1 s) is held back 29 s after each poll: its next
    // deadline is the first grid point after that, so it is polled about every 30 s and
    // still on the grid it had; a hold of zero (or less) is an ordinary poll.
    PollSchedule schedule(same_interval(4, 1s), "bus-1", kStart);
    const TimePoint done = schedule.first(2) + 300ms;
    schedule.polled(2, done, 29s);
    EXPECT_EQ(schedule.deadline(2), schedule.after(2, done + 29s));
    EXPECT_GE(schedule.deadline(2) - done, Duration(29s));
    EXPECT_LT(schedule.deadline(2) - done, Duration(30s));
    EXPECT_EQ((schedule.deadline(2) - schedule.first(2)) % 1s, Duration(0));
    schedule.polled(1, done, -5s);
    EXPECT_EQ(schedule.deadline(1), schedule.after(1, done));
}

TEST(PollSchedule, AReconnectResumesOnTheGridWithoutABurst) {
    PollSchedule schedule(same_interval(50, 100ms), "bus-1", kStart);
    // The bus is down from 1.2345 s to 4.321 s.
    const TimePoint down = kStart + 1234500us;
    const TimePoint up = kStart + 4321ms;
    const auto polls =
        run(schedule, kStart, kStart + 6s, [](std::size_t) { return 100us; }, {down, up});
    // Nothing polled during the outage, and the first interval after it has every node
    // exactly once, 2 ms apart (as before the outage), not all of them at `up`.
    for (const Poll& poll : polls) EXPECT_FALSE(poll.at >= down && poll.at < up);
    const auto after_outage = times_of(polls, up, up + 100ms);
    EXPECT_EQ(after_outage.size(), 50u);
    for (const Duration gap : gaps(after_outage)) EXPECT_EQ(gap, 2ms);
    for (const Duration gap : gaps(times_of(polls, kStart, down))) EXPECT_EQ(gap, 2ms);
    for (const Poll& poll : polls) {
        EXPECT_EQ((poll.at - schedule.first(poll.node)) % 100ms, Duration(0));
    }
}

TEST(PollSchedule, AReadBackIsPolledAtOnceThenReturnsToItsGrid) {
    PollSchedule schedule(same_interval(10, 1s), "bus-1", kStart);
    // Every node was polled by 2 s, so every deadline lies after it; then node 3 is written.
    const TimePoint write_done = kStart + 2s;
    for (std::size_t node = 0; node < schedule.size(); ++node) schedule.polled(node, write_done);
    schedule.poll_by(3, write_done);
    EXPECT_EQ(schedule.deadline(3), write_done);
    EXPECT_EQ(schedule.next(), 3u);
    schedule.polled(3, write_done + 5ms);
    EXPECT_EQ(schedule.deadline(3), schedule.after(3, write_done + 5ms));
    EXPECT_EQ((schedule.deadline(3) - schedule.first(3)) % 1s, Duration(0));
    // A later deadline is never pushed back.
    schedule.poll_by(3, schedule.deadline(3) + 1h);
    EXPECT_EQ(schedule.deadline(3), schedule.after(3, write_done + 5ms));
}

// The TCP loop polls several nodes at once: a node whose poll is under way is passed over,
// and polled() puts it back on its grid.
TEST(PollSchedule, ANodeWhosePollIsUnderWayIsPassedOverUntilPolled) {
    PollSchedule schedule({1000ms, 1000ms}, "s", kStart);
    const std::size_t first = schedule.next();
    const std::size_t other = 1 - first;
    schedule.started(first);
    EXPECT_EQ(schedule.next(), other);
    EXPECT_EQ(schedule.deadline(first), TimePoint::max());
    schedule.polled(first, schedule.first(first) + 10ms);
    EXPECT_EQ(schedule.deadline(first), schedule.first(first) + 1000ms);
}

}  // namespace
}  // namespace nodebridge
