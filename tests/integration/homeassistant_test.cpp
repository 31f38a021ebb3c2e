// Home Assistant discovery end to end: mosquitto, nodebridge-sim (Modbus TCP and wireless
// nodes on a pty) and nodebridged with `homeassistant:` on. A subscriber on the discovery
// prefix checks what Home Assistant would get, and that it works: state topics carry values
// the templates extract, command topics write, availability follows the node and the daemon,
// and Home Assistant's "online" brings every config again.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "support/json.hpp"
#include "support/support.hpp"

namespace nodebridge::test {
namespace {

constexpr const char* kConfig = R"(gateway: gw-ha
mqtt:
  host: 127.0.0.1
  port: @MQTT@
  keepalive: 5s
  protocol: "5"
  buffer: { dir: "" }
stats:
  interval: 1s
homeassistant:
  mode: @MODE@
sources:
  - name: pdu-bus
    type: modbus-tcp
    host: 127.0.0.1
    port: @MODBUS@
    timeout: 300ms
    offline_after: 2s
    nodes:
      - id: pdu-1
        unit: 1
        poll: 200ms
        attributes:
          voltage:  { table: input, address: 0, type: float32, round: 1, unit: V }
          energy:   { table: holding, address: 100, type: uint32, scale: 0.001, unit: kWh }
          breaker:  { table: coil, address: 0, type: bool, writable: true }
          setpoint: { table: holding, address: 20, type: int16, scale: 0.1, round: 1,
                      writable: true, min: -50, max: 50 }
  - name: radio
    type: serial-nodes
    device: @LINK@
    baud: 115200
    format: kv
    attributes:
      temperature: { unit: "°C" }
mappings:
  - name: control
    match: { source: pdu-bus }
    attributes: [voltage, breaker, setpoint]
    topic: dc1/{node}/{attribute}
    payload: value
    qos: 1
    availability_topic: dc1/{node}/available
    command_topic: "{topic}/set"
  - name: meter
    match: { source: pdu-bus }
    attributes: [energy]
    topic: dc1/{node}/meter
    payload: json
  - name: wireless
    match: { source: radio }
    topic: wl/{node}/{attribute}
    payload: json
    availability_topic: wl/{node}/available
  - name: wireless-all
    match: { source: radio }
    topic: wl/{node}
    homeassistant: false
)";

// The options Home Assistant requires of each platform (sensor.mqtt, binary_sensor.mqtt,
// number.mqtt, switch.mqtt: state_topic or command_topic), and of every discovered entity.
const std::map<std::string, std::vector<std::string>> kRequired = {
    {"sensor", {"unique_id", "state_topic"}},
    {"binary_sensor", {"unique_id", "state_topic"}},
    {"number", {"unique_id", "state_topic", "command_topic"}},
    {"switch", {"unique_id", "state_topic", "command_topic"}},
};

// Evaluates the value templates discovery writes: none (the payload itself),
// "{{ PATH }}" and "{{ 'true' if PATH else 'false' }}" / "{{ 'ON' if PATH else 'OFF' }}",
// PATH being value_json followed by .name or ['name'] steps, each possibly inside
// "{% if 'KEY' in value_json %}...{% endif %}" (per-node JSON: "" without KEY). nullopt when
// the payload is not JSON or the path finds nothing.
std::optional<std::string> render(const std::string& value_template, const std::string& payload) {
    if (value_template.empty()) return payload;
    std::string body = value_template;
    static const std::string kIf = "{% if '";
    static const std::string kIn = "' in value_json %}";
    static const std::string kEndIf = "{% endif %}";
    if (body.starts_with(kIf) && body.ends_with(kEndIf)) {
        const auto in_at = body.find(kIn);
        if (in_at == std::string::npos) return std::nullopt;
        const std::string key = body.substr(kIf.size(), in_at - kIf.size());
        const auto json = parse_json(payload);
        if (!json) return std::nullopt;
        if (json->find(key) == nullptr) return std::string();
        body = body.substr(in_at + kIn.size(), body.size() - in_at - kIn.size() - kEndIf.size());
    }
    if (!body.starts_with("{{ ") || !body.ends_with(" }}")) return std::nullopt;
    body = body.substr(3, body.size() - 6);
    std::optional<std::pair<std::string, std::string>> choice;
    if (body.starts_with("'")) {  // 'A' if PATH else 'B'
        const auto a_end = body.find('\'', 1);
        const auto if_at = body.find(" if ");
        const auto else_at = body.find(" else ");
        if (a_end == std::string::npos || if_at == std::string::npos ||
            else_at == std::string::npos)
            return std::nullopt;
        choice = {body.substr(1, a_end - 1), body.substr(else_at + 7, body.size() - else_at - 8)};
        body = body.substr(if_at + 4, else_at - if_at - 4);
    }
    auto json = parse_json(payload);
    if (!json || !body.starts_with("value_json")) return std::nullopt;
    const Json* at = &*json;
    std::size_t i = std::string("value_json").size();
    while (i < body.size()) {
        std::string key;
        if (body[i] == '.') {
            const auto end = body.find_first_of(".[", i + 1);
            key = body.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
            i = end == std::string::npos ? body.size() : end;
        } else if (body.compare(i, 2, "['") == 0) {
            const auto end = body.find("']", i + 2);
            if (end == std::string::npos) return std::nullopt;
            key = body.substr(i + 2, end - i - 2);
            i = end + 2;
        } else {
            return std::nullopt;
        }
        at = at->find(key);
        if (at == nullptr) return std::nullopt;
    }
    if (choice) {
        const bool truthy =
            at->is_bool() ? std::get<bool>(at->value) : at->is_number() && at->number() != 0;
        return truthy ? choice->first : choice->second;
    }
    if (at->is_string()) return at->string();
    if (at->is_bool()) return std::get<bool>(at->value) ? "True" : "False";
    if (at->is_number()) {
        std::string text = std::to_string(at->number());
        return text;
    }
    return std::nullopt;
}

struct Entity {
    std::string config_topic;
    std::string key;
    std::string platform;
    Json options;
    Json availability;  // the list, from the entity or its device
};

class HomeAssistant : public ::testing::Test {
  protected:
    void SetUp() override {
        broker_.start();
        modbus_port_ = free_port();
        modbus_ =
            std::make_unique<Process>(std::vector<std::string>{SIM_PATH, "modbus-tcp", "--port",
                                                               std::to_string(modbus_port_)},
                                      dir_.file("modbus-sim.log"));
        ASSERT_TRUE(modbus_->wait_for_output("ready", 10s)) << modbus_->output();
        radio_ = std::make_unique<Process>(
            std::vector<std::string>{SIM_PATH, "serial-nodes", "--link", dir_.file("ttyRX"),
                                     "--nodes", "2", "--format", "kv", "--interval", "100ms",
                                     "--garbage", "0", "--dropouts", "no", "--seed", "5"},
            dir_.file("radio-sim.log"));
        ASSERT_TRUE(radio_->wait_for_output("ready serial-nodes", 10s)) << radio_->output();
        subscriber_ = std::make_unique<Subscriber>(
            broker_.port(),
            std::vector<std::string>{"homeassistant/#", "dc1/#", "wl/#", "nodebridge/#"});
    }

    void TearDown() override {
        if (daemon_ && daemon_->running()) {
            daemon_->signal(SIGTERM);
            daemon_->wait_for_exit(10s);
        }
    }

    std::string config_text(const std::string& mode) const {
        std::string text = replace_all(kConfig, "@MQTT@", std::to_string(broker_.port()));
        text = replace_all(text, "@MODBUS@", std::to_string(modbus_port_));
        text = replace_all(text, "@LINK@", dir_.file("ttyRX"));
        return replace_all(text, "@MODE@", mode);
    }

    void start_daemon(const std::string& mode = "device") {
        config_path_ = dir_.write("nodebridge.yaml", config_text(mode));
        daemon_ = std::make_unique<Process>(
            std::vector<std::string>{NODEBRIDGED_PATH, "-c", config_path_, "--log-level", "debug"},
            dir_.file("daemon.log"));
    }

    std::string log() const { return daemon_ ? daemon_->output() : std::string(); }

    // The latest non-empty config on each discovery topic.
    std::map<std::string, std::string> configs() const {
        std::map<std::string, std::string> out;
        for (const Received& m : subscriber_->messages()) {
            if (!m.topic.starts_with("homeassistant/") || !m.topic.ends_with("/config")) continue;
            if (m.payload.empty()) {
                out.erase(m.topic);
            } else {
                out[m.topic] = m.payload;
            }
        }
        return out;
    }

    // Waits for the gateway, pdu-1 and the two radio nodes to be announced (device mode).
    bool wait_for_devices(Millis timeout) {
        return subscriber_->wait_for(
            [](const std::vector<Received>& all) {
                std::set<std::string> topics;
                for (const Received& m : all) {
                    if (m.topic.starts_with("homeassistant/device/") && !m.payload.empty())
                        topics.insert(m.topic);
                }
                int radio = 0;  // a power meter and an environment monitor
                for (const std::string& topic : topics) {
                    radio += topic.starts_with("homeassistant/device/nodebridge_gw-ha_radio_");
                }
                return radio == 2 && topics.count("homeassistant/device/nodebridge_gw-ha/config") &&
                       topics.count("homeassistant/device/nodebridge_gw-ha_pdu-bus_pdu-1/config");
            },
            timeout);
    }

    // Every entity of every config, checked for valid JSON and the keys Home Assistant needs.
    std::vector<Entity> entities(bool device_mode) {
        std::vector<Entity> out;
        for (const auto& [topic, payload] : configs()) {
            std::string error;
            auto json = parse_json(payload, &error);
            EXPECT_TRUE(json.has_value()) << topic << ": " << error << "\n" << payload;
            if (!json) continue;
            EXPECT_TRUE(json->find("dev") && json->find("dev")->has("ids")) << topic;
            EXPECT_FALSE(json->find("o") == nullptr || json->find("o")->text("name").empty())
                << topic << ": origin needs a name";
            const Json none;
            const Json* shared = json->find("availability");
            if (device_mode) {
                const Json* cmps = json->find("cmps");
                EXPECT_TRUE(cmps && cmps->is_object()) << topic;
                if (!cmps) continue;
                for (const auto& [key, options] : cmps->object()) {
                    const Json* own = options.find("availability");
                    out.push_back({topic, key, options.text("p"), options,
                                   own      ? *own
                                   : shared ? *shared
                                            : none});
                }
            } else {
                const std::string platform = topic.substr(14, topic.find('/', 14) - 14);
                out.push_back({topic, "", platform, *json, shared ? *shared : none});
            }
        }
        for (const Entity& entity : out) {
            const auto required = kRequired.find(entity.platform);
            EXPECT_NE(required, kRequired.end())
                << entity.config_topic << " " << entity.key << ": platform " << entity.platform;
            if (required == kRequired.end()) continue;
            for (const std::string& key : required->second) {
                EXPECT_FALSE(entity.options.text(key).empty())
                    << entity.config_topic << " " << entity.key << " lacks " << key;
            }
        }
        return out;
    }

    const Entity* find(const std::vector<Entity>& all, std::string_view unique_suffix) const {
        for (const Entity& entity : all) {
            if (entity.options.text("unique_id").ends_with(unique_suffix)) return &entity;
        }
        return nullptr;
    }

    void publish(const std::string& topic, const std::string& payload, bool retain = false) {
        const std::string log = dir_.file("pub-" + std::to_string(++published_) + ".log");
        ASSERT_EQ(publish_with_mosquitto_pub(broker_.port(), topic, payload, retain, log), "");
    }

    TempDir dir_;
    Broker broker_{Broker::Options{.persistence = false}};
    int modbus_port_ = 0;
    int published_ = 0;
    std::string config_path_;
    std::unique_ptr<Process> modbus_;
    std::unique_ptr<Process> radio_;
    std::unique_ptr<Subscriber> subscriber_;
    std::unique_ptr<Process> daemon_;
};

TEST_F(HomeAssistant, AnnouncesEveryNodeWithEntitiesThatWork) {
    start_daemon();
    ASSERT_TRUE(wait_for_devices(20s)) << log();
    // Every config is retained QoS 1.
    for (const Received& m : subscriber_->messages()) {
        if (!m.topic.starts_with("homeassistant/")) continue;
        EXPECT_TRUE(m.retain) << m.topic;
        EXPECT_EQ(m.qos, 1) << m.topic;
    }
    const std::vector<Entity> all = entities(true);
    ASSERT_GE(all.size(), 10u);

    // Every state topic is one nodebridged publishes, and the template finds the value.
    for (const Entity& entity : all) {
        const std::string state_topic = entity.options.text("state_topic");
        const auto state = subscriber_->wait_for_message(state_topic, 10s);
        ASSERT_TRUE(state.has_value()) << entity.key << ": nothing on " << state_topic;
        const auto value = render(entity.options.text("value_template"), state->payload);
        ASSERT_TRUE(value.has_value())
            << entity.key << ": " << entity.options.text("value_template") << " on "
            << state->payload;
        if (entity.platform == "binary_sensor" || entity.platform == "switch") {
            const std::string on = entity.options.has("payload_on")
                                       ? entity.options.text("payload_on")
                                       : std::string("ON");
            const std::string off = entity.options.has("payload_off")
                                        ? entity.options.text("payload_off")
                                        : std::string("OFF");
            EXPECT_TRUE(*value == on || *value == off) << entity.key << ": " << *value;
        } else if (entity.options.has("device_class") || entity.options.has("state_class")) {
            char* end = nullptr;
            std::strtod(value->c_str(), &end);
            EXPECT_TRUE(!value->empty() && *end == '\0') << entity.key << ": " << *value;
        }
        // Availability: the daemon's health topic and, for nodes, the node's topic.
        if (entity.key != "status") {
            ASSERT_TRUE(entity.availability.is_array()) << entity.key;
            EXPECT_EQ(entity.availability.array().at(0).text("topic"), "nodebridge/gw-ha/status");
        }
    }

    // What each kind became.
    const Entity* voltage = find(all, "pdu-1_voltage");
    ASSERT_NE(voltage, nullptr);
    EXPECT_EQ(voltage->platform, "sensor");
    EXPECT_EQ(voltage->options.text("device_class"), "voltage");
    const Entity* energy = find(all, "pdu-1_energy");
    ASSERT_NE(energy, nullptr);
    EXPECT_EQ(energy->options.text("state_class"), "total_increasing");
    EXPECT_EQ(energy->options.text("value_template"),  // per node
              "{% if 'energy' in value_json %}{{ value_json['energy'] }}{% endif %}");
    const Entity* setpoint = find(all, "pdu-1_setpoint");
    ASSERT_NE(setpoint, nullptr);
    EXPECT_EQ(setpoint->platform, "number");
    const Entity* breaker = find(all, "pdu-1_breaker");
    ASSERT_NE(breaker, nullptr);
    EXPECT_EQ(breaker->platform, "switch");
    const Entity* temperature = find(all, "_temperature");
    ASSERT_NE(temperature, nullptr);
    EXPECT_TRUE(
        temperature->config_topic.starts_with("homeassistant/device/nodebridge_gw-ha_radio_"));
    EXPECT_EQ(temperature->options.text("device_class"), "temperature");
    EXPECT_EQ(temperature->options.text("value_template"), "{{ value_json.value }}");
    EXPECT_EQ(temperature->availability.array().size(), 2u);

    // A command on a discovered command topic is written, and read back.
    publish(setpoint->options.text("command_topic"), "21.5");
    EXPECT_TRUE(subscriber_->wait_for_message(setpoint->options.text("command_topic") + "/result",
                                              10s, "ok"))
        << log();
    EXPECT_TRUE(subscriber_->wait_for_message(setpoint->options.text("state_topic"), 10s, "21.5"))
        << log();
    publish(breaker->options.text("command_topic"), breaker->options.text("payload_off"));
    EXPECT_TRUE(subscriber_->wait_for_message(breaker->options.text("state_topic"), 10s, "false"))
        << log();
    // A value the write-back guards refuse is refused through discovery's topic as well.
    subscriber_->clear();
    publish(setpoint->options.text("command_topic"), "99");
    const auto refused =
        subscriber_->wait_for_message(setpoint->options.text("command_topic") + "/result", 10s);
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->payload, "error: value 99 is above max 50");
}

TEST_F(HomeAssistant, AvailabilityFollowsTheNodeAndTheDaemon) {
    start_daemon();
    ASSERT_TRUE(wait_for_devices(20s)) << log();
    const std::vector<Entity> all = entities(true);
    const Entity* voltage = find(all, "pdu-1_voltage");
    ASSERT_NE(voltage, nullptr);
    ASSERT_EQ(voltage->availability.array().size(), 2u);
    const std::string node_topic = voltage->availability.array()[1].text("topic");
    EXPECT_EQ(node_topic, "dc1/pdu-1/available");
    ASSERT_TRUE(subscriber_->wait_for_message(node_topic, 10s, "online"));

    // The node goes silent: its availability topic says so.
    modbus_->signal(SIGKILL);
    modbus_->wait_for_exit(5s);
    EXPECT_TRUE(subscriber_->wait_for_message(node_topic, 10s, "offline")) << log();

    // The daemon dies: the broker sends its Will on the health topic.
    const std::string health = voltage->availability.array()[0].text("topic");
    subscriber_->clear();
    daemon_->signal(SIGKILL);
    daemon_->wait_for_exit(5s);
    EXPECT_TRUE(subscriber_->wait_for_message(
        health, 20s, voltage->availability.array()[0].text("payload_not_available")));
}

TEST_F(HomeAssistant, HomeAssistantComingOnlineGetsEverythingAgain) {
    start_daemon();
    ASSERT_TRUE(wait_for_devices(20s)) << log();
    const auto before = configs();
    subscriber_->clear();
    publish("homeassistant/status", "online");
    ASSERT_TRUE(subscriber_->wait_for(
        [&](const std::vector<Received>& all) {
            std::set<std::string> again;
            for (const Received& m : all) {
                if (before.count(m.topic) && m.payload == before.at(m.topic)) again.insert(m.topic);
            }
            return again.size() == before.size();
        },
        15s))
        << log();
    EXPECT_TRUE(daemon_->wait_for_output("Home Assistant is online", 5s));
}

TEST_F(HomeAssistant, AReloadRemovesWhatIsGoneAndEntityModeWorks) {
    start_daemon();
    ASSERT_TRUE(wait_for_devices(20s)) << log();
    const std::string pdu = "homeassistant/device/nodebridge_gw-ha_pdu-bus_pdu-1/config";

    // The meter rule stops taking part: its energy entity is removed from the device.
    std::string text = config_text("device");
    text =
        replace_all(text, "    topic: dc1/{node}/meter\n    payload: json\n",
                    "    topic: dc1/{node}/meter\n    payload: json\n    homeassistant: false\n");
    dir_.write("nodebridge.yaml", text);
    subscriber_->clear();
    daemon_->signal(SIGHUP);
    ASSERT_TRUE(subscriber_->wait_for(
        [&](const std::vector<Received>& all) {
            int on_pdu = 0;
            for (const Received& m : all) on_pdu += m.topic == pdu;
            return on_pdu >= 2;
        },
        15s))
        << log();
    const auto messages = subscriber_->on_topic(pdu);
    auto stub = parse_json(messages.at(0).payload);
    ASSERT_TRUE(stub.has_value());
    const Json* energy = stub->find("cmps")->find("energy");
    ASSERT_NE(energy, nullptr);
    EXPECT_EQ(energy->object().size(), 1u);  // {"p":"sensor"}: remove this one
    auto after = parse_json(messages.at(1).payload);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->find("cmps")->find("energy"), nullptr);
    EXPECT_NE(after->find("cmps")->find("voltage"), nullptr);

    // Entity mode: every device config is removed, each entity gets its own.
    dir_.write("nodebridge.yaml", config_text("entity"));
    subscriber_->clear();
    daemon_->signal(SIGHUP);
    const std::string voltage =
        "homeassistant/sensor/nodebridge_gw-ha_pdu-bus_pdu-1/voltage/config";
    ASSERT_TRUE(subscriber_->wait_for_message(voltage, 15s).has_value()) << log();
    EXPECT_TRUE(subscriber_->wait_for_message(pdu, 10s, "").has_value());
    EXPECT_TRUE(
        subscriber_->wait_for_message("homeassistant/device/nodebridge_gw-ha/config", 10s, ""));
    EXPECT_TRUE(subscriber_->wait_for_message(
        "homeassistant/number/nodebridge_gw-ha_pdu-bus_pdu-1/setpoint/config", 10s));
    const auto all = entities(false);
    EXPECT_NE(find(all, "pdu-1_setpoint"), nullptr);
    EXPECT_NE(find(all, "pdu-1_breaker"), nullptr);
    EXPECT_EQ(find(all, "pdu-1_breaker")->platform, "switch");
}

// The config changed while the daemon was stopped (a node and an entity removed, then
// `systemctl restart`): what the earlier config announced is still retained on the broker,
// and only the daemon can know it is its own. It removes exactly that at start, and leaves
// another gateway's, an unrelated integration's and a not yet heard wireless node's alone.
TEST_F(HomeAssistant, ConfigsLeftByAnEarlierConfigurationAreRemovedAtStart) {
    const std::string via = R"("via_device":"nodebridge_gw-ha")";
    const std::string gone_node = "homeassistant/device/nodebridge_gw-ha_pdu-bus_pdu-9/config";
    const std::string gone_entity =
        "homeassistant/sensor/nodebridge_gw-ha_pdu-bus_pdu-1/current/config";
    const std::map<std::string, std::string> kept = {
        {"homeassistant/device/nodebridge_gw-ha_b_pdu-bus_pdu-9/config",
         R"({"dev":{"ids":["nodebridge_gw-ha_b_pdu-bus_pdu-9"],"via_device":"nodebridge_gw-ha_b"}})"},
        {"homeassistant/device/nodebridge_gw-ha_radio_ZZ99/config",
         R"({"dev":{"ids":["nodebridge_gw-ha_radio_ZZ99"],)" + via + "}}"},
        {"homeassistant/light/kitchen_lamp/config", R"({"name":"lamp","state_topic":"z/lamp"})"},
    };
    publish(gone_node, R"({"dev":{"ids":["nodebridge_gw-ha_pdu-bus_pdu-9"],)" + via + "}}", true);
    publish(gone_entity, R"({"dev":{"ids":["nodebridge_gw-ha_pdu-bus_pdu-1"],)" + via + "}}", true);
    for (const auto& [topic, payload] : kept) publish(topic, payload, true);
    ASSERT_TRUE(subscriber_->wait_for_message(gone_entity, 10s).has_value());
    subscriber_->clear();  // the fake radio node must not count as one the daemon announced

    start_daemon();
    ASSERT_TRUE(wait_for_devices(20s)) << log();
    EXPECT_TRUE(subscriber_->wait_for_message(gone_node, 15s, "").has_value()) << log();
    EXPECT_TRUE(subscriber_->wait_for_message(gone_entity, 15s, "").has_value()) << log();
    EXPECT_TRUE(daemon_->wait_for_output("removing 2 Home Assistant configs", 5s)) << log();
    // The configs it received and did not claim are nobody's commands either.
    EXPECT_EQ(log().find("rejected"), std::string::npos) << log();

    // What the broker holds now, as Home Assistant would find it when it starts.
    Subscriber fresh(broker_.port(), {"homeassistant/#"});
    ASSERT_TRUE(fresh.wait_for(
        [&](const std::vector<Received>& all) {
            std::set<std::string> topics;
            for (const Received& m : all) topics.insert(m.topic);
            for (const auto& [topic, payload] : kept) {
                if (!topics.count(topic)) return false;
            }
            return topics.count("homeassistant/device/nodebridge_gw-ha_pdu-bus_pdu-1/config") > 0;
        },
        10s));
    for (const auto& [topic, payload] : kept) {
        const auto messages = fresh.on_topic(topic);
        ASSERT_EQ(messages.size(), 1u) << topic;
        EXPECT_EQ(messages[0].payload, payload) << topic;
        EXPECT_TRUE(messages[0].retain) << topic;
    }
    EXPECT_TRUE(fresh.on_topic(gone_node).empty());
    EXPECT_TRUE(fresh.on_topic(gone_entity).empty());
}

TEST_F(HomeAssistant, ShowDiscoveryPrintsTheConfigsWithoutConnecting) {
    config_path_ = dir_.write("nodebridge.yaml", config_text("device"));
    broker_.stop();
    Process show({NODEBRIDGED_PATH, "--show-discovery", "-c", config_path_}, dir_.file("show.log"));
    ASSERT_EQ(show.wait_for_exit(10s), 0) << show.output();
    const std::string output = show.output();
    EXPECT_NE(output.find("homeassistant/device/nodebridge_gw-ha/config {"), std::string::npos);
    EXPECT_NE(output.find("homeassistant/device/nodebridge_gw-ha_pdu-bus_pdu-1/config {"),
              std::string::npos);
    EXPECT_NE(
        output.find("the nodes of serial-nodes source 'radio' are announced when first heard"),
        std::string::npos);
}

}  // namespace
}  // namespace nodebridge::test
