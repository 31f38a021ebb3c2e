// Coded attributes (`states:`): StateNames from a config, and what the Mapper publishes for
// a known code, an unknown one, and after a reload.

#include <gtest/gtest.h>

#include "nodebridge/mapping.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;

const SteadyClock::time_point t0{1h};
const WallClock::time_point kWall{std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}};

// A UPS on a Modbus bus whose `output_source` is coded, and a serial-nodes receiver whose
// schema codes `mode` for every node and, through `models:`, `state` for nodes "env-*".
Config coded_config() {
    Config config;
    config.gateway = "gw";
    ModbusAttribute source;
    source.name = "output_source";
    source.meaning.states = {{0, "normal"}, {1, "battery"}, {2, "bypass"}};
    ModbusAttribute voltage;
    voltage.name = "output_voltage";
    ModbusNode ups;
    ups.id = "ups-1";
    ups.attributes = ModbusAttributeTable({source, voltage});
    ModbusSourceConfig modbus;
    modbus.nodes.push_back(ups);
    config.sources.push_back({"ups-bus", "modbus-rtu", modbus, {}});

    SerialNodesSourceConfig serial;
    ReceivedAttribute mode;
    mode.key = "m";
    mode.name = "mode";
    mode.meaning.states = {{-1, "off"}, {1, "on"}};
    serial.attributes.push_back(mode);
    ReceivedAttribute state;
    state.key = "state";
    state.name = "state";
    state.meaning.states = {{0, "idle"}};
    NodeSchema env;
    env.nodes = "env-*";
    env.attributes = {state};
    serial.node_models.push_back(env);
    config.sources.push_back({"radio", "serial-nodes", serial, {}});
    return config;
}

MappingRule rule(std::string topic, PayloadForm payload) {
    MappingRule r;
    r.name = "r";
    r.topic = std::move(topic);
    r.payload = payload;
    return r;
}

Sample ups(Value code) {
    return Sample{
        "ups-bus", "ups-1", kWall, {{"output_source", code, ""}, {"output_voltage", 230.5, "V"}}};
}

std::vector<Message> map(Mapper& mapper, const Sample& sample) {
    std::vector<Message> out;
    mapper.map(sample, t0, out);
    return out;
}

TEST(StateNames, FindsTheCodedAttributesOfAConfig) {
    const StateNames names(coded_config());
    ASSERT_NE(names.find("ups-bus", "ups-1", "output_source"), nullptr);
    EXPECT_EQ(names.find("ups-bus", "ups-1", "output_voltage"), nullptr);
    EXPECT_EQ(names.find("ups-bus", "ups-2", "output_source"), nullptr);
    EXPECT_NE(names.find("radio", "any", "mode"), nullptr);
    EXPECT_EQ(names.find("radio", "any", "state"), nullptr);
    EXPECT_NE(names.find("radio", "env-3", "state"), nullptr);  // its models: entry
    EXPECT_EQ(names.find("radio", "env-3", "mode"), nullptr);   // which replaces the schema
    EXPECT_TRUE(StateNames(Config{}).empty());
}

TEST(StateNames, NameOfTakesWholeNumbersOnly) {
    const StateNames::Table table = {{0, "normal"}, {-1, "off"}};
    ASSERT_NE(StateNames::name_of(table, Value(std::int64_t{0})), nullptr);
    EXPECT_EQ(*StateNames::name_of(table, Value(std::int64_t{0})), "normal");
    EXPECT_EQ(*StateNames::name_of(table, Value(-1.0)), "off");
    EXPECT_EQ(StateNames::name_of(table, Value(0.5)), nullptr);
    EXPECT_EQ(StateNames::name_of(table, Value(std::int64_t{7})), nullptr);
    EXPECT_EQ(StateNames::name_of(table, Value(true)), nullptr);
    EXPECT_EQ(StateNames::name_of(table, Value(std::string("0"))), nullptr);
}

TEST(MapperStates, AKnownCodeIsPublishedAsItsName) {
    Mapper mapper(
        "gw",
        {rule("p/{node}/{attribute}", PayloadForm::value),
         rule("j/{node}/{attribute}", PayloadForm::json), rule("n/{node}", PayloadForm::json)},
        StateNames(coded_config()));
    const auto out = map(mapper, ups(std::int64_t{1}));
    ASSERT_EQ(out.size(), 5u);
    EXPECT_EQ(out[0].topic, "p/ups-1/output_source");
    EXPECT_EQ(out[0].payload, "battery");
    EXPECT_EQ(out[1].payload, "230.5");
    EXPECT_EQ(out[2].payload, R"({"value":"battery","ts":"2026-11-24T00:00:00.000Z"})");
    EXPECT_EQ(out[4].payload,
              R"({"node":"ups-1","ts":"2026-11-24T00:00:00.000Z","output_source":"battery",)"
              R"("output_voltage":230.5})");
    EXPECT_EQ(mapper.unknown_states(), 0u);
}

// The coded attribute after an uncoded one, and a reading that brings it only the second
// time: each value is still named by its own attribute's codes.
TEST(MapperStates, ACodedAttributeAfterOthersIsNamedByItsOwnCodes) {
    Mapper mapper("gw", {rule("p/{node}/{attribute}", PayloadForm::value)},
                  StateNames(coded_config()));
    const Sample voltage_only{"ups-bus", "ups-1", kWall, {{"output_voltage", 2.0, "V"}}};
    auto out = map(mapper, voltage_only);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].payload, "2");  // 2 is "bypass" for output_source, not for the voltage
    const Sample both{"ups-bus",
                      "ups-1",
                      kWall,
                      {{"output_voltage", 2.0, "V"}, {"output_source", std::int64_t{2}, ""}}};
    out = map(mapper, both);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].topic, "p/ups-1/output_voltage");
    EXPECT_EQ(out[0].payload, "2");
    EXPECT_EQ(out[1].topic, "p/ups-1/output_source");
    EXPECT_EQ(out[1].payload, "bypass");
}

TEST(MapperStates, AnUnknownCodeIsPublishedAsItIsAndCountedOnce) {
    Mapper mapper(
        "gw",
        {rule("p/{node}/{attribute}", PayloadForm::value), rule("n/{node}", PayloadForm::json)},
        StateNames(coded_config()));
    const auto out = map(mapper, ups(std::int64_t{9}));
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].payload, "9");
    EXPECT_NE(out[2].payload.find(R"("output_source":9,)"), std::string::npos) << out[2].payload;
    EXPECT_EQ(mapper.unknown_states(), 1u);  // one reading, however many rules
    map(mapper, ups(std::int64_t{2}));
    EXPECT_EQ(mapper.unknown_states(), 1u);
}

TEST(MapperStates, ReceivedCodesFollowTheNodesSchema) {
    Mapper mapper("gw", {rule("p/{node}/{attribute}", PayloadForm::value)},
                  StateNames(coded_config()));
    auto out =
        map(mapper, Sample{"radio", "hall", kWall, {{"mode", -1.0, ""}, {"state", 0.0, ""}}});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].payload, "off");
    EXPECT_EQ(out[1].payload, "0");  // `state` is coded for env-* only
    out = map(mapper, Sample{"radio", "env-1", kWall, {{"state", 0.0, ""}}});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].payload, "idle");
}

TEST(MapperStates, AReloadTakesTheNewNamesAndKeepsTheCount) {
    Mapper first("gw", {rule("p/{node}/{attribute}", PayloadForm::value)},
                 StateNames(coded_config()));
    map(first, ups(std::int64_t{5}));
    Config renamed = coded_config();
    auto& node = std::get<ModbusSourceConfig>(renamed.sources[0].settings).nodes[0];
    node.attributes[0].meaning.states = {{5, "eco"}};
    Mapper second("gw", {rule("p/{node}/{attribute}", PayloadForm::value)}, StateNames(renamed));
    second.adopt_state(std::move(first));
    EXPECT_EQ(second.unknown_states(), 1u);
    const auto out = map(second, ups(std::int64_t{5}));
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out[0].payload, "eco");
}

}  // namespace
}  // namespace nodebridge
