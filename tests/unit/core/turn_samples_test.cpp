// TurnSamples: the samples of a loop turn reach the queue together when the turn ends, at once
// while hand-offs are rare, and at most about one per kMinHandOff (plus a short burst) when
// turns come faster, so a busy loop does not wake the mapping thread on every turn.

#include "nodebridge/turn_samples.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace nodebridge {
namespace {

using namespace std::chrono_literals;

Sample numbered(int n) {
    Sample sample;
    sample.source = "bus";
    sample.node = "n" + std::to_string(n);
    return sample;
}

// Turns a few milliseconds apart: each turn's samples are in the queue when the next turn
// starts, none held back.
TEST(TurnSamples, RareHandOffsGoAtTheEndOfTheirTurn) {
    SampleQueue queue(1000);
    IoLoop loop("turn-test");
    TurnSamples turn(loop, queue);
    loop.start();
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(loop.run_sync([&] {
            turn.add(numbered(2 * i));
            turn.add(numbered(2 * i + 1));
            EXPECT_EQ(queue.size(), static_cast<std::size_t>(2 * i));  // held until the turn ends
        }));
        std::size_t after_turn = 0;
        ASSERT_TRUE(loop.run_sync([&] { after_turn = queue.size(); }));  // the next turn
        EXPECT_EQ(after_turn, static_cast<std::size_t>(2 * i + 2)) << i;
        std::this_thread::sleep_for(3 * kMinHandOff);
    }
    loop.stop();
}

// Thousands of turns as fast as the loop goes, each with a sample: the consumer is woken at
// most once per kMinHandOff of the time they took (plus the burst), and gets every sample in
// order.
TEST(TurnSamples, FastTurnsAreHandedOverAtMostOncePerMinHandOff) {
    SampleQueue queue(100'000);
    IoLoop loop("turn-test");
    TurnSamples turn(loop, queue);
    loop.start();
    constexpr int kTurns = 4000;
    std::atomic<bool> done{false};
    std::vector<Sample> got;               // the consumer's until it is joined
    std::atomic<std::size_t> received{0};  // got.size(), for the test's thread
    int wake_ups = 0;                      // pops that found samples
    std::thread consumer([&] {
        while (!done || queue.size() > 0) {
            if (queue.pop_all_until(SteadyClock::now() + 10ms, got) > 0) ++wake_ups;
            received = got.size();
        }
    });
    const auto start = SteadyClock::now();
    for (int i = 0; i < kTurns; ++i) loop.run_sync([&] { turn.add(numbered(i)); });  // a turn each
    const auto posted = SteadyClock::now();
    const auto deadline = posted + 5s;
    while (received < kTurns && SteadyClock::now() < deadline) {
        std::this_thread::sleep_for(1ms);
    }
    const auto elapsed = SteadyClock::now() - start;
    done = true;
    consumer.join();
    loop.stop();
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kTurns));
    for (int i = 0; i < kTurns; ++i) ASSERT_EQ(got[i].node, "n" + std::to_string(i)) << i;
    const auto bound = elapsed / kMinHandOff + kHandOffBurst + 1;
    EXPECT_LE(wake_ups, bound) << "in "
                               << std::chrono::duration<double, std::milli>(elapsed).count()
                               << " ms";
    EXPECT_GE(wake_ups, 1);
    std::printf("%d turns, %d wake-ups in %.1f ms\n", kTurns, wake_ups,
                std::chrono::duration<double, std::milli>(elapsed).count());
}

}  // namespace
}  // namespace nodebridge
