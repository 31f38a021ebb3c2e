// describe(): the summary --check-config prints for a valid config. Never prints secrets.

#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "nodebridge/command.hpp"
#include "sections.hpp"

namespace nodebridge {
namespace {

using config_detail::format_duration;

// A source with more nodes than this shows its first and last id, not every one.
constexpr std::size_t kMaxListedIds = 10;

std::string place(const Position& where) {
    return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

std::string plural(std::size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string parity_letter(Parity parity) {
    switch (parity) {
        case Parity::none:
            return "N";
        case Parity::even:
            return "E";
        case Parity::odd:
            return "O";
    }
    return "?";
}

std::string line_text(const SerialLine& line) {
    return line.device + " " + std::to_string(line.baud) + " " + std::to_string(line.data_bits) +
           parity_letter(line.parity) + std::to_string(line.stop_bits);
}

std::string format_name(LineFormat format) {
    switch (format) {
        case LineFormat::kv:
            return "kv";
        case LineFormat::json:
            return "json";
        case LineFormat::csv:
            return "csv";
        case LineFormat::regex:
            return "regex";
    }
    return "?";
}

std::string topic_pattern(const std::string& topic, const std::string& gateway) {
    std::string out = topic;
    const std::string field = "{gateway}";
    for (std::size_t at = out.find(field); at != std::string::npos;
         at = out.find(field, at + gateway.size())) {
        out.replace(at, field.size(), gateway);
    }
    return out;
}

std::string policy_text(const MappingRule& rule) {
    std::string policy = "every sample";
    if (rule.on_change) {
        std::ostringstream text;
        text << "on change";
        if (rule.deadband > 0) text << " (deadband " << rule.deadband << ")";
        policy = text.str();
    }
    if (rule.heartbeat.count() > 0) policy += ", heartbeat " + format_duration(rule.heartbeat);
    if (rule.min_interval.count() > 0) {
        policy += ", min interval " + format_duration(rule.min_interval);
    }
    return policy;
}

// "holding 10, uint16, 0..100, allowed 0, 50, 100" or "coil 3, bool".
std::string write_text(const ModbusAttribute& attribute) {
    std::string text = to_string(attribute.table) + " " + std::to_string(attribute.address) + ", " +
                       to_string(attribute.type);
    if (attribute.min && attribute.max) {
        text += ", " + number_text(*attribute.min) + ".." + number_text(*attribute.max);
    }
    if (!attribute.unit.empty()) text += " " + attribute.unit;
    if (!attribute.allowed.empty()) {
        text += ", allowed ";
        for (std::size_t i = 0; i < attribute.allowed.size(); ++i) {
            text += (i == 0 ? "" : ", ") + number_text(attribute.allowed[i]);
        }
    }
    return text;
}

// Every writable attribute with the command topics that reach it (the same expansion as the
// CommandRouter's), those no command topic reaches, and topics an earlier target took.
void describe_write_back(const Config& config, std::ostringstream& out) {
    using Key = std::tuple<std::string, std::string, std::string>;  // source, node, attribute
    std::vector<CommandTarget> shadowed;
    const std::vector<CommandTarget> targets = command_targets(config, &shadowed);
    std::set<Key> reached;
    std::set<std::string> taken;  // the topics of the targets kept
    for (const CommandTarget& target : targets) taken.insert(target.topic);
    std::size_t writable = 0;
    for (const CommandTarget& target : targets) {
        if (!target.attribute.writable) continue;
        reached.emplace(target.source, target.node, target.attribute.name);
        out << "writable " << target.source << "/" << target.node << "/" << target.attribute.name
            << " (" << write_text(target.attribute) << "): commands on " << target.topic
            << " (rule " << target.rule << ")\n";
    }
    for (const auto& source : config.sources) {
        const auto* modbus = std::get_if<ModbusSourceConfig>(&source.settings);
        if (modbus == nullptr) continue;
        for (const auto& node : modbus->nodes) {
            for (const auto& attribute : node.attributes) {
                if (!attribute.writable) continue;
                ++writable;
                if (reached.count({source.name, node.id, attribute.name}) != 0) continue;
                out << "writable " << source.name << "/" << node.id << "/" << attribute.name << " ("
                    << write_text(attribute)
                    << "): no rule's command_topic reaches it, so it takes no commands\n";
            }
        }
    }
    for (const CommandTarget& target : shadowed) {
        if (!target.attribute.writable) continue;
        out << "warning: rule " << target.rule << " gives " << target.source << "/" << target.node
            << "/" << target.attribute.name << " the command topic " << target.topic;
        if (taken.count(target.topic) != 0) {
            out << ", which an earlier target already has; commands there go to the earlier "
                   "one\n";
        } else {
            out << ", but the bridge publishes there (or on its /result topic) itself; it "
                   "takes no commands there\n";
        }
    }
    if (writable == 0) out << "write-back off: no writable attributes\n";
}

}  // namespace

std::string describe(const Config& config) {
    std::size_t nodes = 0;
    std::size_t attributes = 0;
    for (const auto& source : config.sources) {
        if (const auto* modbus = std::get_if<ModbusSourceConfig>(&source.settings)) {
            nodes += modbus->nodes.size();
            for (const auto& node : modbus->nodes) attributes += node.attributes.size();
        }
    }
    std::ostringstream out;
    out << "config OK: " << plural(config.sources.size(), "source") << ", " << plural(nodes, "node")
        << ", " << plural(attributes, "attribute") << ", " << plural(config.mappings.size(), "rule")
        << " (" << plural(config.files.size(), "file") << ")\n";
    out << "gateway " << config.gateway << ": broker " << config.mqtt.host << ":"
        << config.mqtt.port << " (MQTT " << (config.mqtt.protocol == 5 ? "5" : "3.1.1")
        << ", client id " << config.mqtt.client_id
        << (config.mqtt.username.empty() ? "" : ", with username") << "), health topic "
        << config.mqtt.health.topic << "\n";
    out << config_detail::describe_mqtt_security(config.mqtt);
    if (config.stats.enabled) {
        out << "stats topic " << config.stats.topic << " every "
            << format_duration(config.stats.interval) << "\n";
    } else {
        out << "stats topic off\n";
    }
    for (std::size_t index = 0; index < config.sources.size(); ++index) {
        const SourceConfig& source = config.sources[index];
        // The sources of one `hosts:` entry share its position (Position's == ignores it):
        // the first is shown whole, the rest as one line.
        const auto same_place = [](const Position& a, const Position& b) {
            return a.file == b.file && a.line == b.line && a.column == b.column;
        };
        std::size_t same_entry = 1;
        while (index + same_entry < config.sources.size() &&
               same_place(config.sources[index + same_entry].where, source.where)) {
            ++same_entry;
        }
        if (index > 0 && same_place(config.sources[index - 1].where, source.where)) continue;
        if (same_entry > 1) {
            const SourceConfig& last = config.sources[index + same_entry - 1];
            const auto endpoint = [](const SourceConfig& each) {
                const auto& tcp =
                    std::get<ModbusTcpEndpoint>(std::get<ModbusSourceConfig>(each.settings).link);
                return tcp.host + ":" + std::to_string(tcp.port);
            };
            out << "sources " << source.name << " .. " << last.name << ": " << same_entry
                << " modbus-tcp endpoints from one entry, " << endpoint(source) << " .. "
                << endpoint(last) << "; each:\n  ";
        }
        out << "source " << source.name << ": " << source.type << " ";
        if (const auto* modbus = std::get_if<ModbusSourceConfig>(&source.settings)) {
            if (const auto* tcp = std::get_if<ModbusTcpEndpoint>(&modbus->link)) {
                out << tcp->host << ":" << tcp->port;
            } else {
                out << line_text(std::get<SerialLine>(modbus->link));
            }
            std::size_t source_attributes = 0;
            std::size_t from_ranges = 0;
            std::string ids;
            std::map<std::string, std::size_t> by_model;  // model name -> nodes using it
            for (const auto& node : modbus->nodes) {
                source_attributes += node.attributes.size();
                if (node.from_range) ++from_ranges;
                if (node.model) ++by_model[node.model->name];
                if (modbus->nodes.size() <= kMaxListedIds)
                    ids += (ids.empty() ? "" : ", ") + node.id;
            }
            // Many nodes: the first and last id rather than every one.
            if (modbus->nodes.size() > kMaxListedIds) {
                ids = modbus->nodes.front().id + " .. " + modbus->nodes.back().id;
            }
            if (from_ranges > 0) ids += "; " + std::to_string(from_ranges) + " from unit ranges";
            out << ", timeout " << format_duration(modbus->timeout) << ", ";
            const auto* tcp = std::get_if<ModbusTcpEndpoint>(&modbus->link);
            if (tcp != nullptr && tcp->framing == TcpFraming::rtu) out << "RTU frames over TCP, ";
            if (tcp != nullptr && tcp->max_in_flight > 1) {
                out << tcp->max_in_flight << " requests in flight, ";
            }
            out << plural(modbus->nodes.size(), "node") << " (" << ids << "), "
                << plural(source_attributes, "attribute") << "\n";
            if (!by_model.empty()) {
                out << "  models:";
                const char* separator = " ";
                for (const auto& [name, count] : by_model) {
                    out << separator << name << " (" << plural(count, "node") << ")";
                    separator = ", ";
                }
                out << "\n";
            }
        } else {
            const auto& serial = std::get<SerialNodesSourceConfig>(source.settings);
            out << line_text(serial.line) << ", format " << format_name(serial.format)
                << ", nodes as they report";
            if (serial.poll) out << ", polled every " << format_duration(serial.poll->every);
            out << "\n";
            if (serial.model || !serial.node_models.empty()) {
                out << "  models:";
                const char* separator = " ";
                for (const NodeSchema& schema : serial.node_models) {
                    out << separator << schema.model->name << " (nodes " << schema.nodes << ")";
                    separator = ", ";
                }
                if (serial.model) out << separator << serial.model->name << " (other nodes)";
                out << "\n";
            }
        }
    }
    std::size_t replaced = 0;
    for (const ModelRef& model : config.models) replaced += model->replaced.empty() ? 0 : 1;
    if (!config.models.empty()) {
        out << plural(config.models.size(), "model") << " known";
        if (replaced > 0) out << ", " << replaced << " defined more than once (the last wins)";
        out << "\n";
    }
    for (const ModelRef& model : config.models) {
        if (model->replaced.empty()) continue;
        out << "model " << model->name << ": " << place(model->where) << " wins over";
        for (auto it = model->replaced.rbegin(); it != model->replaced.rend(); ++it) {
            out << (it == model->replaced.rbegin() ? " " : ", ") << place(*it);
        }
        out << "\n";
    }
    for (const auto& rule : config.mappings) {
        out << "rule " << rule.name << ": " << topic_pattern(rule.topic, config.gateway) << " ("
            << (rule.payload == PayloadForm::value ? "value" : "json") << ", qos " << rule.qos
            << (rule.retain ? ", retained" : "") << ", " << policy_text(rule) << ")";
        if (!rule.availability_topic.empty()) {
            out << ", availability " << topic_pattern(rule.availability_topic, config.gateway);
        }
        if (!rule.command_topic.empty()) {
            out << ", commands " << topic_pattern(rule.command_topic, config.gateway);
        }
        if (config.homeassistant && !rule.homeassistant) out << ", not in Home Assistant";
        out << "\n";
    }
    describe_write_back(config, out);
    if (config.homeassistant) {
        out << "Home Assistant discovery: " << config.homeassistant->discovery_prefix << " ("
            << (config.homeassistant->mode == DiscoveryMode::device ? "device" : "entity")
            << " mode), status topic " << config.homeassistant->status_topic
            << "; --show-discovery prints the messages\n";
    } else {
        out << "Home Assistant discovery off\n";
    }
    if (const auto& http = config.http) {
        const bool v6 = http->address.find(':') != std::string::npos;
        out << "http: status page, /api/ and /metrics on "
            << (http->tls_cert_file.empty() ? "http://" : "https://")
            << (v6 ? "[" + http->address + "]" : http->address) << ":" << http->port << "/"
            << (http->metrics_readings ? " (metrics with readings)" : "") << "\n";
        out << "http tls: "
            << (http->tls_cert_file.empty() ? "off (plain HTTP)"
                                            : "HTTPS, certificate " + http->tls_cert_file)
            << "\n";
        if (!http->username.empty()) {
            out << "http login: user " << http->username << ", password: "
                << (http->password_file.empty()
                        ? "(from systemd credential " + http->password_credential + ")"
                        : "(from file " + http->password_file + ")")
                << "\n";
        }
    } else {
        out << "http off\n";
    }
    return out.str();
}

}  // namespace nodebridge
