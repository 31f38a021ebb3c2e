// CommandRouter: the command topics a config gives and the checks before any write.

#include <gtest/gtest.h>

#include "nodebridge/command.hpp"

namespace nodebridge {
namespace {

ModbusAttribute attribute(std::string name, ModbusTable table, ModbusType type) {
    ModbusAttribute a;
    a.name = std::move(name);
    a.table = table;
    a.type = type;
    return a;
}

ModbusAttribute setpoint() {
    ModbusAttribute a = attribute("setpoint", ModbusTable::holding, ModbusType::uint16);
    a.address = 10;
    a.writable = true;
    a.min = 0;
    a.max = 100;
    a.unit = "C";
    return a;
}

ModbusAttribute relay() {
    ModbusAttribute a = attribute("relay", ModbusTable::coil, ModbusType::boolean);
    a.writable = true;
    return a;
}

ModbusAttribute voltage() {
    ModbusAttribute a = attribute("voltage", ModbusTable::input, ModbusType::uint16);
    a.address = 1;
    return a;
}

SourceConfig modbus_source(std::string name, std::vector<ModbusNode> nodes) {
    ModbusSourceConfig modbus;
    modbus.link = ModbusTcpEndpoint{"127.0.0.1", 502};
    modbus.nodes = std::move(nodes);
    return SourceConfig{.name = std::move(name), .type = "modbus-tcp", .settings = modbus};
}

ModbusNode node(std::string id, std::vector<ModbusAttribute> attributes) {
    ModbusNode n;
    n.id = std::move(id);
    n.attributes = std::move(attributes);
    return n;
}

MappingRule rule(std::string name, std::string topic, std::string command_topic) {
    MappingRule r;
    r.name = std::move(name);
    r.topic = std::move(topic);
    r.command_topic = std::move(command_topic);
    return r;
}

// gw-1: bus (pdu-1: setpoint, relay, voltage; pdu-2: setpoint) and a serial-nodes source.
Config plant() {
    Config config;
    config.gateway = "gw-1";
    config.sources.push_back(modbus_source(
        "bus", {node("pdu-1", {setpoint(), relay(), voltage()}), node("pdu-2", {setpoint()})}));
    config.sources.push_back(SourceConfig{
        .name = "radio", .type = "serial-nodes", .settings = SerialNodesSourceConfig{}});
    config.mappings.push_back(rule("state", "{gateway}/{node}/{attribute}", "{topic}/set"));
    return config;
}

const CommandRejection& rejection(const std::variant<WriteCommand, CommandRejection>& result) {
    static const CommandRejection none{"<accepted>", "<accepted>"};
    if (const auto* r = std::get_if<CommandRejection>(&result)) return *r;
    ADD_FAILURE() << "the command was accepted";
    return none;
}

std::string reason(const CommandRouter& router, std::string_view topic, std::string_view payload) {
    return rejection(router.route(topic, payload, false)).reason;
}

WriteCommand accepted(const CommandRouter& router, std::string_view topic,
                      std::string_view payload) {
    auto result = router.route(topic, payload, false);
    if (const auto* r = std::get_if<CommandRejection>(&result)) {
        ADD_FAILURE() << "refused: " << r->reason;
        return {};
    }
    return std::get<WriteCommand>(result);
}

TEST(CommandRouter, ExpandsEveryAttributeOfEveryMatchingModbusNode) {
    const CommandRouter router(plant());
    EXPECT_EQ(router.topics(),
              (std::vector<std::string>{"gw-1/pdu-1/setpoint/set", "gw-1/pdu-1/relay/set",
                                        "gw-1/pdu-1/voltage/set", "gw-1/pdu-2/setpoint/set"}));
    const CommandTarget& first = router.targets().front();
    EXPECT_EQ(first.reply_topic, "gw-1/pdu-1/setpoint/set/result");
    EXPECT_EQ(first.rule, "state");
    EXPECT_EQ(first.source, "bus");
    EXPECT_EQ(first.node, "pdu-1");
    EXPECT_EQ(first.attribute, setpoint());
}

TEST(CommandRouter, RulesWithoutCommandTopicGiveNoTargets) {
    Config config = plant();
    config.mappings[0].command_topic.clear();
    EXPECT_TRUE(CommandRouter(config).targets().empty());
}

TEST(CommandRouter, FollowsTheRulesMatchAndAttributeGlobs) {
    Config config = plant();
    config.mappings[0].match_node = "pdu-[2-9]";
    EXPECT_EQ(CommandRouter(config).topics(),
              (std::vector<std::string>{"gw-1/pdu-2/setpoint/set"}));
    config = plant();
    config.mappings[0].attributes = {"re*", "voltage"};
    EXPECT_EQ(CommandRouter(config).topics(),
              (std::vector<std::string>{"gw-1/pdu-1/relay/set", "gw-1/pdu-1/voltage/set"}));
    config = plant();
    config.mappings[0].match_source = "radio";
    EXPECT_TRUE(CommandRouter(config).targets().empty());
}

TEST(CommandRouter, PerNodeRuleTopicsTakeTheAttributeFromTheCommandTopic) {
    Config config = plant();
    config.mappings[0] = rule("nodes", "site/{source}/{node}", "{topic}/{attribute}/{unit}/set");
    const CommandRouter router(config);
    ASSERT_EQ(router.targets().size(), 4u);
    EXPECT_EQ(router.targets()[0].topic, "site/bus/pdu-1/setpoint/C/set");
    EXPECT_EQ(router.targets()[1].topic, "site/bus/pdu-1/relay//set");
}

TEST(CommandRouter, SharedTopicsKeepTheFirstTarget) {
    Config config = plant();
    config.mappings.push_back(rule("again", "x/{node}/{attribute}", "gw-1/{node}/{attribute}/set"));
    std::vector<CommandTarget> shadowed;
    const auto targets = command_targets(config, &shadowed);
    EXPECT_EQ(targets.size(), 4u);
    ASSERT_EQ(shadowed.size(), 4u);
    EXPECT_EQ(shadowed[0].rule, "again");
    EXPECT_EQ(CommandRouter(config).targets(), targets);
}

TEST(CommandRouter, TopicsTheBridgePublishesAreNeverCommandTopics) {
    Config config = plant();
    config.mqtt.health.topic = "gw-1/pdu-2/setpoint/set";
    // Rule "data" publishes where rule "state" would take commands for relay and its
    // availability topic is the result topic of voltage's.
    MappingRule data = rule("data", "gw-1/{node}/relay/set", "");
    data.availability_topic = "gw-1/{node}/voltage/set/result";
    config.mappings.push_back(data);
    std::vector<CommandTarget> shadowed;
    const auto targets = command_targets(config, &shadowed);
    ASSERT_EQ(targets.size(), 1u);
    EXPECT_EQ(targets[0].topic, "gw-1/pdu-1/setpoint/set");
    ASSERT_EQ(shadowed.size(), 3u);
    EXPECT_EQ(shadowed[0].topic, "gw-1/pdu-1/relay/set");
    EXPECT_EQ(shadowed[1].topic, "gw-1/pdu-1/voltage/set");
    EXPECT_EQ(shadowed[2].topic, "gw-1/pdu-2/setpoint/set");
    EXPECT_EQ(rejection(CommandRouter(config).route("gw-1/pdu-1/relay/set", "true", false)),
              (CommandRejection{"", "not a command topic"}));
}

TEST(CommandRouter, AConfigTooLargeToCheckGetsNoTargets) {
    // 300 attributes with 60 kB topics: more published topic bytes than the bound.
    Config config = plant();
    std::vector<ModbusAttribute> many;
    for (int i = 0; i < 300; ++i) {
        ModbusAttribute a = setpoint();
        a.name = "sp" + std::to_string(i);
        many.push_back(a);
    }
    std::get<ModbusSourceConfig>(config.sources[0].settings).nodes[0].attributes = many;
    config.mappings[0].topic = std::string(60000, 'x') + "/{node}/{attribute}";
    EXPECT_TRUE(command_targets(config).empty());
    config.mappings[0].match_node = "pdu-2";  // one attribute: well within the bound
    EXPECT_EQ(command_targets(config).size(), 1u);
}

TEST(CommandRouter, SubstitutedNamesCannotAddLevelsButTopicKeepsItsOwn) {
    Config config = plant();
    std::get<ModbusSourceConfig>(config.sources[0].settings).nodes[0].id = "a/+#";
    EXPECT_EQ(CommandRouter(config).topics().front(), "gw-1/a___/setpoint/set");
}

TEST(CommandRouter, AcceptsAValidNumberAndBoolean) {
    const CommandRouter router(plant());
    EXPECT_EQ(accepted(router, "gw-1/pdu-1/setpoint/set", "42"),
              (WriteCommand{.source = "bus",
                            .node = "pdu-1",
                            .attribute = "setpoint",
                            .value = 42.0,
                            .reply_topic = "gw-1/pdu-1/setpoint/set/result",
                            .rule = "state"}));
    EXPECT_EQ(accepted(router, "gw-1/pdu-1/relay/set", R"({"value": true})").value, Value{true});
    EXPECT_EQ(accepted(router, "gw-1/pdu-1/setpoint/set", "0").value, Value{0.0});
    EXPECT_EQ(accepted(router, "gw-1/pdu-1/setpoint/set", "100").value, Value{100.0});
}

TEST(CommandRouter, UnknownTopicHasNoReplyTopic) {
    const CommandRouter router(plant());
    EXPECT_EQ(rejection(router.route("gw-1/pdu-1/setpoint", "1", false)),
              (CommandRejection{"", "not a command topic"}));
    EXPECT_EQ(rejection(router.route("gw-1/pdu-1/setpoint/set/result", "ok", false)).reply_topic,
              "");
}

TEST(CommandRouter, RetainedCommandsAreIgnored) {
    const CommandRouter router(plant());
    EXPECT_EQ(
        rejection(router.route("gw-1/pdu-1/setpoint/set", "42", true)),
        (CommandRejection{"gw-1/pdu-1/setpoint/set/result", "retained commands are ignored"}));
}

TEST(CommandRouter, NonWritableAttributesAreRefused) {
    const CommandRouter router(plant());
    EXPECT_EQ(rejection(router.route("gw-1/pdu-1/voltage/set", "1", false)),
              (CommandRejection{"gw-1/pdu-1/voltage/set/result",
                                "attribute voltage of node pdu-1 is not writable"}));
}

TEST(CommandRouter, MalformedPayloadsAreRefusedWithTheParsersReason) {
    const CommandRouter router(plant());
    EXPECT_EQ(reason(router, "gw-1/pdu-1/setpoint/set", "abc"), "expected a number, true or false");
    EXPECT_EQ(reason(router, "gw-1/pdu-1/setpoint/set", ""), "the payload is empty");
    EXPECT_EQ(reason(router, "gw-1/pdu-1/setpoint/set", "1e999"), "the number is out of range");
}

TEST(CommandRouter, WrongTypesAreRefused) {
    const CommandRouter router(plant());
    EXPECT_EQ(reason(router, "gw-1/pdu-1/setpoint/set", "true"),
              "attribute setpoint of node pdu-1 takes a number, not true");
    EXPECT_EQ(reason(router, "gw-1/pdu-1/relay/set", "1"),
              "attribute relay of node pdu-1 takes true or false, not a number");
    EXPECT_EQ(reason(router, "gw-1/pdu-1/relay/set", "0"),
              "attribute relay of node pdu-1 takes true or false, not a number");
}

TEST(CommandRouter, OutOfRangeValuesAreRefused) {
    const CommandRouter router(plant());
    EXPECT_EQ(reason(router, "gw-1/pdu-1/setpoint/set", "150"), "value 150 is above max 100");
    EXPECT_EQ(reason(router, "gw-1/pdu-1/setpoint/set", "-0.5"), "value -0.5 is below min 0");
    EXPECT_EQ(reason(router, "gw-1/pdu-1/setpoint/set", "100.0001"),
              "value 100.0001 is above max 100");
}

TEST(CommandRouter, ValuesOutsideAllowedAreRefused) {
    Config config = plant();
    std::get<ModbusSourceConfig>(config.sources[0].settings).nodes[0].attributes[0].allowed = {
        0, 50, 100};
    const CommandRouter router(config);
    EXPECT_EQ(accepted(router, "gw-1/pdu-1/setpoint/set", "50").value, Value{50.0});
    EXPECT_EQ(reason(router, "gw-1/pdu-1/setpoint/set", "51"),
              "value 51 is not one of the allowed values 0, 50, 100");
}

TEST(CommandRouter, IntegerRegistersTakeOnlyWholeSteps) {
    Config config = plant();
    auto& attributes = std::get<ModbusSourceConfig>(config.sources[0].settings).nodes[0].attributes;
    const CommandRouter plain(config);
    EXPECT_EQ(reason(plain, "gw-1/pdu-1/setpoint/set", "1.5"), "value 1.5 is not a whole number");
    attributes[0].scale = 0.1;
    const CommandRouter scaled(config);
    EXPECT_EQ(accepted(scaled, "gw-1/pdu-1/setpoint/set", "23.4").value, Value{23.4});
    EXPECT_EQ(reason(scaled, "gw-1/pdu-1/setpoint/set", "23.45"),
              "value 23.45 is not a whole number of steps of 0.1 from 0");
    attributes[0].type = ModbusType::float32;
    const CommandRouter floating(config);
    EXPECT_EQ(accepted(floating, "gw-1/pdu-1/setpoint/set", "23.45").value, Value{23.45});
}

TEST(CommandRouter, WritableNumbersWithoutLimitsAreRefused) {
    // A loaded config always has both; the router does not rely on it.
    Config config = plant();
    std::get<ModbusSourceConfig>(config.sources[0].settings).nodes[0].attributes[0].max.reset();
    EXPECT_EQ(reason(CommandRouter(config), "gw-1/pdu-1/setpoint/set", "1"),
              "attribute setpoint of node pdu-1 has no min and max");
}

}  // namespace
}  // namespace nodebridge
