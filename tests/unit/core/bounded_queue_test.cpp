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

namespace nodebridge {
namespace {

// A producer hands over a turn's items in one go: all of them, in order, oldest evicted when
// full, and a consumer waiting in pop_all_until() gets them in one wake-up.
TEST(BoundedQueue, PushAllHandsOverEveryItemInOrderAndEvictsTheOldest) {
    BoundedQueue<int> queue(5);
    std::vector<int> batch{1, 2, 3};
    EXPECT_EQ(queue.push_all(batch), 0u);
    EXPECT_TRUE(batch.empty());
    batch = {4, 5, 6, 7};
    EXPECT_EQ(queue.push_all(batch), 2u);  // 1 and 2 make room
    EXPECT_EQ(queue.dropped(), 2u);
    std::vector<int> out;
    EXPECT_EQ(queue.pop_all_until(std::chrono::steady_clock::now(), out), 5u);
    EXPECT_EQ(out, (std::vector<int>{3, 4, 5, 6, 7}));
    std::vector<int> empty;
    EXPECT_EQ(queue.push_all(empty), 0u);
    queue.close();
    batch = {8, 9};
    EXPECT_EQ(queue.push_all(batch), 2u);
    EXPECT_EQ(queue.dropped(), 4u);

    BoundedQueue<int> waited(10);
    std::vector<int> got;
    std::thread consumer([&] {
        waited.pop_all_until(std::chrono::steady_clock::now() + std::chrono::seconds(5), got);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::vector<int> turn{1, 2, 3, 4};
    waited.push_all(turn);
    consumer.join();
    EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
}

}  // namespace
}  // namespace nodebridge
