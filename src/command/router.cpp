// CommandRouter: command topic -> target, and the checks a command passes before any write.

#include <cmath>

#include "nodebridge/command.hpp"

namespace nodebridge {

std::string check_command_value(const ModbusAttribute& attribute, const std::string& node,
                                const Value& value) {
    const std::string name = "attribute " + attribute.name + " of node " + node;
    if (attribute.type == ModbusType::boolean) {
        if (!std::holds_alternative<bool>(value))
            return name + " takes true or false, not a number";
        return "";
    }
    if (attribute.type == ModbusType::string) return name + " cannot be written";
    const double* number = std::get_if<double>(&value);
    if (number == nullptr) {
        return name + " takes a number, not " + (std::get<bool>(value) ? "true" : "false");
    }
    const double v = *number;
    if (!std::isfinite(v)) return "value is not a finite number";
    if (attribute.min && v < *attribute.min) {
        return "value " + number_text(v) + " is below min " + number_text(*attribute.min);
    }
    if (attribute.max && v > *attribute.max) {
        return "value " + number_text(v) + " is above max " + number_text(*attribute.max);
    }
    if (!attribute.min || !attribute.max) return name + " has no min and max";  // not loadable
    if (!attribute.allowed.empty()) {
        bool found = false;
        std::string list;
        for (double allowed : attribute.allowed) {
            found |= allowed == v;
            list += (list.empty() ? "" : ", ") + number_text(allowed);
        }
        if (!found) return "value " + number_text(v) + " is not one of the allowed values " + list;
    }
    if (is_integer(attribute.type)) {
        const double raw = (v - attribute.offset) / attribute.scale;
        const double whole = std::round(raw);
        if (!std::isfinite(raw) || std::fabs(raw - whole) > 1e-9 * std::fmax(1.0, std::fabs(raw))) {
            if (attribute.scale == 1.0 && attribute.offset == 0.0) {
                return "value " + number_text(v) + " is not a whole number";
            }
            return "value " + number_text(v) + " is not a whole number of steps of " +
                   number_text(attribute.scale) + " from " + number_text(attribute.offset);
        }
    }
    return "";
}

CommandRouter::CommandRouter(const Config& config) : targets_(command_targets(config)) {
    index_.reserve(targets_.size());
    for (std::size_t i = 0; i < targets_.size(); ++i) index_.emplace(targets_[i].topic, i);
}

std::vector<std::string> CommandRouter::topics() const {
    std::vector<std::string> topics;
    topics.reserve(targets_.size());
    for (const CommandTarget& target : targets_) topics.push_back(target.topic);
    return topics;
}

std::variant<WriteCommand, CommandRejection> CommandRouter::route(std::string_view topic,
                                                                  std::string_view payload,
                                                                  bool retained) const {
    const auto found = index_.find(std::string(topic));
    if (found == index_.end()) return CommandRejection{{}, "not a command topic"};
    const CommandTarget& target = targets_[found->second];
    if (retained) return CommandRejection{target.reply_topic, "retained commands are ignored"};
    if (!target.attribute.writable) {
        return CommandRejection{
            target.reply_topic,
            "attribute " + target.attribute.name + " of node " + target.node + " is not writable"};
    }
    auto parsed = parse_command_payload(payload);
    if (auto* reason = std::get_if<std::string>(&parsed)) {
        return CommandRejection{target.reply_topic, std::move(*reason)};
    }
    Value value = std::get<Value>(std::move(parsed));
    if (std::string reason = check_command_value(target.attribute, target.node, value);
        !reason.empty()) {
        return CommandRejection{target.reply_topic, std::move(reason)};
    }
    return WriteCommand{
        .source = target.source,
        .node = target.node,
        .attribute = target.attribute.name,
        .value = std::move(value),
        .reply_topic = target.reply_topic,
        .rule = target.rule,
    };
}

}  // namespace nodebridge
