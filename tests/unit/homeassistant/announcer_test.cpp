// Announcer: what is queued after a plan change, a connect and Home Assistant's online, and
// that it comes out in batches.

#include <gtest/gtest.h>

#include "nodebridge/homeassistant.hpp"

namespace nodebridge::homeassistant {
namespace {

DiscoveryPlan plan_with(std::vector<std::string> nodes) {
    DiscoveryPlan plan;
    plan.prefix = "homeassistant";
    plan.origin = R"({"name":"nodebridge"})";
    for (const std::string& node : nodes) {
        plan.devices.push_back({node,
                                R"({"ids":[")" + node + R"("]})",
                                "",
                                {{"v", "sensor", R"("unique_id":")" + node + R"(_v")"}}});
    }
    return plan;
}

std::vector<std::string> topics(const std::vector<Message>& messages) {
    std::vector<std::string> out;
    for (const Message& message : messages) out.push_back(message.topic);
    return out;
}

TEST(Announcer, TheFirstPlanWaitsForTheConnect) {
    Announcer announcer;
    announcer.update(plan_with({"a", "b"}));
    EXPECT_TRUE(announcer.idle());
    announcer.announce();
    EXPECT_EQ(announcer.queued(), 2u);
}

TEST(Announcer, HandsOutBatches) {
    Announcer announcer;
    std::vector<std::string> nodes;
    for (int i = 0; i < 250; ++i) nodes.push_back("n" + std::to_string(i));
    announcer.update(plan_with(nodes));
    announcer.announce();
    EXPECT_EQ(announcer.take(100).size(), 100u);
    EXPECT_EQ(announcer.take(100).size(), 100u);
    const auto last = announcer.take(100);
    ASSERT_EQ(last.size(), 50u);
    EXPECT_EQ(last.back().topic, "homeassistant/device/n249/config");
    EXPECT_TRUE(announcer.idle());
}

TEST(Announcer, AnnouncingAgainDoesNotRepeatQueuedConfigs) {
    Announcer announcer;
    announcer.update(plan_with({"a", "b"}));
    announcer.announce();
    announcer.announce();  // Home Assistant came online before the first round went out
    EXPECT_EQ(announcer.queued(), 2u);
}

TEST(Announcer, AReloadQueuesRemovalsThenWhatChanged) {
    Announcer announcer;
    announcer.update(plan_with({"a", "b"}));
    announcer.announce();
    announcer.take(10);

    DiscoveryPlan next = plan_with({"a", "c"});
    announcer.update(next);
    const auto out = announcer.take(10);
    EXPECT_EQ(topics(out), (std::vector<std::string>{"homeassistant/device/b/config",
                                                     "homeassistant/device/c/config"}));
    EXPECT_EQ(out[0].payload, "");
    EXPECT_TRUE(out[0].retain);
    EXPECT_FALSE(out[1].payload.empty());
}

TEST(Announcer, ARemovedDeviceLeavesTheQueue) {
    Announcer announcer;
    announcer.update(plan_with({"a", "b"}));
    announcer.announce();  // not sent yet: the broker is slow
    announcer.update(plan_with({"a"}));
    const auto out = announcer.take(10);
    EXPECT_EQ(topics(out), (std::vector<std::string>{"homeassistant/device/a/config",
                                                     "homeassistant/device/b/config"}));
    EXPECT_FALSE(out[0].payload.empty());
    EXPECT_EQ(out[1].payload, "");
}

TEST(Announcer, AnUnchangedPlanQueuesNothing) {
    Announcer announcer;
    announcer.update(plan_with({"a"}));
    announcer.announce();
    announcer.take(10);
    announcer.update(plan_with({"a"}));
    EXPECT_TRUE(announcer.idle());
}

TEST(Announcer, ALeftoverIsRemovedOnceUnlessThePlanHoldsIt) {
    Announcer announcer;
    announcer.update(plan_with({"a"}));
    EXPECT_FALSE(announcer.remove_leftover("homeassistant/device/a/config"));
    EXPECT_TRUE(announcer.idle());
    EXPECT_TRUE(announcer.remove_leftover("homeassistant/device/gone/config"));
    EXPECT_FALSE(announcer.remove_leftover("homeassistant/device/gone/config"));  // queued
    const auto out = announcer.take(10);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].topic, "homeassistant/device/gone/config");
    EXPECT_EQ(out[0].payload, "");
    EXPECT_TRUE(out[0].retain);
    EXPECT_EQ(out[0].qos, 1);
    // An announce() after it (a connect) leaves a queued removal in place.
    EXPECT_TRUE(announcer.remove_leftover("homeassistant/device/gone-too/config"));
    announcer.announce();
    EXPECT_EQ(topics(announcer.take(10)),
              (std::vector<std::string>{"homeassistant/device/gone-too/config",
                                        "homeassistant/device/a/config"}));
}

}  // namespace
}  // namespace nodebridge::homeassistant
