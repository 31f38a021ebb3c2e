#include "sources/serial/node_availability.hpp"

#include <gtest/gtest.h>

namespace nodebridge::serial {
namespace {

using std::chrono::seconds;

TEST(NodeAvailability, FixedOfflineAfterTakesNodesOfflineAndBack) {
    NodeAvailability availability(Millis(10'000));
    const SteadyClock::time_point t0{};
    EXPECT_TRUE(availability.heard("a", t0));
    EXPECT_FALSE(availability.heard("a", t0 + seconds(5)));
    EXPECT_TRUE(availability.heard("b", t0 + seconds(6)));
    EXPECT_EQ(availability.total(), 2);
    EXPECT_EQ(availability.online(), 2);
    EXPECT_LE(availability.next_due(), t0 + seconds(15));  // never late, may be early

    std::vector<std::string> offline;
    availability.check(t0 + seconds(14), offline);
    EXPECT_TRUE(offline.empty());
    availability.check(t0 + seconds(15), offline);
    EXPECT_EQ(offline, std::vector<std::string>{"a"});
    EXPECT_EQ(availability.online(), 1);
    EXPECT_EQ(availability.next_due(), t0 + seconds(16));

    EXPECT_TRUE(availability.heard("a", t0 + seconds(20)));
    EXPECT_EQ(availability.online(), 2);
    EXPECT_EQ(availability.total(), 2);
}

TEST(NodeAvailability, DefaultsToThreeObservedIntervalsAtLeastThirtySeconds) {
    NodeAvailability availability(std::nullopt);
    const SteadyClock::time_point t0{};
    availability.heard("fast", t0);
    availability.heard("slow", t0);
    const auto status = [&](const std::string& node) {
        for (const NodeStatus& s : availability.snapshot()) {
            if (s.node == node) return s;
        }
        ADD_FAILURE() << node;
        return NodeStatus{};
    };
    EXPECT_EQ(availability.offline_after(status("fast")),
              NodeAvailability::kUnknownIntervalOfflineAfter);

    availability.heard("fast", t0 + seconds(2));
    availability.heard("slow", t0 + seconds(60));
    EXPECT_EQ(availability.offline_after(status("fast")), Millis(30'000));
    EXPECT_EQ(availability.offline_after(status("slow")), Millis(180'000));

    std::vector<std::string> offline;
    availability.check(t0 + seconds(33), offline);
    EXPECT_EQ(offline, std::vector<std::string>{"fast"});
    availability.check(t0 + seconds(239), offline);
    EXPECT_EQ(offline.size(), 1u);
    availability.check(t0 + seconds(240), offline);
    EXPECT_EQ(offline, (std::vector<std::string>{"fast", "slow"}));
}

TEST(NodeAvailability, SmoothsTheIntervalAndIgnoresTheOfflineGap) {
    NodeAvailability availability(std::nullopt);
    const SteadyClock::time_point t0{};
    availability.heard("n", t0);
    availability.heard("n", t0 + seconds(20));  // interval 20 s
    availability.heard("n", t0 + seconds(60));  // one report lost: (3*20 + 40) / 4 = 25 s
    ASSERT_EQ(availability.snapshot().size(), 1u);
    EXPECT_EQ(availability.snapshot()[0].interval, Millis(25'000));

    std::vector<std::string> offline;
    availability.check(t0 + seconds(60 + 75), offline);
    EXPECT_EQ(offline.size(), 1u);
    EXPECT_TRUE(availability.heard("n", t0 + seconds(1000)));
    EXPECT_EQ(availability.snapshot()[0].interval, Millis(25'000));
}

TEST(NodeAvailability, StopsTrackingBeyondTheNodeLimit) {
    NodeAvailability availability(Millis(1000));
    const SteadyClock::time_point t0{};
    for (std::size_t i = 0; i < NodeAvailability::kMaxNodes; ++i) {
        availability.heard("n" + std::to_string(i), t0);
    }
    EXPECT_FALSE(availability.heard("one-too-many", t0));
    EXPECT_EQ(availability.untracked(), 1u);
    EXPECT_EQ(availability.total(), static_cast<int>(NodeAvailability::kMaxNodes));
}

}  // namespace
}  // namespace nodebridge::serial
