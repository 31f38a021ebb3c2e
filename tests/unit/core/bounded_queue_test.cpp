#include "nodebridge/bounded_queue.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace nodebridge {
namespace {

using namespace std::chrono_literals;

TEST(BoundedQueue, PopsInPushOrder) {
    BoundedQueue<int> queue(4);
    EXPECT_TRUE(queue.push(1));
    EXPECT_TRUE(queue.push(2));
    EXPECT_EQ(queue.pop_for(0ms), 1);
    EXPECT_EQ(queue.pop_for(0ms), 2);
    EXPECT_EQ(queue.pop_for(0ms), std::nullopt);
}

TEST(BoundedQueue, FullQueueDropsOldestAndCountsIt) {
    BoundedQueue<int> queue(2);
    queue.push(1);
    queue.push(2);
    EXPECT_FALSE(queue.push(3));
    EXPECT_EQ(queue.dropped(), 1u);
    EXPECT_EQ(queue.size(), 2u);
    EXPECT_EQ(queue.pop_for(0ms), 2);
    EXPECT_EQ(queue.pop_for(0ms), 3);
}

TEST(BoundedQueue, PopAllTakesEveryItemInOrderAfterWhatIsThere) {
    BoundedQueue<int> queue(8);
    for (int i = 1; i <= 5; ++i) queue.push(i);
    std::vector<int> out{0};
    EXPECT_EQ(queue.pop_all_until(std::chrono::steady_clock::now(), out), 5u);
    EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(queue.size(), 0u);
    EXPECT_EQ(queue.pop_all_until(std::chrono::steady_clock::now() + 10ms, out), 0u);
    EXPECT_EQ(out.size(), 6u);
}

TEST(BoundedQueue, PopAllWakesForAPushAndReturnsWhenClosed) {
    BoundedQueue<int> queue(8);
    std::thread producer([&] {
        std::this_thread::sleep_for(10ms);
        queue.push(42);
    });
    std::vector<int> out;
    EXPECT_EQ(queue.pop_all_until(std::chrono::steady_clock::now() + 5s, out), 1u);
    producer.join();
    EXPECT_EQ(out, std::vector<int>{42});
    queue.close();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(queue.pop_all_until(start + 5s, out), 0u);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(BoundedQueue, PopTimesOutWhenEmpty) {
    BoundedQueue<int> queue(1);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(queue.pop_for(20ms), std::nullopt);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
}

TEST(BoundedQueue, CloseWakesWaitingConsumerAndKeepsQueuedItems) {
    BoundedQueue<int> queue(4);
    queue.push(7);
    queue.close();
    EXPECT_FALSE(queue.push(8));
    EXPECT_EQ(queue.pop_for(1s), 7);
    EXPECT_EQ(queue.pop_for(1s), std::nullopt);

    BoundedQueue<int> empty(1);
    std::thread closer([&] {
        std::this_thread::sleep_for(10ms);
        empty.close();
    });
    EXPECT_EQ(empty.pop_for(10s), std::nullopt);
    closer.join();
}

TEST(BoundedQueue, ConsumerReceivesFromOtherThread) {
    BoundedQueue<int> queue(1000);
    std::thread producer([&] {
        for (int i = 0; i < 500; ++i) queue.push(i);
    });
    int expected = 0;
    while (expected < 500) {
        auto item = queue.pop_for(5s);
        ASSERT_TRUE(item.has_value());
        EXPECT_EQ(*item, expected++);
    }
    producer.join();
}

}  // namespace
}  // namespace nodebridge
