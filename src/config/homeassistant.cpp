// `homeassistant:`: MQTT discovery for Home Assistant (docs/homeassistant.md), and the checks
// of what discovery would announce: device and state class names, classes that contradict
// an attribute's unit, and rules whose topics Home Assistant cannot use.

#include <set>
#include <tuple>

#include "nodebridge/homeassistant_classes.hpp"
#include "nodebridge/topic_template.hpp"
#include "sections.hpp"

namespace nodebridge::config_detail {
namespace {

namespace ha = homeassistant;

// A topic of the section (discovery prefix, status topic): a plain topic, no template
// fields, no wildcards, no empty first or last level.
bool check_plain_topic(const std::string& topic, std::string_view key, const Position& where,
                       const Context& ctx) {
    std::string error;
    auto parsed = TopicTemplate::parse(topic, error);
    if (!parsed) {
        ctx.error(where, std::string(key) + ": " + error);
        return false;
    }
    if (parsed->text().find('{') != std::string::npos) {
        ctx.error(where, std::string(key) + ": takes no {fields}");
        return false;
    }
    if (topic.front() == '/' || topic.back() == '/') {
        ctx.error(where, std::string(key) + ": must not begin or end with '/'");
        return false;
    }
    return true;
}

// Where a hint was written, to check a model's table (shared by its nodes) once.
using Place = std::tuple<std::string, int, int>;

enum class Kind { number, boolean, text, unknown };

struct HintChecker {
    Diagnostics& diag;
    std::set<Place> seen;

    bool first_time(const Position& where) {
        return seen.emplace(where.file, where.line, where.column).second;
    }

    void check(const std::string& name, const std::string& unit, const AttributeMeaning& meaning,
               Kind kind, bool writable, const Position& attribute_where) {
        const std::string what = "attribute '" + shown(name) + "': homeassistant: ";
        std::string_view device_class = ha::class_of_quantity(meaning.quantity);
        if (meaning.homeassistant) {
            const HomeAssistantHints& hints = *meaning.homeassistant;
            const Position& where = hints.where;
            if (!first_time(where)) return;
            if (!meaning.states.empty()) {
                // A coded reading is announced as an enum sensor with its names as options.
                if (!hints.device_class.empty() && hints.device_class != "enum") {
                    diag.error(where, what + "device_class " + shown(hints.device_class) +
                                          " does not fit states: a coded reading is Home "
                                          "Assistant's enum (leave device_class out)");
                }
                if (!hints.state_class.empty()) {
                    diag.error(where, what +
                                          "state_class does not fit states: Home Assistant's "
                                          "enum sensor takes none");
                }
            } else if (!hints.device_class.empty()) {
                device_class = hints.device_class;
                check_device_class(hints.device_class, unit, kind, writable, where, what);
            }
            if (!hints.state_class.empty() && meaning.states.empty()) {
                if (!ha::is_state_class(hints.state_class)) {
                    diag.error(where, what + "state_class '" + shown(hints.state_class) +
                                          "' is not a Home Assistant state class (" +
                                          join_choices(ha::state_classes()) + ")" +
                                          did_you_mean(hints.state_class, ha::state_classes()));
                } else if (kind == Kind::boolean || kind == Kind::text) {
                    diag.error(where, what + "state_class applies to numeric readings only");
                } else if (hints.state_class == "measurement" && ha::is_total_class(device_class)) {
                    diag.error(where, what + "state_class measurement does not fit device_class " +
                                          std::string(device_class) +
                                          ": Home Assistant takes it as total or "
                                          "total_increasing only");
                } else if (hints.state_class == "total_increasing" && meaning.net) {
                    diag.error(where, what +
                                          "state_class total_increasing contradicts counter: "
                                          "net (Home Assistant would count every fall as a "
                                          "meter reset); leave state_class out to get total");
                }
            }
            // Home Assistant's sensor and binary_sensor refuse entity_category config
            // (sensor/__init__.py and binary_sensor/__init__.py, async_internal_added_to_hass:
            // "cannot be added as the entity category is set to config"); only an entity
            // that changes the device (number, switch) may have it.
            if (hints.entity_category == "config" && !writable) {
                diag.error(hints.entity_category_where,
                           what + "entity_category config is for entities that change a "
                                  "device's settings; Home Assistant refuses it on a read-only "
                                  "sensor or binary_sensor (use diagnostic)");
            }
            return;
        }
        // A class derived from the quantity that the unit contradicts: discovery leaves the
        // class out (Home Assistant would refuse the entity), and says so here.
        if (!device_class.empty() && (kind == Kind::number || kind == Kind::unknown) &&
            !ha::unit_fits(device_class, unit) && first_time(attribute_where)) {
            diag.warning(attribute_where,
                         "attribute '" + shown(name) + "': quantity " + meaning.quantity +
                             " is Home Assistant's device_class " + std::string(device_class) +
                             ", which takes " + ha::some_of(ha::units_of(device_class)) +
                             "; unit '" + shown(unit) +
                             "' fits none, so discovery announces it without a device_class");
        }
    }

    void check_device_class(const std::string& device_class, const std::string& unit, Kind kind,
                            bool writable, const Position& where, const std::string& what) {
        if (kind == Kind::boolean) {
            const bool known = writable ? ha::is_switch_class(device_class)
                                        : ha::is_binary_sensor_class(device_class);
            if (!known) {
                diag.error(where, what + "device_class '" + shown(device_class) + "' is not a " +
                                      (writable ? "switch device class (outlet or switch)"
                                                : "binary_sensor device class" +
                                                      did_you_mean(device_class,
                                                                   ha::binary_sensor_classes())));
            }
            return;
        }
        if (kind == Kind::text) {
            if (!ha::is_sensor_class(device_class)) {
                diag.error(where, what + "device_class '" + shown(device_class) +
                                      "' is not a Home Assistant sensor device class" +
                                      did_you_mean(device_class, ha::sensor_classes()));
            }
            return;
        }
        const bool sensor = ha::is_sensor_class(device_class);
        if (!sensor && !(kind == Kind::unknown && ha::is_binary_sensor_class(device_class))) {
            diag.error(where, what + "device_class '" + shown(device_class) +
                                  "' is not a Home Assistant sensor device class" +
                                  did_you_mean(device_class, ha::sensor_classes()));
            return;
        }
        if (sensor && !ha::unit_fits(device_class, unit)) {
            diag.error(where, what + "device_class " + device_class + " takes " +
                                  ha::some_of(ha::units_of(device_class)) + ", not unit '" +
                                  shown(unit) + "'");
        }
    }

    void check_modbus(const ModbusAttribute& attribute) {
        const Kind kind = attribute.type == ModbusType::boolean  ? Kind::boolean
                          : attribute.type == ModbusType::string ? Kind::text
                                                                 : Kind::number;
        check(attribute.name, attribute.unit, attribute.meaning, kind, attribute.writable,
              attribute.where);
    }

    void check_received(const ReceivedAttribute& attribute) {
        if (attribute.ignore) return;
        check(attribute.name.empty() ? attribute.key : attribute.name, attribute.unit,
              attribute.meaning, Kind::unknown, false, attribute.where);
    }
};

}  // namespace

void read_homeassistant(const YAML::Node& node, const Context& ctx,
                        std::optional<HomeAssistantConfig>& out) {
    const Position where = position_of(node, ctx);
    if (node.IsScalar()) {  // `homeassistant: true` turns it on with the defaults
        const auto on = read_bool(node, ctx, "homeassistant");
        if (on && *on) out = HomeAssistantConfig{.where = where};
        if (out) out->status_topic = out->discovery_prefix + "/status";
        return;
    }
    HomeAssistantConfig config;
    config.where = where;
    if (!node.IsNull()) {
        MapReader map(node, ctx, "homeassistant");
        if (!map.is_map()) return;
        if (map.text("discovery_prefix", config.discovery_prefix)) {
            check_plain_topic(config.discovery_prefix, "discovery_prefix",
                              map.value_position("discovery_prefix"), ctx);
        }
        if (map.text("status_topic", config.status_topic)) {
            check_plain_topic(config.status_topic, "status_topic",
                              map.value_position("status_topic"), ctx);
        }
        map.choice<DiscoveryMode>(
            "mode", {{"device", DiscoveryMode::device}, {"entity", DiscoveryMode::entity}},
            config.mode);
        map.finish();
    }
    if (config.status_topic.empty()) config.status_topic = config.discovery_prefix + "/status";
    out = std::move(config);
}

void check_homeassistant(const Config& config, Diagnostics& diag) {
    HintChecker hints{diag, {}};
    for (const ModelRef& model : config.models) {
        for (const ModbusAttribute& attribute : model->attributes) hints.check_modbus(attribute);
        for (const ReceivedAttribute& attribute : model->received) hints.check_received(attribute);
    }
    for (const SourceConfig& source : config.sources) {
        if (const auto* modbus = std::get_if<ModbusSourceConfig>(&source.settings)) {
            for (const ModbusNode& node : modbus->nodes) {
                for (const ModbusAttribute& attribute : node.attributes) {
                    hints.check_modbus(attribute);
                }
            }
        } else if (const auto* serial = std::get_if<SerialNodesSourceConfig>(&source.settings)) {
            for (const ReceivedAttribute& attribute : serial->attributes) {
                hints.check_received(attribute);
            }
        }
    }

    if (!config.homeassistant) return;
    const std::string& prefix = config.homeassistant->discovery_prefix;
    for (const MappingRule& rule : config.mappings) {
        if (!rule.homeassistant) continue;
        std::string error;
        auto topic = TopicTemplate::parse(rule.topic, error);
        if (!topic) continue;  // reported with the rule
        const std::string label = "mapping '" + shown(rule.name) + "': ";
        if (!topic->uses(TopicField::node)) {
            diag.error(rule.where, label +
                                       "its topic has no {node}, so Home Assistant cannot tell one "
                                       "node's readings from another's; add {node} or set "
                                       "homeassistant: false on the rule");
        }
        if (rule.topic == prefix || rule.topic.rfind(prefix + "/", 0) == 0) {
            diag.error(rule.where, label + "its topic is under the discovery prefix '" +
                                       shown(prefix) +
                                       "', where Home Assistant expects discovery messages only");
        }
    }
}

}  // namespace nodebridge::config_detail
