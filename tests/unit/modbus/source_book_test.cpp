// SourceBook's hand-over of samples: at once for the RTU thread; for the TCP event loop held in
// the loop's TurnSamples, so one turn's readings of every source reach the mapping thread in
// one wake-up.

#include "source_book.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace nodebridge::modbus {
namespace {

class SilentLogger final : public Logger {
  public:
    SilentLogger() : Logger(LogLevel::error) {}

  protected:
    void write(LogLevel, std::string_view, const LogContext&) override {}
};

ModbusSourceConfig two_nodes() {
    ModbusSourceConfig config;
    config.link = ModbusTcpEndpoint{.host = "127.0.0.1"};
    for (const char* id : {"a", "b"}) {
        ModbusNode node;
        node.id = id;
        ModbusAttribute value;
        value.name = "value";
        value.table = ModbusTable::input;
        node.attributes = {value};
        config.nodes.push_back(node);
    }
    return config;
}

PollOutcome read_one(double value) {
    PollOutcome outcome;
    outcome.values = {Value{value}};
    outcome.answered = true;
    outcome.reply_time = WallClock::now();
    return outcome;
}

TEST(SourceBook, HandsEachSampleOverAtOnceUnlessBatching) {
    const ModbusSourceConfig config = two_nodes();
    SampleQueue queue(100);
    SilentLogger log;
    SourceBook book("bus", config, queue, log);
    book.started(SteadyClock::now());
    book.finish_poll(book.nodes[0], read_one(1), true);
    EXPECT_EQ(queue.size(), 2u);  // "online", then the reading
}

// nodes_online counts the nodes whose last poll read everything, as polls come and go.
TEST(SourceBook, CountsTheNodesOnlineAsPollsComeAndGo) {
    const ModbusSourceConfig config = two_nodes();
    SampleQueue queue(100);
    SilentLogger log;
    SourceBook book("bus", config, queue, log);
    book.started(SteadyClock::now());
    EXPECT_EQ(book.stats().nodes_online, 0);
    book.finish_poll(book.nodes[0], read_one(1), true);
    EXPECT_EQ(book.stats().nodes_online, 1);
    book.finish_poll(book.nodes[0], read_one(2), true);  // again: still one
    EXPECT_EQ(book.stats().nodes_online, 1);
    book.finish_poll(book.nodes[1], read_one(3), true);
    EXPECT_EQ(book.stats().nodes_online, 2);
    PollOutcome partial = read_one(4);
    partial.complete = false;
    book.finish_poll(book.nodes[0], partial, true);
    EXPECT_EQ(book.stats().nodes_online, 1);
    book.link_lost();
    EXPECT_EQ(book.stats().nodes_online, 0);
    book.finish_poll(book.nodes[1], read_one(5), true);
    EXPECT_EQ(book.stats().nodes_online, 1);
}

// Two sources on one loop: what both make in a turn stays in the TurnSamples until the turn
// ends, then reaches the queue together, in the order it was made.
TEST(SourceBook, HoldsEverySourcesSamplesUntilTheTurnEndsAndKeepsTheirOrder) {
    const ModbusSourceConfig config = two_nodes();
    SampleQueue queue(100);
    SilentLogger log;
    IoLoop loop("turn-test");
    TurnSamples turn(loop, queue);
    SourceBook first("bus1", config, queue, log);
    SourceBook second("bus2", config, queue, log);
    first.batch_samples(turn);
    second.batch_samples(turn);
    loop.start();
    std::size_t queued_during_turn = 99;
    ASSERT_TRUE(loop.run_sync([&] {
        first.started(SteadyClock::now());
        second.started(SteadyClock::now());
        first.finish_poll(first.nodes[0], read_one(1), true);
        second.finish_poll(second.nodes[1], read_one(2), true);
        first.finish_poll(first.nodes[1], read_one(3), true);
        queued_during_turn = queue.size();
    }));
    EXPECT_EQ(queued_during_turn, 0u);
    EXPECT_EQ(first.stats().samples, 2u);
    EXPECT_EQ(second.stats().samples, 1u);
    std::vector<Sample> got;
    const auto deadline = SteadyClock::now() + std::chrono::seconds(5);
    while (got.size() < 6 && SteadyClock::now() < deadline) queue.pop_all_until(deadline, got);
    loop.stop();
    ASSERT_EQ(got.size(), 6u);
    const std::vector<std::pair<std::string, std::string>> order = {
        {"bus1", "a"}, {"bus1", "a"}, {"bus2", "b"}, {"bus2", "b"}, {"bus1", "b"}, {"bus1", "b"}};
    for (std::size_t i = 0; i < order.size(); ++i) {
        EXPECT_EQ(got[i].source, order[i].first) << i;
        EXPECT_EQ(got[i].node, order[i].second) << i;
        EXPECT_EQ(got[i].online.has_value(), i % 2 == 0) << i;  // "online" before each reading
    }
    EXPECT_EQ(got[1].attributes.at(0).value, Value{1.0});
    EXPECT_EQ(got[3].attributes.at(0).value, Value{2.0});
    EXPECT_EQ(got[5].attributes.at(0).value, Value{3.0});
}

// A source that stops hands over at once what the turn holds.
TEST(SourceBook, FlushHandsOverAtOnce) {
    const ModbusSourceConfig config = two_nodes();
    SampleQueue queue(100);
    SilentLogger log;
    IoLoop loop("turn-test");  // never started: the test's thread is its only user
    TurnSamples turn(loop, queue);
    SourceBook book("bus", config, queue, log);
    book.batch_samples(turn);
    book.started(SteadyClock::now());
    book.finish_poll(book.nodes[0], read_one(1), true);
    EXPECT_EQ(queue.size(), 0u);
    book.flush_samples();
    EXPECT_EQ(queue.size(), 2u);
    book.flush_samples();  // nothing held: nothing more
    EXPECT_EQ(queue.size(), 2u);
}

}  // namespace
}  // namespace nodebridge::modbus
