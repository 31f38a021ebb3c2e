#pragma once
// Issue #13's rules checked the same way on every link (the wire-accurate RTU line and
// Modbus TCP): the dead-unit rule and split-and-remember. The caller starts the simulator
// and builds the source configuration; these run the source and assert.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "modbus_source.hpp"
#include "source_fixtures.hpp"

namespace nodebridge::modbus_test {

// `config` polls `live` (answers) and `dead` (never answers) every 100 ms with dead_after 3
// and dead_poll 1 s: `dead` goes offline once, logged once, is then polled at dead_poll, and
// `live` keeps at least `live_polls_at_least` of its 45 polls over the 4.5 s.
inline void expect_dead_unit_polled_at_dead_poll(const ModbusSourceConfig& config,
                                                 const std::string& live, const std::string& dead,
                                                 std::size_t live_polls_at_least) {
    ASSERT_EQ(config.dead_after, 3);
    ASSERT_EQ(config.dead_poll, std::chrono::milliseconds(1000));
    SampleQueue queue(1000);
    RecordingLogger log;
    ModbusSource source("line", config, queue, log);
    source.start();
    std::vector<Sample> availability;
    auto first = gather(queue, 1500ms, &availability);
    const auto timeouts_then = source.node_errors()[dead]["timeout"];
    auto later = gather(queue, 3000ms, &availability);
    const auto timeouts_later = source.node_errors()[dead]["timeout"];
    source.stop();

    // Offline at once after dead_after polls, not after offline_after (30 s).
    std::erase_if(availability, [&](const Sample& s) { return s.node != dead; });
    ASSERT_EQ(availability.size(), 1u);
    EXPECT_FALSE(*availability[0].online);
    // 3 polls to die (by 0.6 s), then perhaps the first at dead_poll.
    EXPECT_GE(timeouts_then, 3u);
    EXPECT_LE(timeouts_then, 4u);
    // Over the next 3 s it is polled at dead_poll (1 s), not at its 100 ms.
    EXPECT_GE(timeouts_later - timeouts_then, 2u);
    EXPECT_LE(timeouts_later - timeouts_then, 4u);
    // Logged once, not per poll.
    int dead_lines = 0;
    for (const auto& line : log.lines()) dead_lines += line.starts_with("modbus-dead ") ? 1 : 0;
    EXPECT_EQ(dead_lines, 1);
    // The bus time goes back to the live unit.
    EXPECT_GE(first[live].size() + later[live].size(), live_polls_at_least);
}

// A device (unit 4) whose input registers 2..9 are unmapped: a read touching them is refused
// with exception 2. Served by `nodebridge-sim ... --devices` with this file.
inline constexpr const char* kDeviceWithAHole = R"(devices:
  - unit: 4
    sizes: { input: 12 }
    unmapped: [{ table: input, from: 2, to: 9 }]
    points:
      - { table: input, address: 0, type: float32, value: 49.5 }
      - { table: input, address: 10, type: uint16, value: 7 }
      - { table: input, address: 11, type: uint16, value: 9 }
)";

// The node for kDeviceWithAHole: three attributes on both sides of the hole, every 100 ms.
inline ModbusNode node_around_the_hole() {
    ModbusNode node;
    node.id = "meter";
    node.unit = 4;
    node.poll = 100ms;
    node.attributes = {attribute("frequency", ModbusTable::input, 0, ModbusType::float32),
                       attribute("mode", ModbusTable::input, 10, ModbusType::uint16),
                       attribute("phase", ModbusTable::input, 11, ModbusType::uint16)};
    return node;
}

// `config` polls node_around_the_hole() with max_gap 10, so its plan is one read of 0..11
// that spans the hole: the device refuses it once, the source splits it, remembers the split,
// and every value arrives.
inline void expect_refused_read_split_and_remembered(ModbusSourceConfig config) {
    config.max_gap = 10;
    SampleQueue queue(1000);
    RecordingLogger log;
    ModbusSource source("line", config, queue, log);
    source.start();
    auto readings = gather(queue, 1500ms);
    source.stop();
    const auto& samples = readings["meter"];
    ASSERT_GE(samples.size(), 10u);
    for (const Sample& sample : samples) {
        ASSERT_EQ(sample.attributes.size(), 3u);
        EXPECT_EQ(sample.attributes[0].value, Value{49.5});
        EXPECT_EQ(sample.attributes[1].value, Value{std::int64_t{7}});
        EXPECT_EQ(sample.attributes[2].value, Value{std::int64_t{9}});
    }
    // Refused once, split once, and not asked again.
    const auto stats = source.stats();
    ASSERT_TRUE(stats.errors.contains("exception"));
    EXPECT_EQ(stats.errors.at("exception"), 1u);
    int splits = 0;
    for (const auto& line : log.lines()) splits += line.starts_with("modbus-split ") ? 1 : 0;
    EXPECT_EQ(splits, 1);
}

// Issue #23, item 1: `config` polls node_around_the_hole() with max_gap 10, frequency (0)
// and phase (11) at the node's 100 ms, mode (10) every 500 ms. Only attributes of one interval
// are coalesced: the 100 ms read of 0..11 spans the hole (mode is not in it), is refused once
// and split for good, mode is read on its own. A reading holds only the attributes due; mode
// is never read more often than its grid allows, the fast group several times as often.
// (Exact counts per interval are the end-to-end test's; here a loaded machine may delay polls.)
inline void expect_attributes_read_at_their_intervals(ModbusSourceConfig config) {
    config.max_gap = 10;
    ModbusNode& node = config.nodes.at(0);
    std::vector<ModbusAttribute> attributes(node.attributes.begin(), node.attributes.end());
    attributes.at(1).poll = 500ms;  // mode
    node.attributes = attributes;
    SampleQueue queue(1000);
    RecordingLogger log;
    ModbusSource source("line", config, queue, log);
    const auto start = SteadyClock::now();
    source.start();
    auto readings = gather(queue, 2000ms);
    const auto span = SteadyClock::now() - start;
    source.stop();
    std::map<std::string, std::size_t> count;
    for (const Sample& sample : readings["meter"]) {
        for (const Attribute& attribute : sample.attributes) ++count[attribute.name];
        ASSERT_NE(find(sample, "frequency"), nullptr);  // the 100 ms group is in every poll
        EXPECT_EQ(find(sample, "frequency")->value, Value{49.5});
        ASSERT_NE(find(sample, "phase"), nullptr);
        EXPECT_EQ(find(sample, "phase")->value, Value{std::int64_t{9}});
        if (const Attribute* mode = find(sample, "mode")) {
            EXPECT_EQ(mode->value, Value{std::int64_t{7}});
        }
    }
    // Grid points in the span: one per interval, and one more at most.
    const auto points = [&](Millis interval) {
        return static_cast<std::size_t>(span / interval) + 1;
    };
    EXPECT_LE(count["frequency"], points(100ms));
    EXPECT_EQ(count["phase"], count["frequency"]);
    EXPECT_LE(count["mode"], points(500ms));
    EXPECT_GE(count["mode"], 2u);
    EXPECT_GE(count["frequency"], 2 * count["mode"]);
    // The refused read was the 100 ms group's (mode was never asked with it): split once.
    const auto stats = source.stats();
    ASSERT_TRUE(stats.errors.contains("exception"));
    EXPECT_EQ(stats.errors.at("exception"), 1u);
    int splits = 0;
    for (const auto& line : log.lines()) {
        if (!line.starts_with("modbus-split ")) continue;
        ++splits;
        EXPECT_NE(line.find("reading it in 2 requests"), std::string::npos) << line;
    }
    EXPECT_EQ(splits, 1);
}

}  // namespace nodebridge::modbus_test
