#include "node_table.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace nodebridge::http {
namespace {

Sample reading(const std::string& node, double volts) {
    return Sample{"bus", node, WallClock::now(), {{"voltage", Value(volts), "V"}}, std::nullopt};
}

TEST(NodeTable, PublishesSortedNodesWithTheirLastValuesOnTick) {
    NodeTable table(10);
    const auto now = SteadyClock::now();
    table.observe(reading("b", 1), now);
    table.observe(reading("a", 2), now);
    EXPECT_TRUE(table.snapshot()->nodes.empty());  // nothing before the first tick
    table.tick(now);
    auto snap = table.snapshot();
    ASSERT_EQ(snap->nodes.size(), 2u);
    EXPECT_EQ(snap->nodes[0].node, "a");
    EXPECT_EQ(std::get<double>(snap->nodes[0].attributes[0].value), 2.0);

    Sample more = reading("a", 3);
    more.attributes.push_back({"state", Value(std::string("on")), ""});
    table.observe(more, now);
    table.observe(Sample{"bus", "b", WallClock::now(), {}, false}, now);
    table.tick(now + std::chrono::seconds(1));
    snap = table.snapshot();
    ASSERT_EQ(snap->nodes[0].attributes.size(), 2u);
    EXPECT_EQ(std::get<double>(snap->nodes[0].attributes[0].value), 3.0);
    EXPECT_EQ(snap->nodes[0].readings, 2u);
    EXPECT_FALSE(snap->nodes[1].online);
}

TEST(NodeTable, HistoryKeepsTheLastReadingsOfNumbersOnly) {
    NodeTable table(5);
    const auto now = SteadyClock::now();
    for (int i = 0; i < 12; ++i) {
        Sample sample = reading("a", i);
        sample.attributes.push_back({"name", Value(std::string("x")), ""});
        table.observe(sample, now);
    }
    table.tick(now);
    auto history = table.history("bus", "a");
    ASSERT_TRUE(history);
    ASSERT_EQ(history->size(), 1u);  // text has no history
    ASSERT_EQ((*history)[0].points.size(), 5u);
    EXPECT_EQ((*history)[0].points.front().second, 7.0);
    EXPECT_EQ((*history)[0].points.back().second, 11.0);
    EXPECT_EQ((*history)[0].unit, "V");
    EXPECT_FALSE(table.history("bus", "zzz"));
}

TEST(NodeTable, NodesPastTheBoundAreCountedNotKept) {
    NodeTable table(5, 3);
    const auto now = SteadyClock::now();
    for (int i = 0; i < 10; ++i) table.observe(reading("n" + std::to_string(i), i), now);
    table.tick(now);
    EXPECT_EQ(table.snapshot()->nodes.size(), 3u);
    EXPECT_EQ(table.snapshot()->nodes_ignored, 7u);
}

TEST(NodeTable, AHeldSnapshotStaysAsItWas) {
    NodeTable table(5, 100, Millis(0));
    const auto now = SteadyClock::now();
    table.observe(reading("a", 1), now);
    table.tick(now);
    auto held = table.snapshot();
    table.observe(reading("a", 9), now);
    table.tick(now);
    EXPECT_EQ(std::get<double>(held->nodes[0].attributes[0].value), 1.0);
    EXPECT_EQ(std::get<double>(table.snapshot()->nodes[0].attributes[0].value), 9.0);
}

TEST(NodeTable, KeepsTheTimeBetweenTheLastTwoReadings) {
    NodeTable table(5);
    const auto start = SteadyClock::now();
    table.observe(reading("a", 1), start);
    table.observe(reading("a", 2), start + Millis(200));
    table.observe(reading("a", 3), start + Millis(1450));
    table.tick(start + Millis(1450));
    EXPECT_DOUBLE_EQ(table.snapshot()->nodes[0].interval_s, 1.25);
    EXPECT_EQ(table.snapshot()->nodes[0].readings, 3u);
}

// The mapping thread observes and ticks while HTTP threads read snapshots and histories
// (run under ThreadSanitizer by scripts/test). No reading is lost to a held history lock.
TEST(NodeTable, ReadersOnOtherThreadsSeeWholeSnapshotsAndLoseNoHistory) {
    NodeTable table(100'000, 100, Millis(0));
    std::atomic<bool> done{false};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) {
        readers.emplace_back([&] {
            while (!done) {
                auto snap = table.snapshot();
                for (const NodeSummary& node : snap->nodes) {
                    ASSERT_EQ(node.attributes.size(), 1u);
                }
                table.history("bus", "a");
            }
        });
    }
    const auto now = SteadyClock::now();
    constexpr int kReadings = 20'000;
    for (int i = 0; i < kReadings; ++i) {
        table.observe(reading(i % 2 == 0 ? "a" : "b", i), now);
        if (i % 10 == 9) table.tick(now);
    }
    done = true;
    for (auto& reader : readers) reader.join();
    table.tick(now);  // whatever waited for the lock goes in now
    auto history = table.history("bus", "a");
    ASSERT_TRUE(history);
    EXPECT_EQ((*history)[0].points.size(), static_cast<std::size_t>(kReadings / 2));
}

}  // namespace
}  // namespace nodebridge::http
