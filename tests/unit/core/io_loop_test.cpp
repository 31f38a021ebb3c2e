// The event loop on its own: timers in order and never early, posted tasks, run_sync, a
// watched pipe, a handler that unwatches itself, and stop().

#include "nodebridge/io_loop.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <string>
#include <vector>

#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;

TEST(IoLoop, RunsTimersInTheirOrderAndNeverEarly) {
    IoLoop loop("test-loop");
    loop.start();
    std::vector<int> order;
    std::vector<SteadyClock::duration> lateness;
    std::promise<void> done;
    const auto start = SteadyClock::now();
    loop.run_sync([&] {
        for (const int ms : {30, 10, 20}) {
            const auto when = start + std::chrono::milliseconds(ms);
            loop.at(when, [&, ms, when] {
                order.push_back(ms);
                lateness.push_back(SteadyClock::now() - when);
                if (order.size() == 3) done.set_value();
            });
        }
        const auto cancelled = loop.at(start + 15ms, [&] { order.push_back(-1); });
        loop.cancel(cancelled);
    });
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
    EXPECT_EQ(order, (std::vector<int>{10, 20, 30}));
    for (const auto late : lateness) EXPECT_GE(late, SteadyClock::duration::zero());
    loop.run_sync([&] { EXPECT_EQ(loop.timers(), 0u); });
}

TEST(IoLoop, RunsPostedTasksOnItsOwnNamedThread) {
    IoLoop loop("modbus-tcp-io");
    loop.start();
    std::string name;
    bool in_loop = false;
    ASSERT_TRUE(loop.run_sync([&] {
        char buffer[16] = {};
        pthread_getname_np(pthread_self(), buffer, sizeof buffer);
        name = buffer;
        in_loop = loop.in_loop();
    }));
    EXPECT_EQ(name, "modbus-tcp-io");
    EXPECT_TRUE(in_loop);
    EXPECT_FALSE(loop.in_loop());
    std::atomic<int> ran{0};
    for (int i = 0; i < 100; ++i) loop.post([&] { ++ran; });
    loop.run_sync([] {});
    EXPECT_EQ(ran, 100);
}

TEST(IoLoop, CallsAWatchedDescriptorsHandlerUntilItUnwatchesItself) {
    IoLoop loop("test-loop");
    loop.start();
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    std::promise<std::string> got;
    std::string received;
    loop.run_sync([&] {
        ASSERT_TRUE(loop.watch(pipe_fds[0], EPOLLIN, [&](std::uint32_t events) {
            EXPECT_TRUE(events & EPOLLIN);
            char buffer[64];
            const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
            if (n > 0) received.append(buffer, static_cast<std::size_t>(n));
            if (received.size() >= 5) {
                loop.unwatch(pipe_fds[0]);  // from inside its own handler
                got.set_value(received);
            }
        }));
    });
    ASSERT_EQ(::write(pipe_fds[1], "he", 2), 2);
    std::this_thread::sleep_for(20ms);
    ASSERT_EQ(::write(pipe_fds[1], "llo", 3), 3);
    auto future = got.get_future();
    ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(future.get(), "hello");
    loop.run_sync([&] { EXPECT_EQ(loop.watched(), 0u); });
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
}

TEST(IoLoop, StopRunsWhatWasPostedAndRefusesTheRest) {
    IoLoop loop("test-loop");
    EXPECT_FALSE(loop.post([] {}));  // not started
    loop.start();
    std::atomic<int> ran{0};
    loop.post([&] {
        std::this_thread::sleep_for(50ms);
        ++ran;
    });
    loop.post([&] { ++ran; });
    loop.stop();
    EXPECT_EQ(ran, 2);
    EXPECT_FALSE(loop.post([&] { ++ran; }));
    EXPECT_FALSE(loop.run_sync([&] { ++ran; }));
    EXPECT_EQ(ran, 2);
    loop.stop();   // twice is fine
    loop.start();  // and it starts again
    EXPECT_TRUE(loop.run_sync([&] { ++ran; }));
    EXPECT_EQ(ran, 3);
}

}  // namespace
}  // namespace nodebridge

namespace nodebridge {
namespace {

// What a turn collected is handed on at its end: after the turn's handlers and timers.
TEST(IoLoop, RunsEndOfTurnTasksAfterTheTurnsWork) {
    IoLoop loop("test-loop");
    loop.start();
    std::vector<std::string> order;
    std::promise<void> done;
    IoLoop::TimerId hook = 0;
    loop.run_sync([&] {
        hook = loop.at_end_of_turn([&] {
            if (order.empty() || order.back() == "end") return;
            order.push_back("end");
            if (order.size() == 3) done.set_value();
        });
        const auto when = SteadyClock::now() + 10ms;
        loop.at(when, [&] {
            order.push_back("timer a");
            loop.end_turn_with(hook);
        });
        loop.at(when, [&] {
            order.push_back("timer b");
            loop.end_turn_with(hook);  // asked twice, run once
        });
    });
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
    loop.run_sync([&] { loop.remove_end_of_turn(hook); });
    EXPECT_EQ(order, (std::vector<std::string>{"timer a", "timer b", "end"}));
}

// Timers due within one slot share a wake-up: five timers spread over one slot run in one
// turn, each no sooner than due and at most a slot (and the scheduler's slack) late.
TEST(IoLoop, RunsTheTimersOfOneSlotInOneTurn) {
    IoLoop loop("test-loop");
    loop.start();
    std::atomic<int> turn{0};
    std::vector<int> turns;
    std::vector<SteadyClock::duration> lateness;
    std::promise<void> done;
    IoLoop::TimerId hook = 0;
    loop.run_sync([&] {
        hook = loop.at_end_of_turn([&] { ++turn; });
        // A slot's start, 20 ms ahead.
        const auto ahead = (SteadyClock::now() + 20ms).time_since_epoch();
        const SteadyClock::time_point slot(
            std::chrono::duration_cast<SteadyClock::duration>(ahead / kTimerSlot * kTimerSlot));
        for (int i = 1; i <= 5; ++i) {
            const auto when = slot + kTimerSlot * i / 6;
            loop.at(when, [&, i, when] {
                loop.end_turn_with(hook);
                turns.push_back(turn.load());
                lateness.push_back(SteadyClock::now() - when);
                if (i == 5) done.set_value();
            });
        }
    });
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
    loop.run_sync([&] { loop.remove_end_of_turn(hook); });
    ASSERT_EQ(turns.size(), 5u);
    for (int each : turns) EXPECT_EQ(each, turns.front());
    for (const auto late : lateness) {
        EXPECT_GE(late, SteadyClock::duration::zero());
        EXPECT_LT(late, 50ms);  // a slot, and whatever a loaded machine adds
    }
}

// Only the end-of-turn tasks a turn asked for run: a thousand idle sources cost nothing.
TEST(IoLoop, RunsOnlyTheEndOfTurnTasksAskedFor) {
    IoLoop loop("test-loop");
    loop.start();
    int asked_runs = 0;
    int idle_runs = 0;
    IoLoop::TimerId asked = 0;
    IoLoop::TimerId idle = 0;
    std::promise<void> done;
    loop.run_sync([&] {
        asked = loop.at_end_of_turn([&] { ++asked_runs; });
        idle = loop.at_end_of_turn([&] { ++idle_runs; });
        loop.at(SteadyClock::now() + 5ms, [&] { loop.end_turn_with(asked); });
        // Later turns with work but no asking.
        for (const auto ms : {10ms, 15ms, 20ms}) loop.at(SteadyClock::now() + ms, [] {});
        loop.at(SteadyClock::now() + 25ms, [&] { done.set_value(); });
    });
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
    loop.run_sync([&] {
        loop.remove_end_of_turn(asked);
        loop.remove_end_of_turn(idle);
    });
    EXPECT_EQ(asked_runs, 1);
    EXPECT_EQ(idle_runs, 0);
}

}  // namespace
}  // namespace nodebridge
