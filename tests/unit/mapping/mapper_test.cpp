#include <gtest/gtest.h>
#include <malloc.h>
#if defined(__SANITIZE_ADDRESS__)
// The sanitizer runtime's allocator statistics (<sanitizer/allocator_interface.h>, which
// Debian ships with clang only).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

#include <cmath>
#include <map>

#include "nodebridge/mapping.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

const SteadyClock::time_point t0{1h};

// Bytes the program holds on the heap now. Under ASan (how CI runs the suite) malloc is
// ASan's, which glibc's mallinfo2() does not see: it would read 0 and no bound could fail.
std::size_t heap_in_use() {
#if defined(__SANITIZE_ADDRESS__)
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}
const WallClock::time_point kWall = sys_days{2026y / November / 24} + 12h + 123ms;
constexpr std::string_view kTs = "2026-11-24T12:00:00.123Z";

MappingRule make_rule(std::string topic, PayloadForm payload = PayloadForm::value) {
    MappingRule rule;
    rule.topic = std::move(topic);
    rule.payload = payload;
    return rule;
}

Sample make_sample(std::string source, std::string node, std::vector<Attribute> attributes,
                   WallClock::time_point time = kWall) {
    return Sample{std::move(source), std::move(node), time, std::move(attributes)};
}

Sample pdu(std::string node, double voltage, double current = 12.25) {
    return make_sample(
        "pdu-bus", std::move(node),
        {{"voltage", voltage, "V"}, {"current", current, "A"}, {"breaker", true, ""}});
}

std::vector<Message> map(Mapper& mapper, const Sample& sample, SteadyClock::time_point now) {
    std::vector<Message> out;
    mapper.map(sample, now, out);
    return out;
}

std::vector<Message> tick(Mapper& mapper, SteadyClock::time_point now) {
    std::vector<Message> out;
    mapper.tick(now, out);
    return out;
}

std::vector<std::string> topics(const std::vector<Message>& messages) {
    std::vector<std::string> result;
    for (const Message& message : messages) result.push_back(message.topic);
    return result;
}

std::vector<std::string> payloads(const std::vector<Message>& messages) {
    std::vector<std::string> result;
    for (const Message& message : messages) result.push_back(message.payload);
    return result;
}

using Strings = std::vector<std::string>;

// ---- selection -----------------------------------------------------------------------

TEST(MapperSelection, SourceAndNodeGlobsMustBothMatch) {
    MappingRule rule = make_rule("{source}/{node}/{attribute}");
    rule.match_source = "pdu-*";
    rule.match_node = "pdu-[12]";
    Mapper mapper("gw", {rule});
    EXPECT_EQ(map(mapper, pdu("pdu-1", 230), t0).size(), 3u);
    EXPECT_EQ(map(mapper, pdu("pdu-3", 230), t0).size(), 0u);
    EXPECT_EQ(map(mapper, make_sample("meters", "pdu-1", {{"voltage", 1.0, "V"}}), t0).size(), 0u);
    // Decisions are cached per (source, node): asking again gives the same answers.
    EXPECT_EQ(map(mapper, pdu("pdu-3", 230), t0).size(), 0u);
    EXPECT_EQ(map(mapper, pdu("pdu-2", 230), t0).size(), 3u);
}

TEST(MapperSelection, AttributesByNameAndGlobInSampleOrder) {
    MappingRule rule = make_rule("{node}/{attribute}");
    rule.attributes = {"breaker", "volt*"};
    Mapper mapper("gw", {rule});
    EXPECT_EQ(topics(map(mapper, pdu("pdu-1", 230), t0)),
              (Strings{"pdu-1/voltage", "pdu-1/breaker"}));
}

TEST(MapperSelection, EmptyAttributeListSelectsAll) {
    Mapper mapper("gw", {make_rule("{node}/{attribute}")});
    EXPECT_EQ(topics(map(mapper, pdu("pdu-1", 230), t0)),
              (Strings{"pdu-1/voltage", "pdu-1/current", "pdu-1/breaker"}));
}

TEST(MapperSelection, AttributesAppearingLaterAndInAnotherOrderAreSelected) {
    MappingRule rule = make_rule("{node}/{attribute}");
    rule.attributes = {"temp*"};
    Mapper mapper("gw", {rule});
    EXPECT_TRUE(
        map(mapper, make_sample("rx", "n1", {{"rssi", std::int64_t{-70}, "dBm"}}), t0).empty());
    const auto messages = map(mapper,
                              make_sample("rx", "n1",
                                          {{"temperature", 21.5, "°C"},
                                           {"rssi", std::int64_t{-71}, "dBm"},
                                           {"temp2", 19.0, "°C"}}),
                              t0);
    EXPECT_EQ(topics(messages), (Strings{"n1/temperature", "n1/temp2"}));
    EXPECT_EQ(payloads(messages), (Strings{"21.5", "19"}));
}

TEST(MapperSelection, SeveralRulesGiveMessagesInRuleOrder) {
    MappingRule first = make_rule("a/{node}/{attribute}");
    first.attributes = {"current"};
    MappingRule second = make_rule("b/{node}", PayloadForm::json);
    second.attributes = {"voltage"};
    MappingRule third = make_rule("c/{attribute}");
    third.match_node = "other";
    MappingRule fourth = make_rule("d/{attribute}");
    fourth.attributes = {"voltage"};
    Mapper mapper("gw", {first, second, third, fourth});
    EXPECT_EQ(topics(map(mapper, pdu("pdu-1", 230), t0)),
              (Strings{"a/pdu-1/current", "b/pdu-1", "d/voltage"}));
}

TEST(MapperSelection, NoSelectedAttributeGivesNoNodeMessage) {
    MappingRule rule = make_rule("{node}", PayloadForm::json);
    rule.attributes = {"missing"};
    Mapper mapper("gw", {rule});
    EXPECT_TRUE(map(mapper, pdu("pdu-1", 230), t0).empty());
}

// ---- templates and payloads ----------------------------------------------------------

TEST(MapperTopics, EveryFieldExpands) {
    Mapper mapper("gw-01", {make_rule("{gateway}/{source}/{node}/{attribute}[{unit}]")});
    EXPECT_EQ(topics(map(mapper, pdu("pdu-1", 230), t0)),
              (Strings{"gw-01/pdu-bus/pdu-1/voltage[V]", "gw-01/pdu-bus/pdu-1/current[A]",
                       "gw-01/pdu-bus/pdu-1/breaker[]"}));
}

TEST(MapperTopics, NodeIdsCannotAddLevelsOrWildcards) {
    Mapper mapper("gw", {make_rule("x/{node}/{attribute}")});
    const auto messages = map(mapper, make_sample("s", "a/b+#", {{"v", 1.0, ""}}), t0);
    EXPECT_EQ(topics(messages), (Strings{"x/a_b__/v"}));
}

TEST(MapperPayloads, ValueIsTheBareValue) {
    MappingRule rule = make_rule("{node}/{attribute}", PayloadForm::value);
    Mapper mapper("gw", {rule});
    const auto messages = map(mapper,
                              make_sample("s", "n",
                                          {{"a", 230.5, "V"},
                                           {"b", std::int64_t{-3}, ""},
                                           {"c", false, ""},
                                           {"d", std::string("on \"1\""), ""},
                                           {"e", -std::numeric_limits<double>::infinity(), ""}}),
                              t0);
    EXPECT_EQ(payloads(messages), (Strings{"230.5", "-3", "false", "on \"1\"", "-inf"}));
}

TEST(MapperPayloads, JsonPerAttribute) {
    Mapper mapper("gw", {make_rule("{node}/{attribute}", PayloadForm::json)});
    const auto messages = map(mapper,
                              make_sample("s", "n",
                                          {{"voltage", 230.5, "V"},
                                           {"state", std::string("ok\n"), ""},
                                           {"bad", std::nan(""), "°C"}}),
                              t0);
    EXPECT_EQ(payloads(messages),
              (Strings{R"({"value":230.5,"unit":"V","ts":"2026-11-24T12:00:00.123Z"})",
                       R"({"value":"ok\u000a","ts":"2026-11-24T12:00:00.123Z"})",
                       R"({"value":null,"unit":"°C","ts":"2026-11-24T12:00:00.123Z"})"}));
}

TEST(MapperPayloads, JsonPerNode) {
    MappingRule rule = make_rule("dc1/{gateway}/{node}", PayloadForm::json);
    rule.attributes = {"voltage", "current"};
    Mapper mapper("gw", {rule});
    const auto messages = map(mapper, pdu("pdu-1", 230.5), t0);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0].topic, "dc1/gw/pdu-1");
    EXPECT_EQ(
        messages[0].payload,
        R"({"node":"pdu-1","ts":"2026-11-24T12:00:00.123Z","voltage":230.5,"current":12.25})");
}

TEST(MapperPayloads, PerNodeValuePayloadFallsBackToJson) {
    Mapper mapper("gw", {make_rule("{node}", PayloadForm::value)});
    const auto messages = map(mapper, make_sample("s", "n", {{"a", std::int64_t{1}, ""}}), t0);
    EXPECT_EQ(payloads(messages),
              (Strings{R"({"node":"n","ts":"2026-11-24T12:00:00.123Z","a":1})"}));
}

TEST(MapperPayloads, JsonPerNodeEscapesNamesAndIds) {
    Mapper mapper("gw", {make_rule("{source}", PayloadForm::json)});
    const auto messages =
        map(mapper, make_sample("s", "n\"1\x80", {{"t\\x", std::string("\x01"), ""}}), t0);
    EXPECT_EQ(payloads(messages), (Strings{"{\"node\":\"n\\\"1\xEF\xBF\xBD\",\"ts\":\"" +
                                           std::string(kTs) + "\",\"t\\\\x\":\"\\u0001\"}"}));
}

TEST(MapperPayloads, NumbersReadTheSameInValueAndJsonPayloads) {
    // Each number's expected text, as a person reads it: positional from 1e-7 up to 1e21.
    const std::vector<std::pair<double, std::string>> numbers = {
        {0.0001, "0.0001"},  // an energy counter in kWh, not "1e-04"
        {49.99, "49.99"},    // a mains frequency in Hz
        {230.0, "230"},      // an integer-valued reading has no point
        {0.1 + 0.2, "0.30000000000000004"},
        {123456789012.0, "123456789012"},
        {-12.5, "-12.5"},
        {1e-7, "0.0000001"},
        {9.99e-8, "9.99e-8"},
        {1e21, "1e+21"},
        {-0.0, "0"}};
    std::vector<Attribute> attributes;
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        attributes.push_back({"a" + std::to_string(i), numbers[i].first, ""});
    }
    const Sample sample = make_sample("s", "n", attributes);

    Mapper value("gw", {make_rule("{node}/{attribute}", PayloadForm::value)});
    Mapper json("gw", {make_rule("{node}/{attribute}", PayloadForm::json)});
    Mapper node("gw", {make_rule("{node}", PayloadForm::json)});
    const auto values = map(value, sample, t0);
    const auto jsons = map(json, sample, t0);
    const auto nodes = map(node, sample, t0);
    ASSERT_EQ(values.size(), numbers.size());
    ASSERT_EQ(jsons.size(), numbers.size());
    ASSERT_EQ(nodes.size(), 1u);
    std::string per_node = R"({"node":"n","ts":")" + std::string(kTs) + '"';
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        const std::string& text = numbers[i].second;
        EXPECT_EQ(values[i].payload, text);
        EXPECT_EQ(jsons[i].payload,
                  R"({"value":)" + text + R"(,"ts":")" + std::string(kTs) + "\"}");
        per_node += ",\"a" + std::to_string(i) + "\":" + text;
    }
    EXPECT_EQ(nodes[0].payload, per_node + "}");
}

TEST(MapperPayloads, QosAndRetainComeFromTheRule) {
    MappingRule rule = make_rule("{node}/{attribute}");
    rule.qos = 2;
    rule.retain = true;
    MappingRule other = make_rule("{node}", PayloadForm::json);
    other.qos = 1;
    Mapper mapper("gw", {rule, other});
    const auto messages = map(mapper, make_sample("s", "n", {{"a", 1.0, ""}}), t0);
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[0].qos, 2);
    EXPECT_TRUE(messages[0].retain);
    EXPECT_EQ(messages[1].qos, 1);
    EXPECT_FALSE(messages[1].retain);
}

TEST(MapperRules, InvalidTopicTemplateSkipsOnlyThatRule) {
    Mapper mapper("gw", {make_rule("bad/{nope}"), make_rule("ok/{attribute}")});
    EXPECT_EQ(topics(map(mapper, make_sample("s", "n", {{"a", 1.0, ""}}), t0)), (Strings{"ok/a"}));
}

// ---- policies ------------------------------------------------------------------------

Sample reading(double value, WallClock::time_point time = kWall) {
    return make_sample("s", "n", {{"v", value, "V"}}, time);
}

TEST(MapperPolicy, DefaultPublishesEverySample) {
    Mapper mapper("gw", {make_rule("{attribute}")});
    EXPECT_EQ(map(mapper, reading(1), t0).size(), 1u);
    EXPECT_EQ(map(mapper, reading(1), t0).size(), 1u);
    EXPECT_EQ(mapper.next_due(), SteadyClock::time_point::max());
}

TEST(MapperPolicy, OnChangeWithDeadbandEdges) {
    MappingRule rule = make_rule("{attribute}");
    rule.on_change = true;
    rule.deadband = 0.5;
    Mapper mapper("gw", {rule});
    EXPECT_EQ(payloads(map(mapper, reading(230.0), t0)), Strings{"230"});
    EXPECT_TRUE(map(mapper, reading(230.5), t0 + 1s).empty());  // exactly the deadband
    EXPECT_TRUE(map(mapper, reading(229.5), t0 + 2s).empty());
    EXPECT_EQ(payloads(map(mapper, reading(230.75), t0 + 3s)), Strings{"230.75"});
    // The reference is the last published value, not the last seen one: creeping counts.
    EXPECT_TRUE(map(mapper, reading(231.0), t0 + 4s).empty());
    EXPECT_TRUE(map(mapper, reading(231.25), t0 + 5s).empty());
    EXPECT_EQ(payloads(map(mapper, reading(231.3), t0 + 6s)), Strings{"231.3"});
    EXPECT_EQ(payloads(map(mapper, reading(std::nan("")), t0 + 7s)), Strings{"nan"});
    EXPECT_TRUE(map(mapper, reading(std::nan("")), t0 + 8s).empty());
    EXPECT_EQ(mapper.next_due(), SteadyClock::time_point::max());  // no heartbeat
}

TEST(MapperPolicy, OnChangeKeysAreSeparatePerNodeAndAttribute) {
    MappingRule rule = make_rule("{node}/{attribute}");
    rule.on_change = true;
    Mapper mapper("gw", {rule});
    EXPECT_EQ(map(mapper, pdu("pdu-1", 230), t0).size(), 3u);
    EXPECT_EQ(map(mapper, pdu("pdu-2", 230), t0).size(), 3u);
    EXPECT_EQ(topics(map(mapper, pdu("pdu-1", 230, 13.0), t0)), Strings{"pdu-1/current"});
    EXPECT_TRUE(map(mapper, pdu("pdu-2", 230), t0).empty());
}

TEST(MapperPolicy, OnChangeForTextAndBools) {
    MappingRule rule = make_rule("{attribute}");
    rule.on_change = true;
    rule.deadband = 100;  // does not apply to text and bools
    Mapper mapper("gw", {rule});
    const auto state = [](std::string text, bool flag) {
        return make_sample("s", "n", {{"state", std::move(text), ""}, {"flag", flag, ""}});
    };
    EXPECT_EQ(map(mapper, state("on", false), t0).size(), 2u);
    EXPECT_TRUE(map(mapper, state("on", false), t0).empty());
    EXPECT_EQ(payloads(map(mapper, state("off", false), t0)), Strings{"off"});
    EXPECT_EQ(payloads(map(mapper, state("off", true), t0)), Strings{"true"});
}

TEST(MapperPolicy, HeartbeatRepublishesTheLatestReadingAfterQuietPeriod) {
    MappingRule rule = make_rule("{attribute}", PayloadForm::json);
    rule.on_change = true;
    rule.deadband = 1.0;
    rule.heartbeat = 60s;
    Mapper mapper("gw", {rule});
    ASSERT_EQ(map(mapper, reading(230.0), t0).size(), 1u);
    EXPECT_EQ(mapper.next_due(), SteadyClock::time_point::max());  // nothing seen since
    EXPECT_TRUE(map(mapper, reading(230.2, kWall + 30s), t0 + 30s).empty());
    EXPECT_EQ(mapper.next_due(), t0 + 60s);
    EXPECT_TRUE(tick(mapper, t0 + 59999ms).empty());
    const auto beat = tick(mapper, t0 + 60s);
    EXPECT_EQ(payloads(beat),
              Strings{R"({"value":230.2,"unit":"V","ts":"2026-11-24T12:00:30.123Z"})"});
    EXPECT_EQ(topics(beat), Strings{"v"});
    // The device went silent: no stale value is repeated.
    EXPECT_EQ(mapper.next_due(), SteadyClock::time_point::max());
    EXPECT_TRUE(tick(mapper, t0 + 300s).empty());
}

TEST(MapperPolicy, HeartbeatOverdueAtSampleTimePublishesFromMap) {
    MappingRule rule = make_rule("{attribute}");
    rule.on_change = true;
    rule.heartbeat = 10s;
    Mapper mapper("gw", {rule});
    ASSERT_EQ(map(mapper, reading(5), t0).size(), 1u);
    EXPECT_EQ(payloads(map(mapper, reading(5), t0 + 10s)), Strings{"5"});
    EXPECT_TRUE(map(mapper, reading(5), t0 + 19s).empty());
    EXPECT_EQ(mapper.next_due(), t0 + 20s);
    // A change publishes at once and moves the heartbeat.
    EXPECT_EQ(payloads(map(mapper, reading(6), t0 + 19500ms)), Strings{"6"});
    EXPECT_EQ(mapper.next_due(), SteadyClock::time_point::max());
    EXPECT_TRUE(tick(mapper, t0 + 20s).empty());
    EXPECT_TRUE(map(mapper, reading(6), t0 + 20s).empty());
    EXPECT_EQ(mapper.next_due(), t0 + 29500ms);
}

TEST(MapperPolicy, MinIntervalLatestWins) {
    MappingRule rule = make_rule("{attribute}");
    rule.min_interval = 10s;
    Mapper mapper("gw", {rule});
    EXPECT_EQ(payloads(map(mapper, reading(1), t0)), Strings{"1"});
    EXPECT_TRUE(map(mapper, reading(2), t0 + 1s).empty());
    EXPECT_TRUE(map(mapper, reading(3, kWall + 2s), t0 + 2s).empty());
    EXPECT_EQ(mapper.next_due(), t0 + 10s);
    EXPECT_TRUE(tick(mapper, t0 + 9s).empty());
    EXPECT_EQ(payloads(tick(mapper, t0 + 10s)), Strings{"3"});
    EXPECT_EQ(mapper.next_due(), SteadyClock::time_point::max());
    // The interval restarts at the tick's publish.
    EXPECT_TRUE(map(mapper, reading(4), t0 + 15s).empty());
    EXPECT_EQ(mapper.next_due(), t0 + 20s);
    EXPECT_EQ(payloads(map(mapper, reading(5), t0 + 20s)), Strings{"5"});  // due: direct
    EXPECT_EQ(mapper.next_due(), SteadyClock::time_point::max());
    EXPECT_TRUE(tick(mapper, t0 + 25s).empty());
}

TEST(MapperPolicy, MinIntervalWithOnChangeDropsHeldValueThatChangedBack) {
    MappingRule rule = make_rule("{attribute}");
    rule.on_change = true;
    rule.min_interval = 10s;
    Mapper mapper("gw", {rule});
    ASSERT_EQ(map(mapper, reading(1), t0).size(), 1u);
    EXPECT_TRUE(map(mapper, reading(2), t0 + 1s).empty());
    EXPECT_EQ(mapper.next_due(), t0 + 10s);
    EXPECT_TRUE(map(mapper, reading(1), t0 + 2s).empty());
    EXPECT_EQ(mapper.next_due(), SteadyClock::time_point::max());
    EXPECT_TRUE(tick(mapper, t0 + 10s).empty());
}

TEST(MapperPolicy, NextDueIsTheEarliestAcrossKeysAndTickEmitsInDeadlineOrder) {
    MappingRule slow = make_rule("slow/{node}/{attribute}");
    slow.min_interval = 30s;
    MappingRule fast = make_rule("fast/{node}/{attribute}");
    fast.min_interval = 5s;
    Mapper mapper("gw", {slow, fast});
    EXPECT_EQ(mapper.next_due(), SteadyClock::time_point::max());
    EXPECT_EQ(map(mapper, make_sample("s", "a", {{"v", 1.0, ""}}), t0).size(), 2u);
    EXPECT_EQ(map(mapper, make_sample("s", "b", {{"v", 1.0, ""}}), t0 + 1s).size(), 2u);
    EXPECT_TRUE(map(mapper, make_sample("s", "a", {{"v", 2.0, ""}}), t0 + 2s).empty());
    EXPECT_TRUE(map(mapper, make_sample("s", "b", {{"v", 2.0, ""}}), t0 + 2s).empty());
    EXPECT_EQ(mapper.next_due(), t0 + 5s);
    EXPECT_EQ(topics(tick(mapper, t0 + 5s)), Strings{"fast/a/v"});
    EXPECT_EQ(mapper.next_due(), t0 + 6s);
    EXPECT_EQ(topics(tick(mapper, t0 + 40s)), (Strings{"fast/b/v", "slow/a/v", "slow/b/v"}));
    EXPECT_EQ(mapper.next_due(), SteadyClock::time_point::max());
}

TEST(MapperPolicy, PerNodeOnChangeCarriesAllSelectedAttributes) {
    MappingRule rule = make_rule("{node}", PayloadForm::json);
    rule.attributes = {"voltage", "current"};
    rule.on_change = true;
    rule.deadband = 0.5;
    Mapper mapper("gw", {rule});
    ASSERT_EQ(map(mapper, pdu("pdu-1", 230.0, 12.0), t0).size(), 1u);
    EXPECT_TRUE(map(mapper, pdu("pdu-1", 230.4, 12.5), t0 + 1s).empty());
    const auto messages = map(mapper, pdu("pdu-1", 230.4, 12.6), t0 + 2s);
    EXPECT_EQ(
        payloads(messages),
        Strings{
            R"({"node":"pdu-1","ts":"2026-11-24T12:00:00.123Z","voltage":230.4,"current":12.6})"});
    // Each attribute's reference moved to what was published.
    EXPECT_TRUE(map(mapper, pdu("pdu-1", 230.0, 12.6), t0 + 3s).empty());
    EXPECT_EQ(map(mapper, pdu("pdu-1", 229.8, 12.6), t0 + 4s).size(), 1u);
    // A changed attribute the rule does not select changes nothing.
    EXPECT_TRUE(
        map(mapper,
            make_sample("pdu-bus", "pdu-1",
                        {{"voltage", 229.8, "V"}, {"current", 12.6, "A"}, {"breaker", false, ""}}),
            t0 + 5s)
            .empty());
}

TEST(MapperPolicy, PerNodeMinIntervalAndHeartbeatRepublishTheLatestSample) {
    MappingRule rule = make_rule("m/{node}", PayloadForm::json);
    rule.attributes = {"voltage", "current"};
    rule.on_change = true;
    rule.min_interval = 10s;
    rule.heartbeat = 60s;
    Mapper mapper("gw", {rule});
    ASSERT_EQ(map(mapper, pdu("pdu-1", 230.0, 12.0), t0).size(), 1u);
    EXPECT_TRUE(map(mapper, pdu("pdu-1", 231.0, 12.0), t0 + 1s).empty());
    EXPECT_TRUE(map(mapper,
                    make_sample("pdu-bus", "pdu-1",
                                {{"voltage", 232.0, "V"}, {"current", 12.0, "A"}}, kWall + 2s),
                    t0 + 2s)
                    .empty());
    EXPECT_EQ(mapper.next_due(), t0 + 10s);
    const auto held = tick(mapper, t0 + 10s);
    EXPECT_EQ(
        payloads(held),
        Strings{R"({"node":"pdu-1","ts":"2026-11-24T12:00:02.123Z","voltage":232,"current":12})"});
    EXPECT_EQ(topics(held), Strings{"m/pdu-1"});
    EXPECT_TRUE(map(mapper, make_sample("pdu-bus", "pdu-1", {{"voltage", 232.0, "V"}}, kWall + 20s),
                    t0 + 20s)
                    .empty());
    EXPECT_EQ(mapper.next_due(), t0 + 70s);
    // Only the attributes of the latest sample are republished.
    EXPECT_EQ(payloads(tick(mapper, t0 + 70s)),
              Strings{R"({"node":"pdu-1","ts":"2026-11-24T12:00:20.123Z","voltage":232})"});
    EXPECT_EQ(mapper.next_due(), SteadyClock::time_point::max());
}

TEST(MapperPolicy, PoliciesOfDifferentRulesAreIndependent) {
    MappingRule changes = make_rule("c/{attribute}");
    changes.on_change = true;
    MappingRule all = make_rule("a/{attribute}");
    Mapper mapper("gw", {changes, all});
    EXPECT_EQ(map(mapper, reading(1), t0).size(), 2u);
    EXPECT_EQ(topics(map(mapper, reading(1), t0)), Strings{"a/v"});
}

// ---- the issue's example and bounds --------------------------------------------------

TEST(MapperExample, IssueRulesProduceTheDocumentedMessages) {
    MappingRule power = make_rule("dc1/{gateway}/{node}/{attribute}", PayloadForm::value);
    power.match_source = "pdu-bus";
    power.attributes = {"voltage", "current", "power", "energy"};
    power.qos = 1;
    power.retain = true;
    power.on_change = true;
    power.deadband = 0.5;
    power.heartbeat = 60s;
    MappingRule breakers = make_rule("dc1/{gateway}/{node}/breaker", PayloadForm::json);
    breakers.match_source = "pdu-bus";
    breakers.match_node = "pdu-*";
    breakers.attributes = {"breaker"};
    breakers.qos = 2;
    MappingRule meters = make_rule("dc1/{gateway}/meters/{node}", PayloadForm::json);
    meters.match_source = "meters";
    meters.min_interval = 10s;
    Mapper mapper("gw-01", {power, breakers, meters});

    const auto messages = map(mapper, pdu("pdu-1", 230.5), t0);
    EXPECT_EQ(topics(messages), (Strings{"dc1/gw-01/pdu-1/voltage", "dc1/gw-01/pdu-1/current",
                                         "dc1/gw-01/pdu-1/breaker"}));
    EXPECT_EQ(payloads(messages),
              (Strings{"230.5", "12.25",
                       R"({"node":"pdu-1","ts":"2026-11-24T12:00:00.123Z","breaker":true})"}));
    const auto meter = map(
        mapper,
        make_sample("meters", "meter-7", {{"frequency", 50.01, "Hz"}, {"temperature", 21.3, "°C"}}),
        t0);
    EXPECT_EQ(
        payloads(meter),
        Strings{
            R"({"node":"meter-7","ts":"2026-11-24T12:00:00.123Z","frequency":50.01,"temperature":21.3})"});
}

TEST(MapperBounds, AttributesBeyondTheBoundAreDroppedAndCounted) {
    Mapper mapper("gw", {make_rule("{attribute}")});
    std::vector<Attribute> attributes;
    for (int i = 0; i < 1030; ++i) attributes.push_back({"a" + std::to_string(i), 1.0, ""});
    EXPECT_EQ(map(mapper, make_sample("s", "n", attributes), t0).size(), 1024u);
    EXPECT_EQ(mapper.dropped_attributes(), 6u);
}

TEST(MapperMemory, ThousandNodesOfTwentyAttributesFitInAFewMiB) {
    MappingRule per_attribute = make_rule("{node}/{attribute}");
    per_attribute.on_change = true;
    per_attribute.heartbeat = 60s;
    MappingRule per_node = make_rule("{node}", PayloadForm::json);
    per_node.on_change = true;
    per_node.min_interval = 10s;
    std::vector<Attribute> attributes;
    for (int i = 0; i < 20; ++i) {
        attributes.push_back({"attribute-" + std::to_string(i), 1.5 * i, "V"});
    }
    const std::size_t before = heap_in_use();
    {
        Mapper mapper("gw", {per_attribute, per_node});
        std::vector<Message> out;
        for (int round = 0; round < 2; ++round) {
            for (int node = 0; node < 1000; ++node) {
                out.clear();
                mapper.map(make_sample("bus", "node-" + std::to_string(node), attributes),
                           t0 + seconds(round), out);
            }
        }
        ASSERT_TRUE(out.empty());  // the second round is unchanged
        EXPECT_NE(mapper.next_due(), SteadyClock::time_point::max());
        const std::size_t used = heap_in_use() - before;
        RecordProperty("mapper_bytes", std::to_string(used));
        EXPECT_LT(used, 8u << 20) << used << " bytes";
    }
}

// 1,000 meters of one model send the same 20 names and units: the mapper keeps each once,
// not once per node (issue #10: a model's descriptions are shared by its nodes). The names
// are longer than std::string's inline buffer, as real ones are; a copy per node would take
// 20,000 x (a label of two strings + the name's heap block): 2.3 MB measured, against
// 0.5 MB with the labels shared (most of it the 1,000 node entries themselves).
TEST(MapperMemory, NodesOfOneModelShareTheirAttributeNamesAndUnits) {
    std::vector<Attribute> attributes;
    for (int i = 0; i < 20; ++i) {
        attributes.push_back({"active_power_phase_" + std::to_string(i), 1.5 * i, "kW"});
    }
    const std::size_t before = heap_in_use();
    {
        Mapper mapper("gw", {make_rule("{node}/{attribute}")});
        std::vector<Message> out;
        for (int node = 0; node < 1000; ++node) {
            out.clear();
            mapper.map(make_sample("bus", "meter-" + std::to_string(node), attributes), t0, out);
            ASSERT_EQ(out.size(), 20u);
        }
        out = {};
        const std::size_t used = heap_in_use() - before;
        RecordProperty("mapper_bytes", std::to_string(used));
        EXPECT_LT(used, 1u << 20) << used << " bytes";
    }
}

}  // namespace
}  // namespace nodebridge

namespace nodebridge {
namespace {

// Random readings and ticks over several keys and rules: whatever the order of events, the
// deadline bookkeeping must keep its promises.
TEST(MapperPolicy, RandomEventsKeepTheSchedulingPromises) {
    MappingRule throttled = make_rule("t/{node}/{attribute}");
    throttled.on_change = true;
    throttled.deadband = 1.0;
    throttled.heartbeat = 7s;
    throttled.min_interval = 3s;
    MappingRule per_node = make_rule("n/{node}", PayloadForm::json);
    per_node.on_change = true;
    per_node.heartbeat = 5s;
    per_node.min_interval = 2s;
    Mapper mapper("gw", {throttled, per_node});

    std::uint64_t seed = 12345;
    const auto random = [&seed](std::uint64_t bound) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        return (seed >> 33) % bound;
    };
    std::map<std::string, SteadyClock::time_point> last_message;
    SteadyClock::time_point now = t0;
    const auto check = [&](const std::vector<Message>& messages) {
        for (const Message& message : messages) {
            const auto found = last_message.find(message.topic);
            if (found != last_message.end()) {
                const auto gap = message.topic[0] == 't' ? 3s : 2s;
                ASSERT_GE(now - found->second, gap) << message.topic;
            }
            last_message[message.topic] = now;
        }
    };
    for (int step = 0; step < 20000; ++step) {
        now += milliseconds(random(1500));
        if (random(4) == 0) {
            const auto due = mapper.next_due();
            if (due != SteadyClock::time_point::max() && due > now) now = due;
            const auto messages = tick(mapper, now);
            check(messages);
            if (due != SteadyClock::time_point::max() && due <= now) {
                ASSERT_FALSE(messages.empty()) << "next_due promised work at step " << step;
            }
            ASSERT_GT(mapper.next_due(), now);
        } else {
            const std::string node = "n" + std::to_string(random(5));
            std::vector<Attribute> attributes;
            for (int a = 0; a < 3; ++a) {
                if (random(5) != 0) {
                    attributes.push_back(
                        {"a" + std::to_string(a), static_cast<double>(random(4)), ""});
                }
            }
            check(map(mapper, make_sample("s", node, attributes), now));
        }
    }
}

// ---- availability ----------------------------------------------------------------------

Sample availability(std::string source, std::string node, bool online) {
    Sample sample = make_sample(std::move(source), std::move(node), {});
    sample.online = online;
    return sample;
}

TEST(MapperAvailability, PublishesOnlineAndOfflineRetainedAtQos1) {
    MappingRule rule = make_rule("{gateway}/{node}/{attribute}");
    rule.name = "radios";
    rule.qos = 0;
    rule.retain = false;
    rule.availability_topic = "{gateway}/{source}/{node}/available";
    Mapper mapper("gw", {rule});
    auto messages = map(mapper, availability("radio", "0A1B2C", true), t0);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0], (Message{"gw/radio/0A1B2C/available", "online", 1, true, "radios"}));
    messages = map(mapper, availability("radio", "0A1B2C", false), t0 + 1s);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0], (Message{"gw/radio/0A1B2C/available", "offline", 1, true, "radios"}));
}

TEST(MapperAvailability, OnlyMatchingRulesWithATopicPublishAndNoReadings) {
    MappingRule plain = make_rule("all/{node}/{attribute}");
    MappingRule pdus = make_rule("pdu/{node}", PayloadForm::json);
    pdus.match_node = "pdu-*";
    pdus.availability_topic = "pdu/{node}/status";
    MappingRule radios = make_rule("radio/{node}/{attribute}");
    radios.match_source = "radio";
    radios.availability_topic = "radio/{node}/status";
    Mapper mapper("gw", {plain, pdus, radios});
    EXPECT_EQ(topics(map(mapper, availability("pdu-bus", "pdu-1", true), t0)),
              Strings{"pdu/pdu-1/status"});
    EXPECT_EQ(topics(map(mapper, availability("pdu-bus", "meter-7", true), t0)), Strings{});
    EXPECT_EQ(topics(map(mapper, availability("radio", "pdu-9", false), t0)),
              (Strings{"pdu/pdu-9/status", "radio/pdu-9/status"}));
    // Readings still flow by every rule, and never to an availability topic.
    EXPECT_EQ(
        topics(map(mapper, pdu("pdu-1", 230), t0)),
        (Strings{"all/pdu-1/voltage", "all/pdu-1/current", "all/pdu-1/breaker", "pdu/pdu-1"}));
}

TEST(MapperAvailability, RulesSharingATopicSendItOnce) {
    MappingRule voltage = make_rule("{node}/voltage");
    voltage.attributes = {"voltage"};
    voltage.availability_topic = "{node}/status";
    MappingRule current = make_rule("{node}/current");
    current.attributes = {"current"};
    current.availability_topic = "{node}/status";
    Mapper mapper("gw", {voltage, current});
    EXPECT_EQ(payloads(map(mapper, availability("pdu-bus", "pdu-1", false), t0)),
              Strings{"offline"});
}

TEST(MapperAvailability, LeavesPolicyStateAlone) {
    MappingRule rule = make_rule("{node}/{attribute}");
    rule.on_change = true;
    rule.heartbeat = 10s;
    rule.availability_topic = "{node}/status";
    Mapper mapper("gw", {rule});
    EXPECT_EQ(map(mapper, pdu("pdu-1", 230), t0).size(), 3u);
    const auto due = mapper.next_due();
    EXPECT_EQ(payloads(map(mapper, availability("pdu-bus", "pdu-1", false), t0 + 1s)),
              Strings{"offline"});
    EXPECT_EQ(payloads(map(mapper, availability("pdu-bus", "pdu-1", true), t0 + 2s)),
              Strings{"online"});
    EXPECT_EQ(mapper.next_due(), due);
    // Unchanged readings are still suppressed: availability is not a reading.
    EXPECT_EQ(map(mapper, pdu("pdu-1", 230), t0 + 3s).size(), 0u);
}

TEST(MapperAvailability, NodeIdCannotAddATopicLevel) {
    MappingRule rule = make_rule("{node}/{attribute}");
    rule.availability_topic = "gw/{node}/status";
    Mapper mapper("gw", {rule});
    EXPECT_EQ(topics(map(mapper, availability("s", "a/#", true), t0)), Strings{"gw/a__/status"});
}

// ---- the rule behind each message ----------------------------------------------------

std::vector<std::string> rule_names(const std::vector<Message>& messages) {
    std::vector<std::string> result;
    for (const Message& message : messages) result.push_back(message.rule);
    return result;
}

MappingRule named(std::string name, std::string topic, PayloadForm payload = PayloadForm::value) {
    MappingRule rule = make_rule(std::move(topic), payload);
    rule.name = std::move(name);
    return rule;
}

TEST(MapperRuleName, EveryMessageNamesItsRule) {
    MappingRule each = named("each", "e/{node}/{attribute}");
    each.attributes = {"voltage"};
    MappingRule whole = named("whole", "w/{node}", PayloadForm::json);
    whole.attributes = {"voltage"};
    whole.availability_topic = "w/{node}/status";
    MappingRule held = named("held", "h/{node}/{attribute}");
    held.attributes = {"voltage"};
    held.min_interval = 10s;
    Mapper mapper("gw", {each, whole, held});
    const auto mapped = map(mapper, pdu("pdu-1", 230), t0);
    EXPECT_EQ(mapped[0], (Message{"e/pdu-1/voltage", "230", 0, false, "each"}));
    EXPECT_EQ(rule_names(mapped), (Strings{"each", "whole", "held"}));
    EXPECT_EQ(rule_names(map(mapper, pdu("pdu-1", 231), t0 + 1s)), (Strings{"each", "whole"}));
    EXPECT_EQ(tick(mapper, t0 + 10s),
              (std::vector<Message>{{"h/pdu-1/voltage", "231", 0, false, "held"}}));
    EXPECT_EQ(map(mapper, availability("pdu-bus", "pdu-1", false), t0),
              (std::vector<Message>{{"w/pdu-1/status", "offline", 1, true, "whole"}}));
}

// ---- reload: state carried over for unchanged rules ---------------------------------

// What a reload does: a new Mapper from the new rules adopts the old one's state.
Mapper reloaded(Mapper& previous, std::string gateway, const std::vector<MappingRule>& rules) {
    Mapper next(std::move(gateway), rules);
    next.adopt_state(std::move(previous));
    return next;
}

TEST(MapperReload, UnchangedOnChangeRuleSendsNothingForTheSameValue) {
    MappingRule changes = named("changes", "c/{node}/{attribute}");
    changes.on_change = true;
    MappingRule other = named("other", "o/{node}/{attribute}");
    other.attributes = {"voltage"};
    Mapper mapper("gw", {changes, other});
    ASSERT_EQ(map(mapper, pdu("pdu-1", 230), t0).size(), 4u);
    ASSERT_EQ(map(mapper, pdu("pdu-2", 231), t0).size(), 4u);

    other.topic = "other/{node}/{attribute}";  // a changed rule, and a new one before both
    MappingRule added = named("added", "a/{node}/{attribute}");
    added.on_change = true;
    added.attributes = {"current"};
    Mapper next = reloaded(mapper, "gw", {added, changes, other});
    // The kept rule suppresses both nodes' unchanged values; the new rules publish.
    EXPECT_EQ(topics(map(next, pdu("pdu-1", 230), t0 + 1s)),
              (Strings{"a/pdu-1/current", "other/pdu-1/voltage"}));
    EXPECT_EQ(topics(map(next, pdu("pdu-2", 231), t0 + 1s)),
              (Strings{"a/pdu-2/current", "other/pdu-2/voltage"}));
    // A changed value still gets through, and the new rule now keeps state of its own.
    EXPECT_EQ(topics(map(next, pdu("pdu-1", 229), t0 + 2s)),
              (Strings{"c/pdu-1/voltage", "other/pdu-1/voltage"}));
    // An attribute first seen after the reload is tracked by every rule.
    const Sample grown = make_sample("pdu-bus", "pdu-1",
                                     {{"voltage", 229.0, "V"},
                                      {"current", 12.25, "A"},
                                      {"breaker", true, ""},
                                      {"power", 7.5, "W"}});
    EXPECT_EQ(topics(map(next, grown, t0 + 3s)), (Strings{"c/pdu-1/power", "other/pdu-1/voltage"}));
    EXPECT_EQ(topics(map(next, grown, t0 + 4s)), (Strings{"other/pdu-1/voltage"}));
}

TEST(MapperReload, PerNodeOnChangeStateIsKept) {
    MappingRule node = named("node", "n/{node}", PayloadForm::json);
    node.on_change = true;
    Mapper mapper("gw", {node});
    ASSERT_EQ(map(mapper, pdu("pdu-1", 230), t0).size(), 1u);
    Mapper next = reloaded(mapper, "gw", {node});
    EXPECT_TRUE(map(next, pdu("pdu-1", 230), t0 + 1s).empty());
    EXPECT_EQ(rule_names(map(next, pdu("pdu-1", 231), t0 + 2s)), Strings{"node"});
}

TEST(MapperReload, ChangedRuleStartsAfresh) {
    MappingRule rule = named("r", "{attribute}");
    rule.on_change = true;
    Mapper mapper("gw", {rule});
    ASSERT_EQ(map(mapper, reading(5), t0).size(), 1u);
    ASSERT_TRUE(map(mapper, reading(5), t0).empty());
    rule.deadband = 0.5;  // same name, another rule
    Mapper next = reloaded(mapper, "gw", {rule});
    EXPECT_EQ(payloads(map(next, reading(5), t0 + 1s)), Strings{"5"});
    EXPECT_TRUE(map(next, reading(5.4), t0 + 2s).empty());
}

TEST(MapperReload, StateFollowsTheRuleNameNotItsPlace) {
    MappingRule first = named("first", "f/{attribute}");
    first.on_change = true;
    MappingRule second = named("second", "s/{attribute}");
    second.on_change = true;
    second.deadband = 10;
    Mapper mapper("gw", {first, second});
    ASSERT_EQ(map(mapper, reading(5), t0).size(), 2u);
    // Swapped order: each rule keeps its own reference value (5 for both).
    Mapper swapped = reloaded(mapper, "gw", {second, first});
    EXPECT_EQ(topics(map(swapped, reading(8), t0 + 1s)), Strings{"f/v"});
    // A renamed rule is a new rule, even with the same settings.
    first.name = "renamed";
    Mapper renamed = reloaded(swapped, "gw", {second, first});
    EXPECT_EQ(topics(map(renamed, reading(8), t0 + 2s)), Strings{"f/v"});
    EXPECT_EQ(rule_names(map(renamed, reading(16), t0 + 3s)), (Strings{"second", "renamed"}));
}

TEST(MapperReload, PositionOfTheRuleInTheFileDoesNotMatter) {
    MappingRule rule = named("r", "{attribute}");
    rule.on_change = true;
    rule.where = {"a.yaml", 3, 5};
    Mapper mapper("gw", {rule});
    ASSERT_EQ(map(mapper, reading(5), t0).size(), 1u);
    rule.where = {"a.yaml", 30, 5};
    Mapper next = reloaded(mapper, "gw", {rule});
    EXPECT_TRUE(map(next, reading(5), t0 + 1s).empty());
}

TEST(MapperReload, AnotherGatewayKeepsNothing) {
    MappingRule rule = named("r", "{gateway}/{attribute}");
    rule.on_change = true;
    Mapper mapper("gw", {rule});
    ASSERT_EQ(map(mapper, reading(5), t0).size(), 1u);
    Mapper next = reloaded(mapper, "gw-2", {rule});
    EXPECT_EQ(topics(map(next, reading(5), t0 + 1s)), Strings{"gw-2/v"});
}

TEST(MapperReload, RemovedRuleSendsNothingMore) {
    MappingRule kept = named("kept", "k/{attribute}");
    kept.min_interval = 10s;
    MappingRule gone = named("gone", "g/{attribute}");
    gone.min_interval = 5s;
    Mapper mapper("gw", {kept, gone});
    ASSERT_EQ(map(mapper, reading(1), t0).size(), 2u);
    ASSERT_TRUE(map(mapper, reading(2), t0 + 1s).empty());
    ASSERT_EQ(mapper.next_due(), t0 + 5s);
    Mapper next = reloaded(mapper, "gw", {kept});
    EXPECT_EQ(next.next_due(), t0 + 10s);  // the removed rule's held value went with it
    EXPECT_TRUE(tick(next, t0 + 9s).empty());
    EXPECT_EQ(topics(tick(next, t0 + 10s)), Strings{"k/v"});
}

TEST(MapperReload, HeldMinIntervalValueSurvives) {
    MappingRule rule = named("slow", "{attribute}");
    rule.min_interval = 10s;
    Mapper mapper("gw", {rule});
    ASSERT_EQ(payloads(map(mapper, reading(1), t0)), Strings{"1"});
    ASSERT_TRUE(map(mapper, reading(2, kWall + 1s), t0 + 1s).empty());
    Mapper next = reloaded(mapper, "gw", {rule});
    EXPECT_EQ(next.next_due(), t0 + 10s);
    EXPECT_TRUE(tick(next, t0 + 9s).empty());
    // The interval counts from the publish before the reload, not from the reload.
    EXPECT_TRUE(map(next, reading(3, kWall + 5s), t0 + 5s).empty());
    EXPECT_EQ(tick(next, t0 + 10s), (std::vector<Message>{{"v", "3", 0, false, "slow"}}));
    EXPECT_EQ(next.next_due(), SteadyClock::time_point::max());
}

TEST(MapperReload, PerNodeHeldMessageSurvives) {
    MappingRule rule = named("node", "m/{node}", PayloadForm::json);
    rule.attributes = {"voltage"};
    rule.min_interval = 10s;
    Mapper mapper("gw", {rule});
    ASSERT_EQ(map(mapper, pdu("pdu-1", 230), t0).size(), 1u);
    ASSERT_TRUE(map(mapper, pdu("pdu-1", 231), t0 + 1s).empty());
    Mapper next = reloaded(mapper, "gw", {rule});
    EXPECT_EQ(next.next_due(), t0 + 10s);
    EXPECT_EQ(payloads(tick(next, t0 + 10s)),
              Strings{R"({"node":"pdu-1","ts":"2026-11-24T12:00:00.123Z","voltage":231})"});
}

TEST(MapperReload, HeartbeatDeadlineIsKept) {
    MappingRule rule = named("beat", "{attribute}");
    rule.on_change = true;
    rule.heartbeat = 60s;
    Mapper mapper("gw", {rule});
    ASSERT_EQ(map(mapper, reading(5), t0).size(), 1u);
    ASSERT_TRUE(map(mapper, reading(5), t0 + 30s).empty());
    ASSERT_EQ(mapper.next_due(), t0 + 60s);
    Mapper next = reloaded(mapper, "gw", {rule});
    EXPECT_EQ(next.next_due(), t0 + 60s);
    EXPECT_TRUE(map(next, reading(5), t0 + 40s).empty());
    EXPECT_TRUE(tick(next, t0 + 59s).empty());
    EXPECT_EQ(tick(next, t0 + 60s), (std::vector<Message>{{"v", "5", 0, false, "beat"}}));
    // A heartbeat that was not due yet (nothing seen since the publish) stays off.
    MappingRule quiet = named("quiet", "{attribute}");
    quiet.heartbeat = 60s;
    Mapper quiet_mapper("gw", {quiet});
    ASSERT_EQ(map(quiet_mapper, reading(5), t0).size(), 1u);
    Mapper quiet_next = reloaded(quiet_mapper, "gw", {quiet});
    EXPECT_EQ(quiet_next.next_due(), SteadyClock::time_point::max());
}

TEST(MapperReload, BoundsAndDropCountCarryOver) {
    MappingRule rule = named("all", "{attribute}");
    rule.on_change = true;
    Mapper mapper("gw", {rule});
    std::vector<Attribute> attributes;
    for (int i = 0; i < 1030; ++i) attributes.push_back({"a" + std::to_string(i), 1.0, ""});
    ASSERT_EQ(map(mapper, make_sample("s", "n", attributes), t0).size(), 1024u);
    ASSERT_EQ(mapper.dropped_attributes(), 6u);
    Mapper next = reloaded(mapper, "gw", {rule});
    EXPECT_EQ(next.dropped_attributes(), 6u);
    // The node is still full: the same sample publishes nothing new and drops the rest again.
    EXPECT_TRUE(map(next, make_sample("s", "n", attributes), t0 + 1s).empty());
    EXPECT_EQ(next.dropped_attributes(), 12u);
}

TEST(MapperReload, AdoptingFromAnEmptyOrItselfChangesNothing) {
    MappingRule rule = named("r", "{attribute}");
    rule.on_change = true;
    Mapper mapper("gw", {rule});
    ASSERT_EQ(map(mapper, reading(5), t0).size(), 1u);
    Mapper moved_from = reloaded(mapper, "gw", {rule});  // leaves `mapper` empty
    Mapper fresh("gw", {rule});
    fresh.adopt_state(std::move(mapper));
    EXPECT_EQ(map(fresh, reading(5), t0).size(), 1u);
    moved_from.adopt_state(std::move(moved_from));
    EXPECT_TRUE(map(moved_from, reading(5), t0).empty());
}

// A unit that changes is shown from the next reading on, for the node that changed only,
// and a reload that keeps the rule keeps both nodes' names and units.
TEST(MapperLabels, AUnitChangeIsPerNodeAndSurvivesAReload) {
    MappingRule rule = named("beat", "{node}/{attribute}[{unit}]");
    rule.on_change = true;
    rule.heartbeat = 60s;
    Mapper mapper("gw", {rule});
    const auto temperature = [](std::string node, double value, std::string unit) {
        return make_sample("s", std::move(node), {{"temperature", value, std::move(unit)}});
    };
    ASSERT_EQ(topics(map(mapper, temperature("a", 20, "°C"), t0)), Strings{"a/temperature[°C]"});
    ASSERT_EQ(topics(map(mapper, temperature("b", 21, "°C"), t0)), Strings{"b/temperature[°C]"});
    EXPECT_EQ(topics(map(mapper, temperature("a", 68, "°F"), t0 + 1s)),
              Strings{"a/temperature[°F]"});
    ASSERT_TRUE(map(mapper, temperature("b", 21, "°C"), t0 + 1s).empty());
    ASSERT_TRUE(map(mapper, temperature("a", 68, "°F"), t0 + 2s).empty());

    Mapper next = reloaded(mapper, "gw", {rule});
    EXPECT_EQ(topics(tick(next, t0 + 60s)), (Strings{"b/temperature[°C]"}));
    EXPECT_EQ(topics(tick(next, t0 + 61s)), (Strings{"a/temperature[°F]"}));
}

}  // namespace
}  // namespace nodebridge
