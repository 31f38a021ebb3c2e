#include "pipeline.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

namespace nodebridge {
namespace {

using namespace std::chrono_literals;

MappingRule value_rule() {
    MappingRule rule;
    rule.name = "all";
    rule.topic = "t/{node}/{attribute}";
    rule.payload = PayloadForm::value;
    rule.qos = 1;
    return rule;
}

Sample sample(std::string node, double volts) {
    return Sample{"bus", std::move(node), WallClock::now(), {{"voltage", volts, "V"}}};
}

struct Collected {
    std::mutex mutex;
    std::vector<Message> messages;
    std::vector<std::size_t> batches;  // the size of each delivery
    std::size_t size() {
        std::lock_guard lock(mutex);
        return messages.size();
    }
    Pipeline::Deliver deliver() {
        return [this](std::span<Message> batch) {
            std::lock_guard lock(mutex);
            batches.push_back(batch.size());
            for (Message& message : batch) messages.push_back(std::move(message));
        };
    }
};

TEST(Pipeline, MapsQueuedSamplesAndDrainsOnStop) {
    SampleQueue queue(100);
    Collected out;
    Pipeline pipeline(Mapper("gw", {value_rule()}), queue, out.deliver());
    for (int i = 0; i < 50; ++i) queue.push(sample("n" + std::to_string(i), 230.5));
    pipeline.start();
    pipeline.stop();  // must map all 50 before returning
    ASSERT_EQ(out.size(), 50u);
    EXPECT_EQ(out.messages[0], (Message{"t/n0/voltage", "230.5", 1, false, "all"}));
    EXPECT_EQ(out.messages[49].topic, "t/n49/voltage");
    EXPECT_EQ(pipeline.samples_mapped(), 50u);
    EXPECT_EQ(pipeline.messages_out(), 50u);
}

TEST(Pipeline, TakesEverythingQueuedInOneWakeUpAndDeliversItAsOneBatch) {
    SampleQueue queue(100);
    Collected out;
    Pipeline pipeline(Mapper("gw", {value_rule()}), queue, out.deliver());
    for (int i = 0; i < 40; ++i) queue.push(sample("n" + std::to_string(i), 230.5));
    pipeline.start();
    const auto deadline = SteadyClock::now() + 5s;
    while (out.size() < 40 && SteadyClock::now() < deadline) std::this_thread::sleep_for(5ms);
    {
        std::lock_guard lock(out.mutex);
        EXPECT_EQ(out.batches, std::vector<std::size_t>{40});
        ASSERT_EQ(out.messages.size(), 40u);
        EXPECT_EQ(out.messages[0].topic, "t/n0/voltage");  // in order
        EXPECT_EQ(out.messages[39].topic, "t/n39/voltage");
    }
    pipeline.stop();
    EXPECT_EQ(pipeline.samples_mapped(), 40u);
}

TEST(Pipeline, HeartbeatFiresWithoutNewSamples) {
    MappingRule rule = value_rule();
    rule.on_change = true;
    rule.heartbeat = 100ms;
    SampleQueue queue(10);
    Collected out;
    Pipeline pipeline(Mapper("gw", {rule}), queue, out.deliver());
    pipeline.start();
    // The same value every 20 ms: on_change suppresses it, the heartbeat republishes it.
    const auto deadline = SteadyClock::now() + 5s;
    while (out.size() < 3 && SteadyClock::now() < deadline) {
        queue.push(sample("n1", 1.0));
        std::this_thread::sleep_for(20ms);
    }
    pipeline.stop();
    EXPECT_GE(out.size(), 3u) << "the heartbeat should republish the unchanged value";
}

TEST(Pipeline, StaysAliveWhileIdle) {
    SampleQueue queue(10);
    Pipeline pipeline(Mapper("gw", {value_rule()}), queue, [](std::span<Message>) {});
    pipeline.start();
    std::this_thread::sleep_for(1200ms);
    EXPECT_LT(SteadyClock::now() - pipeline.last_alive(), 1100ms);
    pipeline.stop();
}

// Waits (bounded) until `out` holds a message from `rule`; true when one came.
bool wait_for_rule(Collected& out, const std::string& rule) {
    const auto deadline = SteadyClock::now() + 5s;
    while (SteadyClock::now() < deadline) {
        {
            std::lock_guard lock(out.mutex);
            for (const Message& message : out.messages) {
                if (message.rule == rule) return true;
            }
        }
        std::this_thread::sleep_for(5ms);
    }
    return false;
}

TEST(Pipeline, ReplaceMapperKeepsTheStateOfUnchangedRules) {
    MappingRule changes = value_rule();
    changes.name = "changes";
    changes.on_change = true;
    MappingRule other = value_rule();
    other.name = "other";
    other.topic = "old/{node}/{attribute}";
    SampleQueue queue(10);
    Collected out;
    Pipeline pipeline(Mapper("gw", {changes, other}), queue, out.deliver());
    pipeline.start();
    queue.push(sample("n1", 230.5));
    ASSERT_TRUE(wait_for_rule(out, "other"));

    other.topic = "new/{node}/{attribute}";
    pipeline.replace_mapper(Mapper("gw", {changes, other}));
    queue.push(sample("n1", 230.5));
    // "other" comes after "changes" in the same mapping round: once it arrives, a message of
    // "changes" for this sample would already be there.
    const auto deadline = SteadyClock::now() + 5s;
    while (out.size() < 3 && SteadyClock::now() < deadline) std::this_thread::sleep_for(5ms);
    queue.push(sample("n1", 231.0));  // a change still goes through the kept rule
    while (out.size() < 5 && SteadyClock::now() < deadline) std::this_thread::sleep_for(5ms);
    pipeline.stop();
    std::vector<std::string> seen;
    for (const Message& message : out.messages) seen.push_back(message.rule + " " + message.topic);
    EXPECT_EQ(seen, (std::vector<std::string>{"changes t/n1/voltage", "other old/n1/voltage",
                                              "other new/n1/voltage", "changes t/n1/voltage",
                                              "other new/n1/voltage"}));
}

}  // namespace
}  // namespace nodebridge
