// describe(): the summary --check-config prints for a valid config. Never prints secrets.

#include <sstream>

#include "sections.hpp"

namespace nodebridge {
namespace {

using config_detail::format_duration;

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
    for (const auto& source : config.sources) {
        out << "source " << source.name << ": " << source.type << " ";
        if (const auto* modbus = std::get_if<ModbusSourceConfig>(&source.settings)) {
            if (const auto* tcp = std::get_if<ModbusTcpEndpoint>(&modbus->link)) {
                out << tcp->host << ":" << tcp->port;
            } else {
                out << line_text(std::get<SerialLine>(modbus->link));
            }
            std::size_t source_attributes = 0;
            std::string ids;
            for (const auto& node : modbus->nodes) {
                source_attributes += node.attributes.size();
                ids += (ids.empty() ? "" : ", ") + node.id;
            }
            out << ", timeout " << format_duration(modbus->timeout) << ", "
                << plural(modbus->nodes.size(), "node") << " (" << ids << "), "
                << plural(source_attributes, "attribute") << "\n";
        } else {
            const auto& serial = std::get<SerialNodesSourceConfig>(source.settings);
            out << line_text(serial.line) << ", format " << format_name(serial.format)
                << ", nodes as they report";
            if (serial.poll) out << ", polled every " << format_duration(serial.poll->every);
            out << "\n";
        }
    }
    for (const auto& rule : config.mappings) {
        out << "rule " << rule.name << ": " << topic_pattern(rule.topic, config.gateway) << " ("
            << (rule.payload == PayloadForm::value ? "value" : "json") << ", qos " << rule.qos
            << (rule.retain ? ", retained" : "") << ", " << policy_text(rule) << ")";
        if (!rule.availability_topic.empty()) {
            out << ", availability " << topic_pattern(rule.availability_topic, config.gateway);
        }
        out << "\n";
    }
    return out.str();
}

}  // namespace nodebridge
