// plan_discovery(): the Home Assistant discovery configs of a Config (docs/homeassistant.md).
//
// Keys and topics as home-assistant.io source/_integrations/mqtt.markdown gives them:
// "<prefix>/device/<object_id>/config" with the shared "dev", "o" and availability options
// and the entities under "cmps", each with its platform "p" and a unique_id ("Device
// discovery payload"); "<prefix>/<component>/<node_id>/<object_id>/config" with "dev" and "o"
// in each entity ("Single component discovery payload"). Entity options use their full
// names (sensor.mqtt.markdown, binary_sensor.mqtt.markdown, number.mqtt.markdown,
// switch.mqtt.markdown).

#include <optional>
#include <set>
#include <unordered_map>

#include "glob.hpp"
#include "nodebridge/command.hpp"
#include "nodebridge/homeassistant.hpp"
#include "nodebridge/homeassistant_classes.hpp"
#include "nodebridge/mapping.hpp"
#include "nodebridge/topic_template.hpp"
#include "nodebridge/version.hpp"

namespace nodebridge::homeassistant {
namespace {

// JSON object members, written in order: "key":value pairs separated by commas.
class Members {
  public:
    Members& text(std::string_view key, std::string_view value) {
        start(key);
        append_value_json(Value(std::string(value)), out_);
        return *this;
    }
    Members& text_if(std::string_view key, std::string_view value) {
        return value.empty() ? *this : text(key, value);
    }
    Members& number(std::string_view key, double value) {
        start(key);
        append_value_json(Value(value), out_);
        return *this;
    }
    Members& boolean(std::string_view key, bool value) {
        start(key);
        out_ += value ? "true" : "false";
        return *this;
    }
    Members& raw(std::string_view key, std::string_view json) {
        start(key);
        out_ += json;
        return *this;
    }
    Members& append(std::string_view members) {
        if (members.empty()) return *this;
        if (!out_.empty()) out_ += ',';
        out_ += members;
        return *this;
    }
    const std::string& str() const { return out_; }
    std::string object() const { return "{" + out_ + "}"; }

  private:
    void start(std::string_view key) {
        if (!out_.empty()) out_ += ',';
        append_value_json(Value(std::string(key)), out_);
        out_ += ':';
    }
    std::string out_;
};

// `text` as a JSON string.
std::string json_string(std::string_view text) {
    std::string out;
    append_value_json(Value(std::string(text)), out);
    return out;
}

// How a rule's messages carry an attribute's value, which decides the value_template.
enum class Shape { bare, attribute_json, node_json };

// A Jinja string literal for a key: single-quoted, with \ and ' escaped.
std::string jinja_key(std::string_view key) {
    std::string out = "'";
    for (char c : key) {
        if (c == '\\' || c == '\'') out += '\\';
        out += c;
    }
    return out + "'";
}

// The Jinja expression that reads the value out of the state payload; "" for a bare value.
std::string value_expression(Shape shape, std::string_view attribute) {
    switch (shape) {
        case Shape::bare:
            return {};
        case Shape::attribute_json:
            return "value_json.value";
        case Shape::node_json:
            return "value_json[" + jinja_key(attribute) + "]";
    }
    return {};
}

// A per-node JSON message holds the attributes of the poll that made it only (an attribute
// read at a slower interval, or one a poll could not read, is left out), so its template renders
// nothing without the attribute's key, and Home Assistant's MQTT sensor and binary_sensor
// ignore an empty rendering (homeassistant/components/mqtt/sensor.py, _update_state: "Ignore
// empty state"; binary_sensor.py: "Empty template output", both at home-assistant/core's
// current dev branch) rather than reading an undefined key as empty, false or unknown.
std::string guarded(Shape shape, std::string_view attribute, std::string value_template) {
    if (shape != Shape::node_json) return value_template;
    return "{% if " + jinja_key(attribute) + " in value_json %}" + value_template + "{% endif %}";
}

enum class Kind { number, boolean, text };

// One published attribute of a node, as discovery sees it.
struct Reading {
    std::string name;
    Kind kind = Kind::number;
    std::string unit;
    const AttributeMeaning* meaning = nullptr;  // null: nothing declared
    const ModbusAttribute* modbus = nullptr;    // for write-back limits
};

std::string component_key(std::string_view attribute) { return safe_id(attribute); }

// A rule with its templates and globs, parsed once.
struct RuleView {
    const MappingRule* rule;
    TopicTemplate topic;
    std::optional<TopicTemplate> availability;
    mapping::Glob source;
    mapping::Glob node;
    bool per_attribute = false;

    bool matches(std::string_view source_name, std::string_view node_id) const {
        return source.matches(source_name) && node.matches(node_id);
    }
    bool selects(std::string_view attribute) const {
        if (rule->attributes.empty()) return true;
        for (const std::string& pattern : rule->attributes) {
            if (mapping::glob_match(pattern, attribute)) return true;
        }
        return false;
    }
    Shape shape() const {
        if (!per_attribute) return Shape::node_json;
        return rule->payload == PayloadForm::value ? Shape::bare : Shape::attribute_json;
    }
};

class Builder {
  public:
    explicit Builder(const Config& config) : config_(config), ha_(*config.homeassistant) {
        std::string error;
        for (const MappingRule& rule : config.mappings) {
            auto topic = TopicTemplate::parse(rule.topic, error);
            if (!topic) continue;
            RuleView view{&rule, std::move(*topic), std::nullopt, mapping::Glob(rule.match_source),
                          mapping::Glob(rule.match_node)};
            view.per_attribute = view.topic.uses(TopicField::attribute);
            if (!rule.availability_topic.empty()) {
                view.availability = TopicTemplate::parse(rule.availability_topic, error);
            }
            rules_.push_back(std::move(view));
        }
        for (const CommandTarget& target : command_targets(config)) {
            if (!target.attribute.writable) continue;
            commands_.emplace(
                target_key(target.rule, target.source, target.node, target.attribute.name),
                target.topic);
        }
        gateway_id_ = "nodebridge_" + safe_id(config.gateway);
        origin_ = Members().text("name", "nodebridge").text("sw", kVersion).object();
    }

    DiscoveryPlan build(const std::vector<HeardNode>& heard) {
        DiscoveryPlan plan;
        plan.mode = ha_.mode;
        plan.prefix = ha_.discovery_prefix;
        plan.origin = origin_;
        plan.devices.push_back(gateway_device());
        plan.gateway_id = gateway_id_;
        for (const SourceConfig& source : config_.sources) {
            if (const auto* modbus = std::get_if<ModbusSourceConfig>(&source.settings)) {
                for (const ModbusNode& node : modbus->nodes) {
                    std::vector<Reading> readings;
                    for (const ModbusAttribute& attribute : node.attributes) {
                        readings.push_back(modbus_reading(attribute));
                    }
                    add_node(plan, source.name, node.id, node.model, readings);
                }
            } else if (const auto* serial =
                           std::get_if<SerialNodesSourceConfig>(&source.settings)) {
                plan.unheard.push_back(gateway_id_ + "_" + safe_id(source.name) + "_");
                for (const HeardNode& node : heard) {
                    if (node.source != source.name) continue;
                    std::vector<Reading> readings;
                    for (const HeardAttribute& attribute : node.attributes) {
                        readings.push_back(heard_reading(*serial, node.node, attribute));
                    }
                    add_node(plan, source.name, node.node, ModelRef(), readings);
                }
            }
        }
        return plan;
    }

  private:
    static std::string target_key(std::string_view rule, std::string_view source,
                                  std::string_view node, std::string_view attribute) {
        std::string key;
        for (std::string_view part : {rule, source, node, attribute}) {
            key += std::to_string(part.size());
            key += ':';
            key += part;
        }
        return key;
    }

    static Reading modbus_reading(const ModbusAttribute& attribute) {
        Reading reading{attribute.name, Kind::number, attribute.unit, &attribute.meaning,
                        &attribute};
        if (attribute.type == ModbusType::boolean) reading.kind = Kind::boolean;
        if (attribute.type == ModbusType::string) reading.kind = Kind::text;
        return reading;
    }

    static Reading heard_reading(const SerialNodesSourceConfig& source, const std::string& node,
                                 const HeardAttribute& attribute) {
        Reading reading{attribute.name, Kind::number, attribute.unit, nullptr, nullptr};
        if (attribute.kind == HeardKind::boolean) reading.kind = Kind::boolean;
        if (attribute.kind == HeardKind::text) reading.kind = Kind::text;
        // The node's schema: that of the first `models:` entry whose glob matches its id,
        // else the source's, as the source itself chooses it.
        const std::vector<ReceivedAttribute>* schema = &source.attributes;
        for (const NodeSchema& entry : source.node_models) {
            if (mapping::glob_match(entry.nodes, node)) {
                schema = &entry.attributes;
                break;
            }
        }
        for (const ReceivedAttribute& declared : *schema) {
            const std::string& name = declared.name.empty() ? declared.key : declared.name;
            if (name == attribute.name) reading.meaning = &declared.meaning;
        }
        return reading;
    }

    std::string availability_entry(std::string_view topic, std::string_view online,
                                   std::string_view offline) const {
        return Members()
            .text("topic", topic)
            .text("payload_available", online)
            .text("payload_not_available", offline)
            .object();
    }

    // The gateway's health topic and, when a rule gives one, the node's availability topic;
    // Home Assistant shows the entities available only while both say so.
    std::string availability(const std::string* node_topic) const {
        const HealthConfig& health = config_.mqtt.health;
        std::string list = "[" + availability_entry(health.topic, health.online, health.offline);
        if (node_topic != nullptr)
            list += "," + availability_entry(*node_topic, "online", "offline");
        list += "]";
        return Members().raw("availability", list).text("availability_mode", "all").str();
    }

    void add_node(DiscoveryPlan& plan, const std::string& source, const std::string& node,
                  const ModelRef& model, const std::vector<Reading>& readings) {
        DiscoveryDevice device;
        device.id = unique_device_id(source, node);
        std::optional<std::string> availability_topic;
        for (const RuleView& rule : rules_) {
            if (rule.availability && rule.matches(source, node)) {
                availability_topic = rule.availability->expand({config_.gateway, source, node});
                break;
            }
        }
        std::set<std::string> keys;
        for (const Reading& reading : readings) {
            const RuleView* rule = rule_for(source, node, reading.name);
            if (rule == nullptr) continue;
            DiscoveryComponent component = entity(*rule, source, node, device.id, reading);
            if (!keys.insert(component.key).second) continue;
            device.components.push_back(std::move(component));
        }
        if (device.components.empty()) return;
        Members dev;
        dev.raw("ids", "[" + json_string(device.id) + "]");
        dev.text("name", node);
        if (model) {
            dev.text_if("mf", model->manufacturer);
            dev.text_if("mdl", model->model);
        }
        dev.text("via_device", gateway_id_);
        device.device = dev.object();
        device.availability = availability(availability_topic ? &*availability_topic : nullptr);
        plan.devices.push_back(std::move(device));
    }

    // The device id of a node, unique in the plan: two names that make the same id (a source
    // "a_b" with node "c", and "a" with "b_c") get the second a hash of both.
    std::string unique_device_id(const std::string& source, const std::string& node) {
        std::string id = gateway_id_ + "_" + safe_id(source) + "_" + safe_id(node);
        if (!device_ids_.insert(id).second) {
            std::string both = source;
            both += '\0';
            both += node;
            id += "_" + safe_id(std::string("\x01") + both).substr(2);
            device_ids_.insert(id);
        }
        return id;
    }

    const RuleView* rule_for(std::string_view source, std::string_view node,
                             std::string_view attribute) const {
        for (const RuleView& rule : rules_) {
            if (rule.rule->homeassistant && rule.matches(source, node) && rule.selects(attribute)) {
                return &rule;
            }
        }
        return nullptr;
    }

    const std::string* command_topic(const RuleView& rule, const std::string& source,
                                     const std::string& node, const Reading& reading) const {
        if (reading.modbus == nullptr || !reading.modbus->writable) return nullptr;
        const auto found = commands_.find(target_key(rule.rule->name, source, node, reading.name));
        return found == commands_.end() ? nullptr : &found->second;
    }

    DiscoveryComponent entity(const RuleView& rule, const std::string& source,
                              const std::string& node, const std::string& device_id,
                              const Reading& reading) const {
        const HomeAssistantHints* hints = nullptr;
        if (reading.meaning != nullptr && reading.meaning->homeassistant) {
            hints = &*reading.meaning->homeassistant;
        }
        DiscoveryComponent component;
        component.key = component_key(reading.name);
        const bool coded = reading.kind != Kind::boolean && reading.meaning != nullptr &&
                           !reading.meaning->states.empty();
        const std::string* command = coded ? nullptr : command_topic(rule, source, node, reading);
        const std::string state_topic =
            rule.per_attribute
                ? rule.topic.expand({config_.gateway, source, node, reading.name, reading.unit})
                : rule.topic.expand({config_.gateway, source, node});
        const std::string expression = value_expression(rule.shape(), reading.name);

        Members options;
        options.text("name", hints && !hints->name.empty() ? hints->name : reading.name);
        options.text("unique_id", device_id + "_" + component.key);
        options.text("state_topic", state_topic);
        if (reading.kind == Kind::boolean) {
            component.platform = command ? "switch" : "binary_sensor";
            if (command) options.text("command_topic", *command);
            // Booleans are published as true/false (bare or JSON); the template turns a JSON
            // value into the same text.
            if (!expression.empty()) {
                options.text("value_template",
                             guarded(rule.shape(), reading.name,
                                     "{{ 'true' if " + expression + " else 'false' }}"));
            }
            options.text("payload_on", "true").text("payload_off", "false");
        } else if (coded) {
            // An enum sensor: the rule publishes a known code as its name and an unknown one
            // as the number itself, which the template turns into "None" (Home Assistant's
            // MQTT sensor: unknown state) rather than an option Home Assistant would ignore.
            component.platform = "sensor";
            std::string names = "[";
            std::string options_json = "[";
            for (const auto& [code, name] : reading.meaning->states) {
                if (names.size() > 1) {
                    names += ',';
                    options_json += ',';
                }
                names += jinja_key(name);
                options_json += json_string(name);
            }
            names += ']';
            options_json += ']';
            const std::string value = expression.empty() ? "value" : expression;
            options.text("value_template", guarded(rule.shape(), reading.name,
                                                   "{% set v = " + value + " %}{{ v if v in " +
                                                       names + " else 'None' }}"));
            options.text("device_class", "enum");
            options.raw("options", options_json);
        } else {
            component.platform = command ? "number" : "sensor";
            if (command) options.text("command_topic", *command);
            if (!expression.empty()) {
                options.text("value_template",
                             guarded(rule.shape(), reading.name, "{{ " + expression + " }}"));
            }
            if (reading.kind == Kind::number) add_number_meaning(options, reading, hints, command);
        }
        if (command) options.number("qos", 1);
        if (hints) {
            if (!coded && reading.kind != Kind::number && !hints->device_class.empty()) {
                options.text("device_class", hints->device_class);
            }
            options.text_if("icon", hints->icon);
            // Home Assistant refuses `config` on a read-only sensor or binary_sensor (a
            // writable attribute that no rule gives a command topic is one): leave it out.
            if (command || hints->entity_category != "config") {
                options.text_if("entity_category", hints->entity_category);
            }
            if (hints->enabled && !*hints->enabled) options.boolean("enabled_by_default", false);
        }
        component.options = options.str();
        return component;
    }

    // unit, device class, state class of a number; min, max, step, mode of a writable one.
    static void add_number_meaning(Members& options, const Reading& reading,
                                   const HomeAssistantHints* hints, const std::string* command) {
        const AttributeMeaning* meaning = reading.meaning;
        options.text_if("unit_of_measurement", reading.unit);
        std::string device_class;
        if (hints && !hints->device_class.empty()) {
            device_class = hints->device_class;
        } else {
            std::string_view derived;
            if (meaning != nullptr) derived = class_of_quantity(meaning->quantity);
            if (derived.empty()) derived = class_of_unit(reading.unit);
            if (!derived.empty() && unit_fits(derived, reading.unit)) device_class = derived;
        }
        options.text_if("device_class", device_class);
        if (command) {
            const ModbusAttribute& attribute = *reading.modbus;
            options.number("min", attribute.min.value_or(0));
            options.number("max", attribute.max.value_or(0));
            double step = 0.001;
            if (is_integer(attribute.type)) step = std::max(std::abs(attribute.scale), 0.001);
            options.number("step", step);
            options.text("mode", "box");
            return;  // a number entity has no state class
        }
        std::string state_class;
        if (hints && !hints->state_class.empty()) {
            state_class = hints->state_class;
        } else if (meaning != nullptr && meaning->net) {
            // A total that also falls: Home Assistant sums its rises and falls; with
            // total_increasing it would take every fall for a meter reset.
            state_class = "total";
        } else if ((meaning != nullptr && meaning->counter) || is_total_class(device_class)) {
            state_class = "total_increasing";
        } else {
            state_class = "measurement";
        }
        options.text("state_class", state_class);
    }

    DiscoveryDevice gateway_device() const {
        DiscoveryDevice device;
        device.id = gateway_id_;
        device.device = Members()
                            .raw("ids", "[" + json_string(gateway_id_) + "]")
                            .text("name", "nodebridge " + config_.gateway)
                            .text("mf", "nodebridge")
                            .text("mdl", "nodebridged")
                            .text("sw", kVersion)
                            .object();
        const HealthConfig& health = config_.mqtt.health;
        // The status entity reads the health topic itself, so it shows "disconnected" when the
        // daemon is gone; the others are unavailable then.
        device.components.push_back({"status", "binary_sensor",
                                     Members()
                                         .text("name", "Status")
                                         .text("unique_id", gateway_id_ + "_status")
                                         .text("state_topic", health.topic)
                                         .text("payload_on", health.online)
                                         .text("payload_off", health.offline)
                                         .text("device_class", "connectivity")
                                         .text("entity_category", "diagnostic")
                                         .str()});
        if (!config_.stats.enabled) return device;
        const std::string available =
            Members()
                .raw("availability",
                     "[" + availability_entry(health.topic, health.online, health.offline) + "]")
                .str();
        auto stat = [&](std::string key, std::string platform, std::string name,
                        std::string expression, Members extra) {
            Members options;
            options.text("name", name)
                .text("unique_id", gateway_id_ + "_" + key)
                .text("state_topic", config_.stats.topic)
                .text("value_template", "{{ " + expression + " }}")
                .append(extra.str())
                .text("entity_category", "diagnostic")
                .append(available);
            device.components.push_back({key, platform, options.str()});
        };
        stat("broker_connected", "binary_sensor", "Broker connected",
             "'ON' if value_json.broker.connected else 'OFF'",
             Members().text("device_class", "connectivity"));
        stat("messages_per_s", "sensor", "Messages per second", "value_json.messages_per_s",
             Members().text("unit_of_measurement", "msg/s").text("state_class", "measurement"));
        stat("messages_dropped", "sensor", "Messages dropped", "value_json.messages_dropped",
             Members().text("state_class", "total_increasing"));
        stat("spool_bytes", "sensor", "Spool size", "value_json.spool.bytes",
             Members()
                 .text("unit_of_measurement", "B")
                 .text("device_class", "data_size")
                 .text("state_class", "measurement"));
        for (const SourceConfig& source : config_.sources) {
            stat("nodes_online_" + safe_id(source.name), "sensor", "Nodes online " + source.name,
                 "value_json.sources[" + jinja_key(source.name) + "].nodes_online",
                 Members().text("state_class", "measurement"));
        }
        return device;
    }

    const Config& config_;
    const HomeAssistantConfig& ha_;
    std::vector<RuleView> rules_;
    std::unordered_map<std::string, std::string> commands_;  // target_key -> command topic
    std::string gateway_id_;
    std::string origin_;
    std::set<std::string> device_ids_;
};

std::string config_topic(const DiscoveryPlan& plan, const DiscoveryDevice& device,
                         const DiscoveryComponent* component) {
    if (component == nullptr) return plan.prefix + "/device/" + device.id + "/config";
    return plan.prefix + "/" + component->platform + "/" + device.id + "/" + component->key +
           "/config";
}

Message retained(std::string topic, std::string payload) {
    return Message{.topic = std::move(topic),
                   .payload = std::move(payload),
                   .qos = 1,
                   .retain = true,
                   .rule = {}};
}

// The device-mode payload, with `removed` components as {"p": platform} stubs.
std::string device_payload(const DiscoveryPlan& plan, const DiscoveryDevice& device,
                           const std::vector<const DiscoveryComponent*>& removed = {}) {
    std::string components;
    for (const DiscoveryComponent& component : device.components) {
        if (!components.empty()) components += ',';
        components +=
            Members()
                .raw(component.key,
                     Members().text("p", component.platform).append(component.options).object())
                .str();
    }
    for (const DiscoveryComponent* component : removed) {
        if (!components.empty()) components += ',';
        components +=
            Members().raw(component->key, Members().text("p", component->platform).object()).str();
    }
    return Members()
        .raw("dev", device.device)
        .raw("o", plan.origin)
        .append(device.availability)
        .raw("cmps", "{" + components + "}")
        .object();
}

std::string entity_payload(const DiscoveryPlan& plan, const DiscoveryDevice& device,
                           const DiscoveryComponent& component) {
    Members members;
    members.append(component.options);
    // The gateway's entities carry their own availability; a node's share the device's.
    if (component.options.find("\"availability\"") == std::string::npos) {
        members.append(device.availability);
    }
    return members.raw("dev", device.device).raw("o", plan.origin).object();
}

}  // namespace

std::string safe_id(std::string_view text) {
    bool plain = !text.empty();
    for (char c : text) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-';
        plain &= ok;
    }
    if (plain) return std::string(text);
    std::string id;
    std::uint32_t hash = 2166136261u;  // FNV-1a
    for (char c : text) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-';
        id += ok ? c : '_';
        hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    id += '_';
    for (int shift = 28; shift >= 0; shift -= 4) id += kHex[(hash >> shift) & 0xF];
    return id;
}

DiscoveryPlan plan_discovery(const Config& config, const std::vector<HeardNode>& heard) {
    if (!config.homeassistant) return {};
    return Builder(config).build(heard);
}

std::vector<Message> DiscoveryPlan::messages() const {
    std::vector<Message> out;
    for (const DiscoveryDevice& device : devices) {
        if (mode == DiscoveryMode::device) {
            out.push_back(
                retained(config_topic(*this, device, nullptr), device_payload(*this, device)));
            continue;
        }
        for (const DiscoveryComponent& component : device.components) {
            out.push_back(retained(config_topic(*this, device, &component),
                                   entity_payload(*this, device, component)));
        }
    }
    return out;
}

std::vector<Message> DiscoveryPlan::removals_since(const DiscoveryPlan& previous) const {
    std::vector<Message> out;
    std::map<std::string, const DiscoveryDevice*> now;
    for (const DiscoveryDevice& device : devices) now.emplace(device.id, &device);
    // A different prefix or mode: everything announced before is on other topics.
    const bool same_layout = previous.prefix == prefix && previous.mode == mode;
    for (const DiscoveryDevice& before : previous.devices) {
        const auto found = same_layout ? now.find(before.id) : now.end();
        const DiscoveryDevice* after = found == now.end() ? nullptr : found->second;
        if (previous.mode == DiscoveryMode::device) {
            if (after == nullptr) {
                out.push_back(retained(config_topic(previous, before, nullptr), ""));
                continue;
            }
            std::vector<const DiscoveryComponent*> removed;
            for (const DiscoveryComponent& component : before.components) {
                bool kept = false;
                for (const DiscoveryComponent& current : after->components) {
                    kept |= current.key == component.key && current.platform == component.platform;
                }
                if (!kept) removed.push_back(&component);
            }
            if (!removed.empty()) {
                out.push_back(retained(config_topic(*this, *after, nullptr),
                                       device_payload(*this, *after, removed)));
            }
            continue;
        }
        for (const DiscoveryComponent& component : before.components) {
            bool kept = false;
            if (after != nullptr) {
                for (const DiscoveryComponent& current : after->components) {
                    kept |= current.key == component.key && current.platform == component.platform;
                }
            }
            if (!kept) out.push_back(retained(config_topic(previous, before, &component), ""));
        }
    }
    return out;
}

OwnConfigs::OwnConfigs(const DiscoveryPlan& plan)
    : prefix_(plan.prefix + "/"),
      gateway_id_(plan.gateway_id),
      node_prefix_(plan.gateway_id + "_"),
      via_("\"via_device\":\"" + plan.gateway_id + "\""),
      unheard_(plan.unheard) {}

std::vector<std::string> OwnConfigs::filters() const {
    if (gateway_id_.empty()) return {};
    return {prefix_ + "device/+/config", prefix_ + "+/+/+/config"};
}

namespace {

// A topic the filters bring: "<prefix>device/<id>/config" (device layout) or
// "<prefix><platform>/<id>/<key>/config" (entity layout).
struct ConfigTopic {
    std::string_view first;  // "device" or the platform
    std::string_view id;
    bool device_layout = false;
};

std::optional<ConfigTopic> config_topic_of(std::string_view prefix, std::string_view topic) {
    constexpr std::string_view kConfig = "/config";
    if (topic.size() < prefix.size() + kConfig.size() || !topic.starts_with(prefix) ||
        !topic.ends_with(kConfig)) {
        return std::nullopt;
    }
    std::string_view rest =
        topic.substr(prefix.size(), topic.size() - prefix.size() - kConfig.size());
    std::string_view levels[4];
    std::size_t count = 0;
    while (count < 4) {
        const std::size_t slash = rest.find('/');
        levels[count++] = rest.substr(0, slash);
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    if (count == 2 && levels[0] == "device") return ConfigTopic{levels[0], levels[1], true};
    if (count == 3) return ConfigTopic{levels[0], levels[1], false};
    return std::nullopt;
}

}  // namespace

bool OwnConfigs::covers(std::string_view topic) const {
    return !gateway_id_.empty() && config_topic_of(prefix_, topic).has_value();
}

bool OwnConfigs::claims(std::string_view topic, std::string_view payload) const {
    if (gateway_id_.empty()) return false;
    const auto config = config_topic_of(prefix_, topic);
    // The entity layout never has "device" for a platform: not a topic this gateway writes.
    if (!config || (!config->device_layout && config->first == "device")) return false;
    const std::string_view id = config->id;
    if (id == gateway_id_) return true;
    if (!id.starts_with(node_prefix_)) return false;
    for (const std::string& unheard : unheard_) {
        if (id.starts_with(unheard)) return false;
    }
    return payload.find(via_) != std::string_view::npos;
}

}  // namespace nodebridge::homeassistant
