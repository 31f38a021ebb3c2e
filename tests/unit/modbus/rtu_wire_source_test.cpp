// ModbusSource on nodebridge-sim's wire-accurate RTU line (--wire): values decode at 9600
// and 19200 baud (which needs the source's t3.5 silence: the line misses a request sent
// sooner), a noisy line never yields a wrong value over thousands of polls and counts its CRC
// errors, a dead unit goes offline and is polled at dead_poll, a slow unit leaves the others
// their polls, and a coalesced read the device refuses is split and remembered.

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <thread>

#include "link_rules.hpp"
#include "modbus_source.hpp"
#include "sim_process.hpp"
#include "source_fixtures.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;
using test::SimProcess;
using test::TempDir;
using namespace modbus_test;

ModbusSourceConfig wire_config(const std::string& device, int baud, Parity parity, Millis timeout,
                               std::vector<ModbusNode> nodes) {
    ModbusSourceConfig config;
    config.link = SerialLine{.device = device, .baud = baud, .parity = parity};
    config.timeout = timeout;
    config.nodes = std::move(nodes);
    return config;
}

std::vector<std::string> sim_args(const TempDir& dir, std::vector<std::string> extra) {
    std::vector<std::string> args = {"modbus-rtu", "--link", dir.file("ttySIM"), "--wire"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

void values_decode_at(int baud, Parity parity, const char* parity_name) {
    TempDir dir;
    SimProcess sim(dir, sim_args(dir, {"--baud", std::to_string(baud), "--parity", parity_name,
                                       "--nodes", "2", "--attributes", "4"}));
    SampleQueue queue(1000);
    RecordingLogger log;
    ModbusSource source("line",
                        wire_config(dir.file("ttySIM"), baud, parity, 500ms,
                                    {generated_node(1, 4, 100ms), generated_node(2, 4, 100ms)}),
                        queue, log);
    source.start();
    auto readings = gather(queue, 1500ms);
    source.stop();
    for (int unit : {1, 2}) {
        const auto& samples = readings["unit-" + std::to_string(unit)];
        EXPECT_GE(samples.size(), 8u) << baud << " unit " << unit;
        for (const Sample& sample : samples) {
            ASSERT_EQ(sample.attributes.size(), 4u);
            for (int k = 0; k < 4; ++k) {
                const double value = std::get<double>(sample.attributes[k].value);
                EXPECT_NEAR(value, 10.0 * k + unit, 0.51) << baud << " unit " << unit;
            }
        }
    }
    // Every request was answered: the source kept t3.5 of silence before each.
    EXPECT_TRUE(source.stats().errors.empty()) << baud << ": " << source.stats().last_error;
}

TEST(RtuWireSource, ValuesDecodeAt9600And19200Baud) {
    values_decode_at(9600, Parity::none, "none");
    values_decode_at(19200, Parity::even, "even");
}

// One noisy line: a simulator on its own pty (units 1 and 2, 5% of replies with a bit
// flipped) and the source that polls it as fast as the wire allows, into a shared queue.
struct NoisyLine {
    NoisyLine(const TempDir& dir, int index, const std::string& devices, SampleQueue& queue,
              Logger& log)
        : link(dir.file("ttySIM" + std::to_string(index))),
          sim(dir,
              {"modbus-rtu", "--link", link, "--wire", "--baud", "115200", "--devices", devices,
               "--corrupt", "0.05", "--seed", std::to_string(7 + index)},
              "sim" + std::to_string(index) + ".log"),
          source("noisy-" + std::to_string(index), config(), queue, log) {}

    ModbusSourceConfig config() const {
        ModbusNode a;
        a.id = "a";
        a.unit = 1;
        a.poll = 1ms;
        a.attributes = {attribute("count", ModbusTable::holding, 0, ModbusType::uint16)};
        ModbusNode b;
        b.id = "b";
        b.unit = 2;
        b.poll = 1ms;
        b.attributes = {attribute("voltage", ModbusTable::input, 0, ModbusType::float32)};
        auto line = wire_config(link, 115200, Parity::none, 200ms, {a, b});
        line.dead_after = 0;  // a run of corrupted replies must not slow the unit down
        return line;
    }

    std::string link;
    SimProcess sim;
    ModbusSource source;
};

TEST(RtuWireSource, ANoisyLineNeverPublishesAWrongValueAndCountsCrcErrors) {
    TempDir dir;
    const std::string devices = dir.write("devices.yaml", R"(devices:
  - unit: 1
    points: [{ table: holding, address: 0, type: uint16, value: 12345 }]
  - unit: 2
    points: [{ table: input, address: 0, type: float32, value: 230.5 }]
)");
    // At 115200 baud a one-register transaction takes about 5 ms on the wire (t3.5 is 1.75 ms
    // there), about 200 polls a second per line. Three lines polled at once reach a few
    // thousand polls in seconds; a loaded machine gets fewer per second, so the run stops at
    // 2,400 polls or after 40 s, whichever comes first.
    constexpr std::uint64_t kPolls = 2400;
    SampleQueue queue(100000);
    RecordingLogger log;
    std::vector<std::unique_ptr<NoisyLine>> lines;
    for (int i = 0; i < 3; ++i) {
        lines.push_back(std::make_unique<NoisyLine>(dir, i, devices, queue, log));
    }
    const auto total = [&] {
        SourceStats sum;
        for (const auto& line : lines) {
            const SourceStats stats = line->source.stats();
            sum.polls += stats.polls;
            for (const auto& [kind, count] : stats.errors) sum.errors[kind] += count;
            if (!stats.last_error.empty()) sum.last_error = stats.last_error;
        }
        return sum;
    };
    std::uint64_t readings = 0;
    std::uint64_t wrong = 0;
    const auto check = [&](const Sample& sample) {
        ++readings;
        ASSERT_EQ(sample.attributes.size(), 1u);
        const Value& value = sample.attributes[0].value;
        const bool right =
            sample.node == "a" ? value == Value{std::int64_t{12345}} : value == Value{230.5};
        if (!right) ++wrong;
    };
    for (const auto& line : lines) line->source.start();
    const auto deadline = SteadyClock::now() + 40s;
    while (SteadyClock::now() < deadline && total().polls < kPolls) {
        auto sample = queue.pop_for(100ms);
        if (sample && !sample->online) check(*sample);
    }
    for (const auto& line : lines) line->source.stop();
    while (auto sample = queue.pop_for(0ms)) {
        if (!sample->online) check(*sample);
    }
    const SourceStats stats = total();
    EXPECT_GE(stats.polls, 2000u) << "too few polls in 40 s to judge the noisy line";
    EXPECT_EQ(wrong, 0u);
    EXPECT_GE(readings, stats.polls * 85 / 100);  // about 95% of the replies are clean
    ASSERT_TRUE(stats.errors.contains("crc")) << stats.last_error;
    // Most flipped bits break the CRC; a flipped byte count or unit id is counted as what it
    // looks like (truncated, wrong-unit). Nothing else goes wrong on this line.
    std::uint64_t bad_frames = 0;
    for (const auto& [kind, count] : stats.errors) {
        EXPECT_TRUE(kind == "crc" || kind == "truncated" || kind == "wrong-unit" ||
                    kind == "garbled" || kind == "timeout")
            << kind;
        bad_frames += count;
    }
    EXPECT_GE(stats.errors.at("crc"), stats.polls / 50);  // 5% corrupted, most caught by CRC
    EXPECT_LE(bad_frames, stats.polls / 10);
}

TEST(RtuWireSource, ADeadUnitGoesOfflineOnceAndIsPolledAtDeadPoll) {
    TempDir dir;
    SimProcess sim(dir, sim_args(dir, {"--baud", "19200", "--nodes", "2", "--attributes", "1",
                                       "--dead", "2"}));
    auto config = wire_config(dir.file("ttySIM"), 19200, Parity::none, 100ms,
                              {generated_node(1, 1, 100ms), generated_node(2, 1, 100ms)});
    config.dead_after = 3;
    config.dead_poll = 1s;
    // 45 polls of unit-1 in 4.5 s, a few lost to the dead one's timeouts.
    expect_dead_unit_polled_at_dead_poll(config, "unit-1", "unit-2", 38);
}

TEST(RtuWireSource, ASlowUnitDoesNotPushTheOthersPastTheirPoll) {
    TempDir dir;
    SimProcess sim(dir, sim_args(dir, {"--baud", "19200", "--nodes", "3", "--attributes", "2",
                                       "--slow", "3:150"}));
    auto config = wire_config(
        dir.file("ttySIM"), 19200, Parity::none, 500ms,
        {generated_node(1, 2, 200ms), generated_node(2, 2, 200ms), generated_node(3, 2, 1000ms)});
    SampleQueue queue(1000);
    RecordingLogger log;
    ModbusSource source("line", config, queue, log);
    source.start();
    gather(queue, 500ms);  // the first polls are spread over the interval
    auto readings = gather(queue, 4000ms);
    source.stop();
    EXPECT_GE(readings["unit-3"].size(), 3u);  // slow, but it answers
    for (const char* id : {"unit-1", "unit-2"}) {
        const auto& samples = readings[id];
        EXPECT_GE(samples.size(), 18u) << id;  // 20 polls in 4 s
        for (std::size_t i = 1; i < samples.size(); ++i) {
            EXPECT_LT(samples[i].time - samples[i - 1].time, 400ms)
                << id << ": a poll was skipped after reading " << i;
        }
    }
    EXPECT_TRUE(source.stats().errors.empty()) << source.stats().last_error;
}

TEST(RtuWireSource, ARefusedCoalescedReadIsSplitAndRemembered) {
    TempDir dir;
    const std::string devices = dir.write("devices.yaml", kDeviceWithAHole);
    SimProcess sim(dir, sim_args(dir, {"--baud", "19200", "--devices", devices}));
    expect_refused_read_split_and_remembered(
        wire_config(dir.file("ttySIM"), 19200, Parity::none, 300ms, {node_around_the_hole()}));
}

// Issue #23, item 1: attributes with intervals of their own on the RTU line.
TEST(RtuWireSource, ReadsEachAttributeAtItsOwnInterval) {
    TempDir dir;
    const std::string devices = dir.write("devices.yaml", kDeviceWithAHole);
    SimProcess sim(dir, sim_args(dir, {"--baud", "19200", "--devices", devices}));
    expect_attributes_read_at_their_intervals(
        wire_config(dir.file("ttySIM"), 19200, Parity::none, 300ms, {node_around_the_hole()}));
}

}  // namespace
}  // namespace nodebridge
