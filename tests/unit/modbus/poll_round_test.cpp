// PollRound over a node's interval groups: a poll reads only the groups it was given, group
// by group, its sample holds their attributes only, and a refused read is split within its
// own group for good.

#include "poll_round.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace nodebridge::modbus {
namespace {

using namespace std::chrono_literals;

class SilentLogger final : public Logger {
  public:
    SilentLogger() : Logger(LogLevel::error) {}

  protected:
    void write(LogLevel, std::string_view, const LogContext&) override {}
};

ModbusAttribute input(const char* name, std::uint16_t address, std::optional<Millis> poll) {
    ModbusAttribute a;
    a.name = name;
    a.table = ModbusTable::input;
    a.address = address;
    a.poll = poll;
    return a;
}

// power at 0, current at 1 (the node's 1 s); energy at 10 and 12 every minute.
ModbusSourceConfig meter() {
    ModbusSourceConfig config;
    config.link = ModbusTcpEndpoint{.host = "127.0.0.1"};
    config.max_gap = 4;
    ModbusNode node;
    node.id = "meter";
    node.poll = 1s;
    node.attributes = {input("power", 0, std::nullopt), input("import", 10, 60s),
                       input("current", 1, std::nullopt), input("export", 12, 60s)};
    config.nodes.push_back(node);
    return config;
}

std::vector<std::string> names(const Sample& sample) {
    std::vector<std::string> out;
    for (const Attribute& attribute : sample.attributes) out.push_back(attribute.name);
    return out;
}

TEST(PollRound, ReadsOnlyTheGroupsItIsGiven) {
    const ModbusSourceConfig config = meter();
    SampleQueue queue(10);
    SilentLogger log;
    SourceBook book("bus", config, queue, log);
    book.started(SteadyClock::now());
    NodeState& node = book.nodes[0];
    ASSERT_EQ(node.groups().size(), 2u);

    PollRound fast(book, node, {0});
    ASSERT_NE(fast.next(), nullptr);
    EXPECT_EQ(*fast.next(), (ReadRequest{ModbusTable::input, 0, 2, {0, 2}}));
    const std::vector<std::uint16_t> words = {230, 5};
    fast.replied(words, {}, WallClock::now());
    EXPECT_EQ(fast.next(), nullptr);
    book.finish_poll(node, fast.take_outcome(), true);
    queue.pop_for(0ms);  // "online"
    EXPECT_EQ(names(*queue.pop_for(0ms)), (std::vector<std::string>{"power", "current"}));
    EXPECT_TRUE(node.online);  // every attribute it meant to read

    PollRound both(book, node, {0, 1});
    EXPECT_EQ(both.next()->address, 0);
    both.replied(words, {}, WallClock::now());
    EXPECT_EQ(*both.next(), (ReadRequest{ModbusTable::input, 10, 3, {1, 3}}));
    const std::vector<std::uint16_t> energy = {7, 0, 8};
    both.replied(energy, {}, WallClock::now());
    EXPECT_EQ(both.next(), nullptr);
    book.finish_poll(node, both.take_outcome(), true);
    EXPECT_EQ(names(*queue.pop_for(0ms)),
              (std::vector<std::string>{"power", "import", "current", "export"}));
}

TEST(PollRound, SplitsARefusedReadWithinItsGroupForGood) {
    const ModbusSourceConfig config = meter();
    SampleQueue queue(10);
    SilentLogger log;
    SourceBook book("bus", config, queue, log);
    book.started(SteadyClock::now());
    NodeState& node = book.nodes[0];

    PollRound slow(book, node, {1});
    ASSERT_EQ(slow.next()->count, 3);
    slow.refused(kIllegalDataAddress);
    EXPECT_EQ(*slow.next(), (ReadRequest{ModbusTable::input, 10, 1, {1}}));
    const std::vector<std::uint16_t> one = {7};
    slow.replied(one, {}, WallClock::now());
    EXPECT_EQ(*slow.next(), (ReadRequest{ModbusTable::input, 12, 1, {3}}));
    slow.replied(one, {}, WallClock::now());
    EXPECT_EQ(slow.next(), nullptr);
    EXPECT_EQ(node.groups()[1].plan.requests.size(), 2u);  // stays split
    EXPECT_EQ(node.groups()[0].plan.requests.size(), 1u);  // the other group untouched
}

// Two meters of one `units:` range share one plan; a read the first one refuses is split
// for it alone, the second keeps the coalesced read.
TEST(PollRound, ASplitStaysWithTheNodeThatRefusedNotTheOthersSharingItsPlan) {
    ModbusSourceConfig config = meter();
    config.nodes.push_back(config.nodes[0]);  // the same attribute list, shared
    config.nodes[1].id = "meter-2";
    config.nodes[1].unit = 2;
    SampleQueue queue(10);
    SilentLogger log;
    SourceBook book("bus", config, queue, log);
    book.started(SteadyClock::now());
    ASSERT_EQ(&book.nodes[0].groups(), &book.nodes[1].groups());  // one plan for both

    PollRound refused(book, book.nodes[0], {1});
    refused.refused(kIllegalDataAddress);
    EXPECT_EQ(book.nodes[0].groups()[1].plan.requests.size(), 2u);
    EXPECT_EQ(book.nodes[1].groups()[1].plan.requests.size(), 1u);
    PollRound other(book, book.nodes[1], {1});
    EXPECT_EQ(*other.next(), (ReadRequest{ModbusTable::input, 10, 3, {1, 3}}));
}

TEST(PollRound, AFailedReadEndsThePollAcrossGroups) {
    const ModbusSourceConfig config = meter();
    SampleQueue queue(10);
    SilentLogger log;
    SourceBook book("bus", config, queue, log);
    NodeState& node = book.nodes[0];
    PollRound round(book, node);  // every group
    ASSERT_NE(round.next(), nullptr);
    round.failed();
    EXPECT_EQ(round.next(), nullptr);
    const PollOutcome outcome = round.take_outcome();
    EXPECT_FALSE(outcome.complete);
    EXPECT_FALSE(outcome.answered);
}

}  // namespace
}  // namespace nodebridge::modbus
