// plan_discovery(): the configs Home Assistant gets for every kind of attribute, both modes,
// the three payload shapes, write-back entities, the gateway device and removals.

#include <gtest/gtest.h>

#include "nodebridge/homeassistant.hpp"
#include "support/json.hpp"
#include "support/support.hpp"

namespace nodebridge::homeassistant {
namespace {

using test::Json;
using test::parse_json;

ModbusAttribute attribute(std::string name, ModbusType type, std::string unit = {}) {
    ModbusAttribute a;
    a.name = std::move(name);
    a.type = type;
    a.unit = std::move(unit);
    return a;
}

// A gateway with one Modbus node "pdu-1" (voltage V, energy kWh, breaker bool, label text,
// setpoint writable int16 x0.1, relay writable bool) and one serial-nodes source.
Config base_config() {
    Config config;
    config.gateway = "gw-1";
    config.mqtt.health.topic = "nodebridge/gw-1/status";
    config.stats.topic = "nodebridge/gw-1/stats";
    config.homeassistant = HomeAssistantConfig{};
    config.homeassistant->status_topic = "homeassistant/status";

    ModbusNode node;
    node.id = "pdu-1";
    std::vector<ModbusAttribute> attributes = {
        attribute("voltage", ModbusType::float32, "V"),
        attribute("energy", ModbusType::uint32, "kWh"),
        attribute("breaker", ModbusType::boolean),
        attribute("label", ModbusType::string),
    };
    ModbusAttribute setpoint = attribute("setpoint", ModbusType::int16, "\u00b0C");
    setpoint.scale = 0.1;
    setpoint.writable = true;
    setpoint.min = -50;
    setpoint.max = 50;
    ModbusAttribute relay = attribute("relay", ModbusType::boolean);
    relay.table = ModbusTable::coil;
    relay.writable = true;
    attributes.push_back(setpoint);
    attributes.push_back(relay);
    node.attributes = ModbusAttributeTable(std::move(attributes));
    ModbusSourceConfig modbus;
    modbus.nodes.push_back(node);
    config.sources.push_back({"pdu-bus", "modbus-tcp", modbus, {}});

    SerialNodesSourceConfig serial;
    ReceivedAttribute temp;
    temp.key = "t";
    temp.name = "temp";
    temp.unit = "\u00b0C";
    serial.attributes.push_back(temp);
    config.sources.push_back({"radio", "serial-nodes", serial, {}});

    MappingRule rule;
    rule.name = "all";
    rule.topic = "dc1/{node}/{attribute}";
    rule.payload = PayloadForm::value;
    rule.availability_topic = "dc1/{node}/availability";
    rule.command_topic = "{topic}/set";
    config.mappings.push_back(rule);
    return config;
}

Json parsed(const Message& message) {
    std::string error;
    auto json = parse_json(message.payload, &error);
    EXPECT_TRUE(json.has_value()) << message.topic << ": " << error << "\n" << message.payload;
    return json.value_or(Json{});
}

const Message* on_topic(const std::vector<Message>& messages, std::string_view topic) {
    for (const Message& message : messages) {
        if (message.topic == topic) return &message;
    }
    return nullptr;
}

const Json& component(const Json& device, std::string_view key) {
    static const Json kNone;
    const Json* cmps = device.find("cmps");
    const Json* found = cmps ? cmps->find(key) : nullptr;
    EXPECT_NE(found, nullptr) << "no component " << key;
    return found ? *found : kNone;
}

constexpr std::string_view kNodeTopic = "homeassistant/device/nodebridge_gw-1_pdu-bus_pdu-1/config";

TEST(Discovery, NothingWithoutTheSection) {
    Config config = base_config();
    config.homeassistant.reset();
    EXPECT_TRUE(plan_discovery(config).messages().empty());
}

TEST(Discovery, DeviceModeAnnouncesOneRetainedQos1MessagePerDevice) {
    const auto messages = plan_discovery(base_config()).messages();
    ASSERT_EQ(messages.size(), 2u);  // the gateway, the Modbus node (no serial node heard yet)
    EXPECT_EQ(messages[0].topic, "homeassistant/device/nodebridge_gw-1/config");
    EXPECT_EQ(messages[1].topic, kNodeTopic);
    for (const Message& message : messages) {
        EXPECT_TRUE(message.retain);
        EXPECT_EQ(message.qos, 1);
        const Json json = parsed(message);
        EXPECT_TRUE(json.has("dev"));
        EXPECT_EQ(json.find("o")->text("name"), "nodebridge");
        ASSERT_TRUE(json.has("cmps"));
        for (const auto& [key, entity] : json.find("cmps")->object()) {
            EXPECT_FALSE(entity.text("p").empty()) << key;
            EXPECT_FALSE(entity.text("unique_id").empty()) << key;
            EXPECT_FALSE(entity.text("state_topic").empty()) << key;
        }
    }
}

TEST(Discovery, TheNodeIsADeviceViaTheGateway) {
    Config config = base_config();
    auto model = std::make_shared<DeviceModel>();
    model->manufacturer = "Eastron";
    model->model = "SDM630";
    std::get<ModbusSourceConfig>(config.sources[0].settings).nodes[0].model = ModelRef(model);
    const Json json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    const Json& dev = *json.find("dev");
    ASSERT_TRUE(dev.find("ids")->is_array());
    EXPECT_EQ(dev.find("ids")->array().at(0).string(), "nodebridge_gw-1_pdu-bus_pdu-1");
    EXPECT_EQ(dev.text("name"), "pdu-1");
    EXPECT_EQ(dev.text("mf"), "Eastron");
    EXPECT_EQ(dev.text("mdl"), "SDM630");
    EXPECT_EQ(dev.text("via_device"), "nodebridge_gw-1");
}

TEST(Discovery, AvailabilityNeedsTheGatewayAndTheNode) {
    const Json json = parsed(*on_topic(plan_discovery(base_config()).messages(), kNodeTopic));
    EXPECT_EQ(json.text("availability_mode"), "all");
    const auto& list = json.find("availability")->array();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].text("topic"), "nodebridge/gw-1/status");
    EXPECT_EQ(list[0].text("payload_available"), "online");
    EXPECT_EQ(list[0].text("payload_not_available"), "offline");
    EXPECT_EQ(list[1].text("topic"), "dc1/pdu-1/availability");
}

TEST(Discovery, WithoutAnAvailabilityTopicOnlyTheGatewayCounts) {
    Config config = base_config();
    config.mqtt.health.online = "up";
    config.mappings[0].availability_topic.clear();
    const Json json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    ASSERT_EQ(json.find("availability")->array().size(), 1u);
    EXPECT_EQ(json.find("availability")->array()[0].text("payload_available"), "up");
}

TEST(Discovery, NumbersAreSensorsWithUnitAndClasses) {
    const Json json = parsed(*on_topic(plan_discovery(base_config()).messages(), kNodeTopic));
    const Json& voltage = component(json, "voltage");
    EXPECT_EQ(voltage.text("p"), "sensor");
    EXPECT_EQ(voltage.text("name"), "voltage");
    EXPECT_EQ(voltage.text("unique_id"), "nodebridge_gw-1_pdu-bus_pdu-1_voltage");
    EXPECT_EQ(voltage.text("state_topic"), "dc1/pdu-1/voltage");
    EXPECT_FALSE(voltage.has("value_template"));  // a bare value needs none
    EXPECT_EQ(voltage.text("unit_of_measurement"), "V");
    EXPECT_EQ(voltage.text("device_class"), "voltage");
    EXPECT_EQ(voltage.text("state_class"), "measurement");

    const Json& energy = component(json, "energy");
    EXPECT_EQ(energy.text("device_class"), "energy");
    EXPECT_EQ(energy.text("state_class"), "total_increasing");
}

TEST(Discovery, QuantityAndCounterDecideBeforeTheUnit) {
    Config config = base_config();
    auto& attributes = std::get<ModbusSourceConfig>(config.sources[0].settings).nodes[0].attributes;
    attributes[0].meaning.quantity = "voltage";
    attributes[0].unit = "";  // the class takes V only: left out, not contradicted
    attributes[1].unit = "pulses";
    attributes[1].meaning.counter = true;
    const Json json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    EXPECT_FALSE(component(json, "voltage").has("device_class"));
    EXPECT_EQ(component(json, "energy").text("state_class"), "total_increasing");
    EXPECT_FALSE(component(json, "energy").has("device_class"));
}

// `counter: net`: a total that also falls is `total` (Home Assistant sums rises and falls),
// whether or not Home Assistant has a class for it.
TEST(Discovery, NetCountersAreTotalNotTotalIncreasing) {
    Config config = base_config();
    auto& attributes = std::get<ModbusSourceConfig>(config.sources[0].settings).nodes[0].attributes;
    attributes[1].type = ModbusType::int64;
    attributes[1].meaning.quantity = "energy";
    attributes[1].meaning.net = true;  // energy_net of an ABB A43/A44
    attributes[0].unit = "kVAh";
    attributes[0].meaning.quantity = "apparent_energy";
    attributes[0].meaning.net = true;  // apparent_energy_net: no Home Assistant class
    const Json json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    EXPECT_EQ(component(json, "energy").text("device_class"), "energy");
    EXPECT_EQ(component(json, "energy").text("state_class"), "total");
    EXPECT_FALSE(component(json, "voltage").has("device_class"));
    EXPECT_EQ(component(json, "voltage").text("state_class"), "total");
}

// The shipped ABB A43/A44 model: its signed net totals are `counter: net`, so Home
// Assistant keeps a sum of them instead of taking each fall for a meter reset.
TEST(Discovery, TheLibrarysNetTotalsAreAnnouncedAsTotal) {
    test::TempDir dir;
    const std::string path = dir.write("nodebridge.yaml", R"(gateway: gw
homeassistant: true
sources:
  - name: bus
    type: modbus-rtu
    device: /dev/ttyUSB0
    nodes:
      - { id: meter, unit: 1, model: abb-a43-a44 }
mappings:
  - name: all
    topic: plant/{node}/{attribute}
    payload: value
)");
    const LoadResult loaded =
        load_config(path, LoadOptions{{std::string(NODEBRIDGE_SOURCE_DIR) + "/models"}});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front().to_string();
    const Json json = parsed(*on_topic(plan_discovery(*loaded.config).messages(),
                                       "homeassistant/device/nodebridge_gw_bus_meter/config"));
    EXPECT_EQ(component(json, "energy_net").text("state_class"), "total");
    EXPECT_EQ(component(json, "reactive_energy_net").text("state_class"), "total");
    EXPECT_EQ(component(json, "apparent_energy_net").text("state_class"), "total");
    EXPECT_EQ(component(json, "energy_import").text("state_class"), "total_increasing");
}

// A coded attribute (`states:`) is an enum sensor: its names are the options; the rule
// publishes names, and anything else (an unknown code, published as the number) reads as
// "None", Home Assistant's unknown state, instead of an option it would ignore.
TEST(Discovery, CodedAttributesAreEnumSensors) {
    Config config = base_config();
    auto& attributes = std::get<ModbusSourceConfig>(config.sources[0].settings).nodes[0].attributes;
    ModbusAttribute source = attribute("source", ModbusType::uint16);
    source.meaning.states = {{0, "normal"}, {1, "battery"}, {5, "manual bypass"}};
    attributes.push_back(source);
    Json json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    const Json& entity = component(json, "source");
    EXPECT_EQ(entity.text("p"), "sensor");
    EXPECT_EQ(entity.text("device_class"), "enum");
    const Json* options = entity.find("options");
    ASSERT_NE(options, nullptr);
    ASSERT_EQ(options->array().size(), 3u);
    EXPECT_EQ(options->array()[0].string(), "normal");
    EXPECT_EQ(options->array()[2].string(), "manual bypass");
    EXPECT_EQ(entity.text("value_template"),
              "{% set v = value %}{{ v if v in ['normal','battery','manual bypass'] else "
              "'None' }}");
    EXPECT_FALSE(entity.has("unit_of_measurement"));
    EXPECT_FALSE(entity.has("state_class"));
    EXPECT_FALSE(entity.has("command_topic"));

    config.mappings[0].topic = "dc1/{node}";  // per-node JSON
    json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    EXPECT_EQ(component(json, "source").text("value_template"),
              "{% if 'source' in value_json %}{% set v = value_json['source'] %}{{ v if v in "
              "['normal','battery','manual bypass'] else 'None' }}{% endif %}");
}

// A serial-nodes node takes the schema its source's `models:` gives it: a coded attribute
// there is an enum sensor too.
TEST(Discovery, AHeardNodeTakesTheSchemaOfItsModelsEntry) {
    Config config = base_config();
    auto& serial = std::get<SerialNodesSourceConfig>(config.sources[1].settings);
    ReceivedAttribute mode;
    mode.key = "mode";
    mode.name = "mode";
    mode.meaning.states = {{0, "off"}, {1, "on"}};
    NodeSchema schema;
    schema.nodes = "env-*";
    schema.attributes = {mode};
    serial.node_models.push_back(schema);
    const auto messages =
        plan_discovery(config, {HeardNode{"radio", "env-1", {{"mode", HeardKind::number, ""}}},
                                HeardNode{"radio", "hall", {{"mode", HeardKind::number, ""}}}})
            .messages();
    const Json env =
        parsed(*on_topic(messages, "homeassistant/device/nodebridge_gw-1_radio_env-1/config"));
    EXPECT_EQ(component(env, "mode").text("device_class"), "enum");
    const Json hall =
        parsed(*on_topic(messages, "homeassistant/device/nodebridge_gw-1_radio_hall/config"));
    EXPECT_FALSE(component(hall, "mode").has("device_class"));
    EXPECT_EQ(component(hall, "mode").text("state_class"), "measurement");
}

// The shipped Tripp Lite MODBUSCARD model codes output_source as its manual does.
TEST(Discovery, TheUpsCardsOutputSourceIsAnEnum) {
    test::TempDir dir;
    const std::string path = dir.write("nodebridge.yaml", R"(gateway: gw
homeassistant: true
sources:
  - name: bus
    type: modbus-rtu
    device: /dev/ttyUSB0
    nodes:
      - { id: ups, unit: 1, model: tripp-lite-modbuscard }
mappings:
  - name: all
    topic: plant/{node}/{attribute}
    payload: value
)");
    const LoadResult loaded =
        load_config(path, LoadOptions{{std::string(NODEBRIDGE_SOURCE_DIR) + "/models"}});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front().to_string();
    const Json json = parsed(*on_topic(plan_discovery(*loaded.config).messages(),
                                       "homeassistant/device/nodebridge_gw_bus_ups/config"));
    const Json& entity = component(json, "output_source");
    EXPECT_EQ(entity.text("device_class"), "enum");
    const Json* options = entity.find("options");
    ASSERT_NE(options, nullptr);
    std::vector<std::string> names;
    for (const Json& option : options->array()) names.push_back(option.string());
    EXPECT_EQ(names, (std::vector<std::string>{"normal", "battery", "bypass", "reducing",
                                               "boosting", "manual_bypass", "other", "none"}));
}

// Home Assistant refuses entity_category config on a sensor or binary_sensor: a read-only
// entity goes out without it, a writable one (number, switch) keeps it.
TEST(Discovery, ConfigCategoryOnlyOnEntitiesThatWrite) {
    Config config = base_config();
    auto& attributes = std::get<ModbusSourceConfig>(config.sources[0].settings).nodes[0].attributes;
    HomeAssistantHints hints;
    hints.entity_category = "config";
    attributes[0].meaning.homeassistant = hints;  // voltage: sensor
    attributes[4].meaning.homeassistant = hints;  // setpoint: number
    const Json json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    EXPECT_EQ(component(json, "voltage").text("p"), "sensor");
    EXPECT_FALSE(component(json, "voltage").has("entity_category"));
    EXPECT_EQ(component(json, "setpoint").text("p"), "number");
    EXPECT_EQ(component(json, "setpoint").text("entity_category"), "config");
}

TEST(Discovery, HintsOverrideWhatIsDerived) {
    Config config = base_config();
    auto& attributes = std::get<ModbusSourceConfig>(config.sources[0].settings).nodes[0].attributes;
    HomeAssistantHints hints;
    hints.name = "Mains voltage";
    hints.state_class = "total";
    hints.icon = "mdi:flash";
    hints.entity_category = "diagnostic";
    hints.enabled = false;
    attributes[0].meaning.homeassistant = hints;
    HomeAssistantHints door;
    door.device_class = "door";
    attributes[2].meaning.homeassistant = door;
    const Json json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    const Json& voltage = component(json, "voltage");
    EXPECT_EQ(voltage.text("name"), "Mains voltage");
    EXPECT_EQ(voltage.text("state_class"), "total");
    EXPECT_EQ(voltage.text("device_class"), "voltage");
    EXPECT_EQ(voltage.text("icon"), "mdi:flash");
    EXPECT_EQ(voltage.text("entity_category"), "diagnostic");
    ASSERT_TRUE(voltage.has("enabled_by_default"));
    EXPECT_FALSE(std::get<bool>(voltage.find("enabled_by_default")->value));
    EXPECT_EQ(component(json, "breaker").text("device_class"), "door");
}

TEST(Discovery, BoolsAreBinarySensorsAndTextIsAPlainSensor) {
    const Json json = parsed(*on_topic(plan_discovery(base_config()).messages(), kNodeTopic));
    const Json& breaker = component(json, "breaker");
    EXPECT_EQ(breaker.text("p"), "binary_sensor");
    EXPECT_EQ(breaker.text("payload_on"), "true");
    EXPECT_EQ(breaker.text("payload_off"), "false");
    EXPECT_FALSE(breaker.has("command_topic"));  // not writable

    const Json& label = component(json, "label");
    EXPECT_EQ(label.text("p"), "sensor");
    EXPECT_FALSE(label.has("device_class"));
    EXPECT_FALSE(label.has("state_class"));
    EXPECT_FALSE(label.has("unit_of_measurement"));
}

TEST(Discovery, WritableNumbersAreNumbersWithTheirGuards) {
    const Json json = parsed(*on_topic(plan_discovery(base_config()).messages(), kNodeTopic));
    const Json& setpoint = component(json, "setpoint");
    EXPECT_EQ(setpoint.text("p"), "number");
    EXPECT_EQ(setpoint.text("command_topic"), "dc1/pdu-1/setpoint/set");
    EXPECT_EQ(setpoint.text("state_topic"), "dc1/pdu-1/setpoint");
    EXPECT_EQ(setpoint.find("min")->number(), -50);
    EXPECT_EQ(setpoint.find("max")->number(), 50);
    EXPECT_DOUBLE_EQ(setpoint.find("step")->number(), 0.1);
    EXPECT_EQ(setpoint.text("unit_of_measurement"), "\u00b0C");
    EXPECT_EQ(setpoint.text("device_class"), "temperature");
    EXPECT_FALSE(setpoint.has("state_class"));
}

TEST(Discovery, WritableBoolsAreSwitches) {
    const Json json = parsed(*on_topic(plan_discovery(base_config()).messages(), kNodeTopic));
    const Json& relay = component(json, "relay");
    EXPECT_EQ(relay.text("p"), "switch");
    EXPECT_EQ(relay.text("command_topic"), "dc1/pdu-1/relay/set");
    EXPECT_EQ(relay.text("payload_on"), "true");  // what nb_command accepts
    EXPECT_EQ(relay.text("payload_off"), "false");
}

TEST(Discovery, WithoutACommandTopicWritableAttributesAreReadOnly) {
    Config config = base_config();
    config.mappings[0].command_topic.clear();
    const Json json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    EXPECT_EQ(component(json, "setpoint").text("p"), "sensor");
    EXPECT_EQ(component(json, "relay").text("p"), "binary_sensor");
}

TEST(Discovery, PerAttributeJsonReadsValue) {
    Config config = base_config();
    config.mappings[0].payload = PayloadForm::json;
    const Json json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    EXPECT_EQ(component(json, "voltage").text("value_template"), "{{ value_json.value }}");
    EXPECT_EQ(component(json, "breaker").text("value_template"),
              "{{ 'true' if value_json.value else 'false' }}");
}

// A per-node message holds the attributes of its poll only (issue #23: attributes read at
// intervals of their own), so a template renders nothing without its key, which Home
// Assistant ignores, rather than false or unknown.
TEST(Discovery, PerNodeJsonReadsTheAttributesKeyWhenTheMessageHasIt) {
    Config config = base_config();
    config.mappings[0].topic = "dc1/{node}";
    config.mappings[0].payload = PayloadForm::json;
    config.mappings[0].command_topic = "dc1/{node}/{attribute}/set";
    const Json json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    const Json& voltage = component(json, "voltage");
    EXPECT_EQ(voltage.text("state_topic"), "dc1/pdu-1");
    EXPECT_EQ(voltage.text("value_template"),
              "{% if 'voltage' in value_json %}{{ value_json['voltage'] }}{% endif %}");
    EXPECT_EQ(component(json, "relay").text("value_template"),
              "{% if 'relay' in value_json %}{{ 'true' if value_json['relay'] else 'false' }}"
              "{% endif %}");
    EXPECT_EQ(component(json, "setpoint").text("command_topic"), "dc1/pdu-1/setpoint/set");
}

TEST(Discovery, AttributeNamesAreQuotedForJinjaAndMadeSafeForIds) {
    Config config = base_config();
    config.mappings[0].topic = "dc1/{node}";
    config.mappings[0].payload = PayloadForm::json;
    auto& attributes = std::get<ModbusSourceConfig>(config.sources[0].settings).nodes[0].attributes;
    attributes[0].name = "it's v";
    const Json json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    const std::string key = safe_id("it's v");
    EXPECT_EQ(key.substr(0, 7), "it_s_v_");
    EXPECT_EQ(component(json, key).text("value_template"),
              "{% if 'it\\'s v' in value_json %}{{ value_json['it\\'s v'] }}{% endif %}");
}

TEST(Discovery, RulesWithDiscoveryOffAndUnselectedAttributesAreLeftOut) {
    Config config = base_config();
    config.mappings[0].attributes = {"voltage", "energy"};
    MappingRule quiet = config.mappings[0];
    quiet.name = "quiet";
    quiet.topic = "quiet/{node}/{attribute}";
    quiet.attributes = {"label"};
    quiet.homeassistant = false;
    config.mappings.push_back(quiet);
    const Json json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    EXPECT_EQ(json.find("cmps")->object().size(), 2u);

    config.mappings[0].homeassistant = false;
    EXPECT_EQ(on_topic(plan_discovery(config).messages(), kNodeTopic), nullptr);
}

TEST(Discovery, TheFirstRuleDecidesAnAttributesTopic) {
    Config config = base_config();
    MappingRule second = config.mappings[0];
    second.name = "second";
    second.topic = "other/{node}/{attribute}";
    config.mappings.push_back(second);
    const Json json = parsed(*on_topic(plan_discovery(config).messages(), kNodeTopic));
    EXPECT_EQ(component(json, "voltage").text("state_topic"), "dc1/pdu-1/voltage");
}

TEST(Discovery, HeardSerialNodesAreAnnounced) {
    Config config = base_config();
    HeardNode heard{"radio",
                    "0A1B",
                    {{"temp", HeardKind::number, "\u00b0C"},
                     {"door", HeardKind::boolean, ""},
                     {"fw", HeardKind::text, ""}}};
    HeardNode stranger{"gone-source", "x", {{"a", HeardKind::number, ""}}};
    const auto messages = plan_discovery(config, {heard, stranger}).messages();
    ASSERT_EQ(messages.size(), 3u);
    const Message* message =
        on_topic(messages, "homeassistant/device/nodebridge_gw-1_radio_0A1B/config");
    ASSERT_NE(message, nullptr);
    const Json json = parsed(*message);
    EXPECT_EQ(component(json, "temp").text("device_class"), "temperature");
    EXPECT_EQ(component(json, "door").text("p"), "binary_sensor");
    EXPECT_EQ(component(json, "fw").text("p"), "sensor");
    EXPECT_EQ(json.find("dev")->text("name"), "0A1B");
}

TEST(Discovery, TheGatewayHasItsDiagnostics) {
    const Json json = parsed(plan_discovery(base_config()).messages().at(0));
    const Json& dev = *json.find("dev");
    EXPECT_EQ(dev.text("name"), "nodebridge gw-1");
    EXPECT_FALSE(dev.has("via_device"));
    const Json& status = component(json, "status");
    EXPECT_EQ(status.text("p"), "binary_sensor");
    EXPECT_EQ(status.text("state_topic"), "nodebridge/gw-1/status");
    EXPECT_EQ(status.text("payload_on"), "online");
    EXPECT_FALSE(status.has("availability"));  // shows the daemon gone instead
    for (const char* key : {"broker_connected", "messages_per_s", "messages_dropped", "spool_bytes",
                            "nodes_online_pdu-bus", "nodes_online_radio"}) {
        const Json& entity = component(json, key);
        EXPECT_EQ(entity.text("state_topic"), "nodebridge/gw-1/stats") << key;
        EXPECT_EQ(entity.text("entity_category"), "diagnostic") << key;
        EXPECT_TRUE(entity.has("availability")) << key;
    }
    EXPECT_EQ(component(json, "nodes_online_radio").text("value_template"),
              "{{ value_json.sources['radio'].nodes_online }}");
    EXPECT_EQ(component(json, "spool_bytes").text("value_template"),
              "{{ value_json.spool.bytes }}");

    Config quiet = base_config();
    quiet.stats.enabled = false;
    const Json alone = parsed(plan_discovery(quiet).messages().at(0));
    EXPECT_EQ(alone.find("cmps")->object().size(), 1u);  // the status only
}

TEST(Discovery, EntityModePublishesOneConfigPerEntity) {
    Config config = base_config();
    config.homeassistant->mode = DiscoveryMode::entity;
    config.homeassistant->discovery_prefix = "ha";
    const auto messages = plan_discovery(config).messages();
    const Message* voltage =
        on_topic(messages, "ha/sensor/nodebridge_gw-1_pdu-bus_pdu-1/voltage/config");
    ASSERT_NE(voltage, nullptr);
    EXPECT_TRUE(voltage->retain);
    EXPECT_EQ(voltage->qos, 1);
    const Json json = parsed(*voltage);
    EXPECT_FALSE(json.has("p"));
    EXPECT_EQ(json.text("state_topic"), "dc1/pdu-1/voltage");
    EXPECT_EQ(json.find("dev")->text("via_device"), "nodebridge_gw-1");
    EXPECT_EQ(json.find("o")->text("name"), "nodebridge");
    EXPECT_EQ(json.text("availability_mode"), "all");
    EXPECT_NE(on_topic(messages, "ha/number/nodebridge_gw-1_pdu-bus_pdu-1/setpoint/config"),
              nullptr);
    EXPECT_NE(on_topic(messages, "ha/switch/nodebridge_gw-1_pdu-bus_pdu-1/relay/config"), nullptr);
    EXPECT_NE(on_topic(messages, "ha/binary_sensor/nodebridge_gw-1/status/config"), nullptr);
    // Gateway entities keep their own availability (health only), the status none.
    const Json status =
        parsed(*on_topic(messages, "ha/binary_sensor/nodebridge_gw-1/status/config"));
    EXPECT_FALSE(status.has("availability"));
    for (const Message& message : messages) parsed(message);
}

TEST(Discovery, IdsAreStableAndSafe) {
    EXPECT_EQ(safe_id("pdu-1_a"), "pdu-1_a");
    EXPECT_NE(safe_id("a.b"), safe_id("a_b"));
    EXPECT_EQ(safe_id("a.b"), safe_id("a.b"));
    EXPECT_EQ(plan_discovery(base_config()).messages(), plan_discovery(base_config()).messages());
}

TEST(Discovery, ANodeGoneAfterAReloadIsRemoved) {
    Config before = base_config();
    Config after = base_config();
    std::get<ModbusSourceConfig>(after.sources[0].settings).nodes.clear();
    const auto removals = plan_discovery(after).removals_since(plan_discovery(before));
    ASSERT_EQ(removals.size(), 1u);
    EXPECT_EQ(removals[0].topic, kNodeTopic);
    EXPECT_EQ(removals[0].payload, "");
    EXPECT_TRUE(removals[0].retain);
}

TEST(Discovery, AnEntityGoneFromAKeptDeviceIsRemovedByItsPlatformAlone) {
    Config before = base_config();
    Config after = base_config();
    after.mappings[0].attributes = {"voltage"};
    const auto removals = plan_discovery(after).removals_since(plan_discovery(before));
    ASSERT_EQ(removals.size(), 1u);
    EXPECT_EQ(removals[0].topic, kNodeTopic);
    const Json json = parsed(removals[0]);
    EXPECT_EQ(component(json, "voltage").text("p"), "sensor");
    EXPECT_TRUE(component(json, "voltage").has("unique_id"));
    const Json& energy = component(json, "energy");
    EXPECT_EQ(energy.text("p"), "sensor");
    EXPECT_EQ(energy.object().size(), 1u);  // {"p": "sensor"} alone
    EXPECT_EQ(component(json, "relay").object().size(), 1u);
}

TEST(Discovery, EntityModeRemovesEachGoneEntity) {
    Config before = base_config();
    before.homeassistant->mode = DiscoveryMode::entity;
    Config after = before;
    after.mappings[0].command_topic.clear();  // setpoint: number -> sensor
    const auto removals = plan_discovery(after).removals_since(plan_discovery(before));
    std::vector<std::string> topics;
    for (const Message& removal : removals) {
        EXPECT_EQ(removal.payload, "");
        topics.push_back(removal.topic);
    }
    EXPECT_EQ(topics, (std::vector<std::string>{
                          "homeassistant/number/nodebridge_gw-1_pdu-bus_pdu-1/setpoint/config",
                          "homeassistant/switch/nodebridge_gw-1_pdu-bus_pdu-1/relay/config"}));
}

TEST(Discovery, ChangingTheModeRemovesEverythingOnTheOldTopics) {
    Config before = base_config();
    Config after = base_config();
    after.homeassistant->mode = DiscoveryMode::entity;
    const auto removals = plan_discovery(after).removals_since(plan_discovery(before));
    ASSERT_EQ(removals.size(), 2u);
    for (const Message& removal : removals) EXPECT_EQ(removal.payload, "");

    Config off = base_config();
    off.homeassistant.reset();
    EXPECT_EQ(plan_discovery(off).removals_since(plan_discovery(before)).size(), 2u);
}

// ---- configs left on the broker by an earlier configuration ---------------------------

TEST(OwnConfigs, ClaimsEverythingThisGatewayAnnouncesInEitherLayout) {
    const OwnConfigs own(plan_discovery(base_config()));
    EXPECT_EQ(own.filters(), (std::vector<std::string>{"homeassistant/device/+/config",
                                                       "homeassistant/+/+/+/config"}));
    Config entity = base_config();
    entity.homeassistant->mode = DiscoveryMode::entity;
    std::vector<Message> announced = plan_discovery(base_config()).messages();
    for (Message& message : plan_discovery(entity).messages()) announced.push_back(message);
    ASSERT_GT(announced.size(), 5u);
    for (const Message& message : announced) {
        EXPECT_TRUE(own.claims(message.topic, message.payload)) << message.topic;
    }
}

TEST(OwnConfigs, NeverClaimsAnotherGatewaysOrAnUnheardNodesConfig) {
    const OwnConfigs own(plan_discovery(base_config()));  // gateway "gw-1"
    // Gateway "gw-1_b": every device id of it starts with "nodebridge_gw-1_".
    Config other = base_config();
    other.gateway = "gw-1_b";
    const auto others = plan_discovery(other).messages();
    ASSERT_EQ(others.size(), 2u);
    ASSERT_TRUE(others[1].topic.starts_with("homeassistant/device/nodebridge_gw-1_"));
    for (const Message& message : others) {
        EXPECT_FALSE(own.claims(message.topic, message.payload)) << message.topic;
    }
    // A serial-nodes node of a source still configured: not heard since the start, so not in
    // the plan, yet it may come back any moment.
    HeardNode heard{"radio", "0A1B", {{"temp", HeardKind::number, "\u00b0C"}}};
    const auto with_node = plan_discovery(base_config(), {heard}).messages();
    const Message* node =
        on_topic(with_node, "homeassistant/device/nodebridge_gw-1_radio_0A1B/config");
    ASSERT_NE(node, nullptr);
    EXPECT_FALSE(own.claims(node->topic, node->payload));
    // Not config topics of the plan's prefix and layouts.
    const std::string payload = R"({"dev":{"via_device":"nodebridge_gw-1"}})";
    for (const std::string topic : {
             "homeassistant/device/nodebridge_gw-1_x_y/state",
             "other/device/nodebridge_gw-1_x_y/config",
             "homeassistant/device/nodebridge_gw-1_x_y/extra/config",
             "homeassistant/sensor/nodebridge_gw-1_x_y/config",
             "homeassistant/sensor/nodebridge_gw-1_x_y/k/extra/config",
             "homeassistant/device/nodebridge_gw-1x/config",
             "homeassistant/device/nodebridge_gw-1_/config/config",
         }) {
        EXPECT_FALSE(own.claims(topic, payload)) << topic;
    }
    EXPECT_TRUE(own.claims("homeassistant/device/nodebridge_gw-1_x_y/config", payload));
    // What the filters bring is covered (kept from the command handler), claimed or not.
    EXPECT_TRUE(own.covers("homeassistant/device/somebody/config"));
    EXPECT_TRUE(own.covers("homeassistant/light/somebody/lamp/config"));
    EXPECT_TRUE(own.covers("homeassistant/device/nodebridge_gw-1_x_y/extra/config"));
    EXPECT_FALSE(own.covers("homeassistant/status"));
    EXPECT_FALSE(own.covers("homeassistant/sensor/nodebridge_gw-1_x_y/config"));
    EXPECT_FALSE(own.covers("dc1/pdu-1/relay/set"));
    EXPECT_FALSE(own.claims("homeassistant/device/nodebridge_gw-1_x_y/config", "{}"));
    // Discovery off: nothing to subscribe to, nothing claimed.
    Config off = base_config();
    off.homeassistant.reset();
    const OwnConfigs none(plan_discovery(off));
    EXPECT_TRUE(none.filters().empty());
    EXPECT_FALSE(none.claims("homeassistant/device/nodebridge_gw-1/config", payload));
    EXPECT_FALSE(OwnConfigs().claims("homeassistant/device/nodebridge_gw-1/config", payload));
}

}  // namespace
}  // namespace nodebridge::homeassistant
