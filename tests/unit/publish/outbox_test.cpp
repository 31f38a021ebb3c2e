#include "outbox.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace nodebridge {
namespace {

Message numbered(int n) { return Message{.topic = "t", .payload = std::to_string(n)}; }

// Everything in `outbox`, oldest first, as payloads.
std::vector<std::string> take_all(Outbox& outbox) {
    std::deque<Message> taken;
    outbox.take(outbox.size(), taken);
    std::vector<std::string> out;
    for (const Message& message : taken) out.push_back(message.payload);
    return out;
}

TEST(Outbox, KeepsOrderAndDropsTheOldestWhenFull) {
    Outbox outbox(3);
    EXPECT_EQ(outbox.push_back(numbered(1)), 0u);
    EXPECT_EQ(outbox.push_back(numbered(2)), 0u);
    EXPECT_EQ(outbox.push_back(numbered(3)), 0u);
    EXPECT_EQ(outbox.push_back(numbered(4)), 1u);
    ASSERT_EQ(outbox.size(), 3u);
    EXPECT_EQ(take_all(outbox), (std::vector<std::string>{"2", "3", "4"}));
    EXPECT_TRUE(outbox.empty());
}

TEST(Outbox, TakesABatchOfTheOldestAfterWhatIsAlreadyTaken) {
    Outbox outbox(10);
    for (int n = 1; n <= 5; ++n) outbox.push_back(numbered(n));
    std::deque<Message> taken;
    taken.push_back(numbered(0));  // left from an earlier batch
    EXPECT_EQ(outbox.take(3, taken), 3u);
    ASSERT_EQ(taken.size(), 4u);
    EXPECT_EQ(taken[0].payload, "0");
    EXPECT_EQ(taken[1].payload, "1");
    EXPECT_EQ(taken[3].payload, "3");
    EXPECT_EQ(outbox.size(), 2u);
    EXPECT_EQ(outbox.take(100, taken), 2u);  // no more than there is
    EXPECT_EQ(taken.back().payload, "5");
    EXPECT_EQ(outbox.take(100, taken), 0u);
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
