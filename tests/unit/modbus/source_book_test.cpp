// SourceBook's hand-over of samples: at once for the RTU thread, held until flush_samples()
// for the TCP event loop, so one turn's readings reach the mapping thread in one wake-up.

#include "source_book.hpp"

#include <gtest/gtest.h>

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

TEST(SourceBook, HoldsABatchUntilFlushedAndKeepsItsOrder) {
    const ModbusSourceConfig config = two_nodes();
    SampleQueue queue(100);
    SilentLogger log;
    SourceBook book("bus", config, queue, log);
    int flushes_due = 0;  // a flush is asked for once per batch, by its first sample
    book.batch_samples([&] { ++flushes_due; });
    book.started(SteadyClock::now());
    book.finish_poll(book.nodes[0], read_one(1), true);
    book.finish_poll(book.nodes[1], read_one(2), true);
    EXPECT_EQ(queue.size(), 0u);
    EXPECT_EQ(book.stats().samples, 2u);
    EXPECT_EQ(flushes_due, 1);
    book.flush_samples();
    std::vector<Sample> got;
    queue.pop_all_until(SteadyClock::now(), got);
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0].node, "a");
    EXPECT_EQ(got[0].online, true);
    EXPECT_EQ(got[1].node, "a");
    EXPECT_EQ(got[1].attributes.at(0).value, Value{1.0});
    EXPECT_EQ(got[2].node, "b");
    EXPECT_EQ(got[2].online, true);
    EXPECT_EQ(got[3].attributes.at(0).value, Value{2.0});
    book.flush_samples();  // nothing held: nothing more
    EXPECT_EQ(queue.size(), 0u);
    book.finish_poll(book.nodes[0], read_one(3), true);
    EXPECT_EQ(flushes_due, 2);  // the next batch asks again
}

}  // namespace
}  // namespace nodebridge::modbus
