// ModbusSource::write against nodebridge-sim: the sim keeps whatever a client wrote, so the
// source's next poll reads it back.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "modbus_source.hpp"
#include "sim_process.hpp"
#include "source_fixtures.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;
using namespace modbus_test;
using test::SimProcess;
using test::TempDir;

// Collects the outcomes of writes, from whichever thread reports them, by a key per write.
class Outcomes {
  public:
    // A `done` for the write called `key`; a second call for the same key is recorded too,
    // so tests see it.
    Source::WriteDone for_key(std::string key) {
        return [this, key = std::move(key)](std::string error) {
            std::lock_guard lock(mutex_);
            results_.emplace(key, std::move(error));
            changed_.notify_all();
        };
    }

    // Waits up to `timeout` until `count` outcomes are in; returns whether they are.
    bool wait_for(std::size_t count, Millis timeout) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return results_.size() >= count; });
    }

    // Every outcome so far, key -> error ("" = written). A key reported twice appears twice.
    std::multimap<std::string, std::string> all() const {
        std::lock_guard lock(mutex_);
        return results_;
    }

    // The outcome of `key`, or "<none>" when it has not been reported.
    std::string of(const std::string& key) const {
        std::lock_guard lock(mutex_);
        const auto it = results_.find(key);
        return it == results_.end() ? "<none>" : it->second;
    }

    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return results_.size();
    }

  private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::multimap<std::string, std::string> results_;
};

ModbusAttribute writable(ModbusAttribute a, double min, double max) {
    a.writable = true;
    a.min = min;
    a.max = max;
    return a;
}

// The sim's pdu with writable holding registers (free addresses 20..23 of 128) and a
// writable breaker coil.
ModbusNode writable_pdu(std::string id, int unit, Millis poll) {
    ModbusNode node = pdu_node(std::move(id), unit, poll);
    node.attributes[3] = writable(node.attributes[3], 0, 1e6);  // energy, uint32, scale 0.001
    node.attributes[4].writable = true;                         // breaker, coil
    node.attributes.push_back(
        writable(attribute("setpoint", ModbusTable::holding, 20, ModbusType::float32), -1e3, 1e3));
    auto limit =
        writable(attribute("limit", ModbusTable::holding, 22, ModbusType::int16), -100, 100);
    limit.scale = 0.1;
    limit.round = 1;
    node.attributes.push_back(limit);
    auto swapped =
        writable(attribute("swapped", ModbusTable::holding, 24, ModbusType::int32), -1e9, 1e9);
    swapped.word_order = WordOrder::little;
    swapped.byte_swap = true;
    node.attributes.push_back(swapped);
    return node;
}

WriteCommand command(std::string node, std::string attribute, Value value,
                     std::string source = "pdu-bus") {
    WriteCommand c;
    c.source = std::move(source);
    c.node = std::move(node);
    c.attribute = std::move(attribute);
    c.value = std::move(value);
    c.reply_topic = "site/" + c.node + "/" + c.attribute + "/set/result";
    c.rule = "pdu";
    return c;
}

// Pops readings of `node` until one satisfies `accept`, or `timeout` passes.
std::optional<Sample> reading_where(SampleQueue& queue, const std::string& node,
                                    const std::function<bool(const Sample&)>& accept,
                                    Millis timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    while (auto sample = queue.pop_until(deadline)) {
        if (!sample->online && sample->node == node && accept(*sample)) return sample;
    }
    return std::nullopt;
}

Value value_of(const Sample& sample, std::string_view name) {
    const Attribute* a = find(sample, name);
    return a != nullptr ? a->value : Value{std::string("<missing>")};
}

TEST(ModbusWriteTcp, WritesRegistersAndACoilAndReadsThemBackAtOnce) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0"});
    SampleQueue queue(1000);
    RecordingLogger log;
    // A 30 s poll: only the poll that follows a write can read the values back in time.
    ModbusSource source("pdu-bus",
                        tcp_config(sim.port(), 500ms,
                                   {writable_pdu("pdu-1", 1, 30s), meter_node("meter-7", 7, 30s)}),
                        queue, log);
    source.start();
    auto first = reading_where(
        queue, "pdu-1", [](const Sample&) { return true; }, 5s);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(value_of(*first, "breaker"), Value{true});
    EXPECT_EQ(value_of(*first, "setpoint"), Value{0.0});  // unwritten registers are 0

    Outcomes outcomes;
    source.write(command("pdu-1", "setpoint", 42.5), outcomes.for_key("setpoint"));  // FC16
    source.write(command("pdu-1", "limit", -12.3), outcomes.for_key("limit"));       // FC06
    source.write(command("pdu-1", "energy", 123.456), outcomes.for_key("energy"));   // FC16
    source.write(command("pdu-1", "breaker", false), outcomes.for_key("breaker"));   // FC05
    source.write(command("pdu-1", "swapped", -123456.0), outcomes.for_key("swapped"));
    const auto written = SteadyClock::now();
    ASSERT_TRUE(outcomes.wait_for(5, 5s));
    for (const auto& [key, error] : outcomes.all()) EXPECT_EQ(error, "") << key;

    // A poll may come between two writes (one write per turn); the last one written shows
    // them all.
    auto back = reading_where(
        queue, "pdu-1",
        [](const Sample& s) { return value_of(s, "swapped") == Value{std::int64_t{-123456}}; }, 5s);
    ASSERT_TRUE(back.has_value());
    EXPECT_LT(SteadyClock::now() - written, 2s);  // not the 30 s poll
    EXPECT_EQ(value_of(*back, "breaker"), Value{false});
    EXPECT_EQ(value_of(*back, "setpoint"), Value{42.5});
    EXPECT_EQ(value_of(*back, "limit"), Value{-12.3});
    ASSERT_TRUE(std::holds_alternative<double>(value_of(*back, "energy")));
    EXPECT_NEAR(std::get<double>(value_of(*back, "energy")), 123.456, 1e-9);

    // The counter no longer moves: the sim leaves written registers alone.
    std::this_thread::sleep_for(300ms);
    source.write(command("pdu-1", "breaker", true), outcomes.for_key("breaker-on"));
    ASSERT_TRUE(outcomes.wait_for(6, 5s));
    EXPECT_EQ(outcomes.of("breaker-on"), "");
    auto again = reading_where(
        queue, "pdu-1", [](const Sample& s) { return value_of(s, "breaker") == Value{true}; }, 5s);
    ASSERT_TRUE(again.has_value());
    EXPECT_NEAR(std::get<double>(value_of(*again, "energy")), 123.456, 1e-9);
    EXPECT_EQ(value_of(*again, "setpoint"), Value{42.5});

    source.stop();
    const SourceStats stats = source.stats();
    EXPECT_EQ(stats.writes, 6u);
    EXPECT_EQ(stats.write_errors, 0u);
    EXPECT_TRUE(stats.errors.empty()) << stats.last_error;
    int audit_lines = 0;
    for (const auto& line : log.lines()) audit_lines += line.starts_with("modbus-write ") ? 1 : 0;
    EXPECT_EQ(audit_lines, 6);
    const auto lines = log.lines();
    EXPECT_NE(std::find(lines.begin(), lines.end(),
                        "modbus-write pdu-1: writing setpoint = 42.5 (holding 20 of unit 1): done"),
              lines.end());
    EXPECT_NE(std::find(lines.begin(), lines.end(),
                        "modbus-write pdu-1: writing breaker = false (coil 0 of unit 1): done"),
              lines.end());
}

TEST(ModbusWriteTcp, MissingUnitTimesOutAndOtherNodesKeepPolling) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0"});
    SampleQueue queue(1000);
    RecordingLogger log;
    ModbusSource source(
        "pdu-bus",
        tcp_config(sim.port(), 200ms,
                   {writable_pdu("pdu-1", 1, 100ms), writable_pdu("dead-9", 9, 10s)}),
        queue, log);
    source.start();
    ASSERT_TRUE(reading_where(
        queue, "pdu-1", [](const Sample&) { return true; }, 5s));
    Outcomes outcomes;
    source.write(command("dead-9", "setpoint", 1.0), outcomes.for_key("dead"));
    ASSERT_TRUE(outcomes.wait_for(1, 3s));
    EXPECT_EQ(outcomes.of("dead"), "timeout");

    // pdu-1 keeps its rhythm (10 polls a second) and still takes writes.
    while (queue.pop_for(0ms)) {
    }
    int readings = 0;
    const auto until = SteadyClock::now() + 1s;
    while (auto sample = queue.pop_until(until)) {
        readings += !sample->online && sample->node == "pdu-1" ? 1 : 0;
    }
    EXPECT_GE(readings, 7);
    source.write(command("pdu-1", "setpoint", -7.25), outcomes.for_key("live"));
    ASSERT_TRUE(outcomes.wait_for(2, 3s));
    EXPECT_EQ(outcomes.of("live"), "");
    ASSERT_TRUE(reading_where(
        queue, "pdu-1", [](const Sample& s) { return value_of(s, "setpoint") == Value{-7.25}; },
        3s));
    source.stop();
    const SourceStats stats = source.stats();
    EXPECT_EQ(stats.writes, 1u);
    EXPECT_EQ(stats.write_errors, 1u);
    EXPECT_EQ(stats.nodes_online, 0);
    bool logged = false;
    for (const auto& line : log.lines()) {
        logged = logged || (line.starts_with("modbus-write-error dead-9: writing setpoint") &&
                            line.find("unit 9") != std::string::npos);
    }
    EXPECT_TRUE(logged);
}

TEST(ModbusWriteTcp, ExceptionFromTheDeviceIsTheReason) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0"});
    SampleQueue queue(1000);
    RecordingLogger log;
    ModbusNode node = writable_pdu("pdu-1", 1, 100ms);
    // Holding registers end at 127, coils at 15.
    node.attributes.push_back(
        writable(attribute("beyond", ModbusTable::holding, 500, ModbusType::uint16), 0, 10));
    node.attributes.push_back(
        writable(attribute("far-coil", ModbusTable::coil, 300, ModbusType::boolean), 0, 1));
    node.attributes.back().min.reset();
    node.attributes.back().max.reset();
    ModbusSource source("pdu-bus", tcp_config(sim.port(), 500ms, {node}), queue, log);
    source.start();
    Outcomes outcomes;
    source.write(command("pdu-1", "beyond", 3.0), outcomes.for_key("register"));
    source.write(command("pdu-1", "far-coil", true), outcomes.for_key("coil"));
    source.write(command("pdu-1", "setpoint", 3.0), outcomes.for_key("fine"));
    ASSERT_TRUE(outcomes.wait_for(3, 5s));
    EXPECT_EQ(outcomes.of("register"), "exception: illegal data address");
    EXPECT_EQ(outcomes.of("coil"), "exception: illegal data address");
    EXPECT_EQ(outcomes.of("fine"), "");  // the connection survives an exception
    source.stop();
    EXPECT_EQ(source.stats().write_errors, 2u);
    EXPECT_EQ(source.stats().writes, 1u);
}

TEST(ModbusWrite, RefusesAtOnceWhatIsNotAWritableAttribute) {
    SampleQueue queue(10);
    RecordingLogger log;
    ModbusNode node = writable_pdu("pdu-1", 1, 1s);
    auto input = attribute("input-reg", ModbusTable::input, 0, ModbusType::uint16);
    input.writable = true;  // the config loader refuses this; the source does too
    node.attributes.push_back(input);
    node.attributes.push_back(
        writable(attribute("wide", ModbusTable::holding, 30, ModbusType::uint16), 0, 1e6));
    ModbusSource source("pdu-bus", tcp_config(test::free_port(), 500ms, {node}), queue, log);
    // Not started: anything not refused would wait in the queue, unanswered.
    Outcomes outcomes;
    const auto refused = [&](WriteCommand c) {
        const std::string key = c.node + "/" + c.attribute + "#" + std::to_string(outcomes.size());
        source.write(std::move(c), outcomes.for_key(key));
        return outcomes.of(key);
    };
    EXPECT_EQ(refused(command("pdu-9", "setpoint", 1.0)), "no node pdu-9 on source pdu-bus");
    EXPECT_EQ(refused(command("pdu-1", "nothing", 1.0)), "node pdu-1 has no attribute nothing");
    EXPECT_EQ(refused(command("pdu-1", "voltage", 1.0)), "voltage is not writable");
    EXPECT_EQ(refused(command("pdu-1", "input-reg", 1.0)), "the input table cannot be written");
    EXPECT_EQ(refused(command("pdu-1", "setpoint", 1001.0)), "value 1001 is above max 1000");
    EXPECT_EQ(refused(command("pdu-1", "limit", -100.5)), "value -100.5 is below min -100");
    EXPECT_EQ(refused(command("pdu-1", "wide", 70000.0)),
              "raw value 70000 does not fit uint16 (0..65535)");
    EXPECT_EQ(refused(command("pdu-1", "setpoint", true)),
              "expected a number for float32, not a bool");
    EXPECT_EQ(refused(command("pdu-1", "setpoint", 1.0, "other-bus")),
              "the command is for source other-bus, not pdu-bus");
    EXPECT_EQ(outcomes.size(), 9u);
    EXPECT_EQ(source.stats().write_errors, 9u);
    EXPECT_EQ(source.stats().writes, 0u);
}

TEST(ModbusWrite, FullQueueRefusesAndStopAnswersEveryQueuedWrite) {
    SampleQueue queue(10);
    RecordingLogger log;
    ModbusSource source("pdu-bus",
                        tcp_config(test::free_port(), 500ms, {writable_pdu("pdu-1", 1, 1s)}), queue,
                        log);
    // Not started, so nothing drains the queue.
    Outcomes outcomes;
    for (std::size_t i = 0; i < modbus::kMaxPendingWrites; ++i) {
        source.write(command("pdu-1", "setpoint", static_cast<double>(i)),
                     outcomes.for_key("queued-" + std::to_string(i)));
    }
    EXPECT_EQ(outcomes.size(), 0u);
    source.write(command("pdu-1", "setpoint", 1.0), outcomes.for_key("overflow"));
    EXPECT_EQ(outcomes.of("overflow"), "write queue full");

    source.stop();
    ASSERT_EQ(outcomes.size(), modbus::kMaxPendingWrites + 1);
    for (const auto& [key, error] : outcomes.all()) {
        if (key != "overflow") {
            EXPECT_EQ(error, "source stopped") << key;
        }
    }
    source.write(command("pdu-1", "setpoint", 1.0), outcomes.for_key("late"));
    EXPECT_EQ(outcomes.of("late"), "source stopped");
    EXPECT_EQ(source.stats().write_errors, modbus::kMaxPendingWrites + 2);
}

TEST(ModbusWriteTcp, StopWhileWritingAnswersEachWriteOnce) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0"});
    SampleQueue queue(1000);
    RecordingLogger log;
    ModbusSource source("pdu-bus", tcp_config(sim.port(), 300ms, {writable_pdu("dead-9", 9, 10s)}),
                        queue, log);
    source.start();
    ASSERT_TRUE(test::wait_until([&] { return source.stats().errors.contains("timeout"); }, 3s));
    Outcomes outcomes;
    for (int i = 0; i < 5; ++i) {
        source.write(command("dead-9", "setpoint", 1.0), outcomes.for_key(std::to_string(i)));
    }
    std::this_thread::sleep_for(100ms);  // the first one is on the bus now
    const auto start = SteadyClock::now();
    source.stop();
    EXPECT_LT(SteadyClock::now() - start, 600ms);
    ASSERT_EQ(outcomes.size(), 5u);  // each exactly once, all by the time stop() returns
    int stopped = 0;
    for (const auto& [key, error] : outcomes.all()) {
        EXPECT_TRUE(error == "timeout" || error == "source stopped") << key << ": " << error;
        stopped += error == "source stopped" ? 1 : 0;
    }
    EXPECT_GE(stopped, 3);
}

TEST(ModbusWriteTcp, NotConnectedIsReportedAtOnce) {
    SampleQueue queue(10);
    RecordingLogger log;
    const int port = test::free_port();
    ModbusSource source("pdu-bus", tcp_config(port, 500ms, {writable_pdu("pdu-1", 1, 100ms)}),
                        queue, log);
    source.start();
    ASSERT_TRUE(test::wait_until([&] { return source.stats().errors.contains("connection"); }, 3s));
    Outcomes outcomes;
    const auto asked = SteadyClock::now();
    source.write(command("pdu-1", "breaker", false), outcomes.for_key("breaker"));
    ASSERT_TRUE(outcomes.wait_for(1, 2s));
    EXPECT_LT(SteadyClock::now() - asked, 200ms);  // not held until the next reconnect
    EXPECT_EQ(outcomes.of("breaker"), "not connected to 127.0.0.1:" + std::to_string(port));
    source.stop();
    EXPECT_EQ(source.stats().write_errors, 1u);
}

// Issue #23: a written attribute read at a slow interval of its own (60 s here) is read back
// at once all the same, and its group then keeps to its interval.
void expect_slow_attribute_read_back_at_once(ModbusSourceConfig config) {
    SampleQueue queue(1000);
    RecordingLogger log;
    ModbusSource source("pdu-bus", config, queue, log);
    source.start();
    // The 60 s group's first read comes within 100 ms of the start (one node: no spread).
    ASSERT_TRUE(reading_where(
        queue, "pdu-1", [](const Sample& s) { return find(s, "setpoint") != nullptr; }, 5s));
    Outcomes outcomes;
    source.write(command("pdu-1", "setpoint", 12.5), outcomes.for_key("setpoint"));
    ASSERT_TRUE(outcomes.wait_for(1, 5s));
    EXPECT_EQ(outcomes.of("setpoint"), "");
    const auto back = reading_where(
        queue, "pdu-1", [](const Sample& s) { return find(s, "setpoint") != nullptr; }, 2s);
    ASSERT_TRUE(back.has_value()) << "not read back within 2 s of a 60 s interval";
    EXPECT_EQ(value_of(*back, "setpoint"), Value{12.5});
    // Back on its grid: the next second's readings (every 200 ms) leave it out.
    const auto later = gather(queue, 1s);
    ASSERT_TRUE(later.contains("pdu-1"));
    EXPECT_GE(later.at("pdu-1").size(), 3u);
    for (const Sample& sample : later.at("pdu-1")) {
        EXPECT_EQ(find(sample, "setpoint"), nullptr);
        EXPECT_NE(find(sample, "voltage"), nullptr);
    }
    source.stop();
}

ModbusNode pdu_with_slow_setpoint() {
    ModbusNode node = writable_pdu("pdu-1", 1, 200ms);
    std::vector<ModbusAttribute> attributes(node.attributes.begin(), node.attributes.end());
    for (ModbusAttribute& attribute : attributes) {
        if (attribute.name == "setpoint") attribute.poll = 60s;
    }
    node.attributes = attributes;
    return node;
}

TEST(ModbusWriteTcp, ASlowAttributeIsReadBackAtOnce) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0"});
    expect_slow_attribute_read_back_at_once(
        tcp_config(sim.port(), 300ms, {pdu_with_slow_setpoint()}));
}

TEST(ModbusWriteRtu, ASlowAttributeIsReadBackAtOnce) {
    TempDir dir;
    const std::string link = dir.file("ttySIM0");
    SimProcess sim(dir, {"modbus-rtu", "--link", link});
    expect_slow_attribute_read_back_at_once(rtu_config(link, 300ms, {pdu_with_slow_setpoint()}));
}

TEST(ModbusWriteRtu, WritesAndReadsBackOverAPty) {
    TempDir dir;
    const std::string link = dir.file("ttySIM0");
    SimProcess sim(dir, {"modbus-rtu", "--link", link});
    SampleQueue queue(1000);
    RecordingLogger log;
    ModbusSource source("pdu-bus", rtu_config(link, 300ms, {writable_pdu("pdu-2", 2, 30s)}), queue,
                        log);
    source.start();
    ASSERT_TRUE(reading_where(
        queue, "pdu-2", [](const Sample&) { return true; }, 5s));
    Outcomes outcomes;
    source.write(command("pdu-2", "limit", 55.5), outcomes.for_key("limit"));
    source.write(command("pdu-2", "breaker", false), outcomes.for_key("breaker"));
    ASSERT_TRUE(outcomes.wait_for(2, 5s));
    EXPECT_EQ(outcomes.of("limit"), "");
    EXPECT_EQ(outcomes.of("breaker"), "");
    auto back = reading_where(
        queue, "pdu-2", [](const Sample& s) { return value_of(s, "breaker") == Value{false}; }, 5s);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(value_of(*back, "limit"), Value{55.5});
    source.stop();
    EXPECT_FALSE(source.stats().errors.contains("crc")) << source.stats().last_error;
}

}  // namespace
}  // namespace nodebridge
