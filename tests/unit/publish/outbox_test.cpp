#include "outbox.hpp"

#include <gtest/gtest.h>

namespace nodebridge {
namespace {

Message numbered(int n) { return Message{.topic = "t", .payload = std::to_string(n)}; }

TEST(Outbox, KeepsOrderAndDropsTheOldestWhenFull) {
    Outbox outbox(3);
    EXPECT_EQ(outbox.push_back(numbered(1)), 0u);
    EXPECT_EQ(outbox.push_back(numbered(2)), 0u);
    EXPECT_EQ(outbox.push_back(numbered(3)), 0u);
    EXPECT_EQ(outbox.push_back(numbered(4)), 1u);
    ASSERT_EQ(outbox.size(), 3u);
    EXPECT_EQ(outbox.pop_front()->payload, "2");
    EXPECT_EQ(outbox.pop_front()->payload, "3");
    EXPECT_EQ(outbox.pop_front()->payload, "4");
    EXPECT_FALSE(outbox.pop_front().has_value());
}

TEST(Outbox, PutBackGoesFirstUnlessFull) {
    Outbox outbox(2);
    outbox.push_back(numbered(1));
    outbox.push_back(numbered(2));
    auto first = outbox.pop_front();
    EXPECT_EQ(outbox.push_front(std::move(*first)), 0u);
    EXPECT_EQ(outbox.pop_front()->payload, "1");
    outbox.push_back(numbered(3));                  // full again: 2, 3
    EXPECT_EQ(outbox.push_front(numbered(0)), 1u);  // the put-back one is the oldest
    EXPECT_EQ(outbox.size(), 2u);
    EXPECT_EQ(outbox.pop_front()->payload, "2");
}

TEST(Outbox, ZeroCapacityHoldsOne) {
    Outbox outbox(0);
    EXPECT_EQ(outbox.capacity(), 1u);
    outbox.push_back(numbered(1));
    EXPECT_EQ(outbox.push_back(numbered(2)), 1u);
    EXPECT_EQ(outbox.clear(), 1u);
    EXPECT_TRUE(outbox.empty());
}

}  // namespace
}  // namespace nodebridge
