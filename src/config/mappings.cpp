// `mappings:`: the rules that turn samples into MQTT messages.

#include <map>

#include "nodebridge/topic_template.hpp"
#include "sections.hpp"

namespace nodebridge {

bool MappingRule::per_attribute() const {
    std::string error;
    auto parsed = TopicTemplate::parse(topic, error);
    return parsed && parsed->uses(TopicField::attribute);
}

namespace config_detail {
namespace {

std::string rule_label(const YAML::Node& item, std::size_t index) {
    if (auto name = peek_text(item, "name")) return "mapping '" + shown(*name) + "'";
    return "mapping #" + std::to_string(index + 1);
}

void read_match(MapReader& rule, MappingRule& out) {
    const Context& ctx = rule.context();
    auto node = rule.find("match");
    if (!node) return;
    MapReader map(*node, ctx, "match of " + rule.what());
    for (auto [key, target] :
         {std::pair{"source", &out.match_source}, std::pair{"node", &out.match_node}}) {
        if (map.text(key, *target) && target->empty()) {
            ctx.error(map.value_position(key), std::string(key) + ": must not be empty");
        }
    }
    map.finish();
}

void read_on_change(MapReader& rule, MappingRule& out) {
    const Context& ctx = rule.context();
    auto node = rule.find("on_change");
    if (!node) return;
    if (!node->IsMap()) {
        rule.boolean("on_change", out.on_change);
        return;
    }
    MapReader map(*node, ctx, "on_change of " + rule.what());
    if (map.find("deadband")) {
        double deadband = 0;
        if (map.number("deadband", deadband)) {
            if (deadband < 0) {
                ctx.error(map.value_position("deadband"), "deadband: must not be negative");
            } else {
                out.deadband = deadband;
            }
        }
    } else {
        map.require("deadband");
    }
    out.on_change = true;
    map.finish();
}

// `command_topic`: a template with {topic} as well, that gives every attribute the rule
// selects a topic of its own, and that is never the rule's own topic (the bridge would take
// its own messages for commands).
void check_command_topic(MapReader& map, const MappingRule& rule,
                         const std::optional<TopicTemplate>& topic) {
    const Context& ctx = map.context();
    const Position where = map.value_position("command_topic");
    std::string error;
    auto command = TopicTemplate::parse_command(rule.command_topic, error);
    if (!command) {
        ctx.error(where, "command_topic: " + error);
        return;
    }
    if (!topic) return;  // the topic's own error is reported
    // What the command topic is once {topic} stands for the rule's topic template.
    const std::string field = "{topic}";
    std::size_t uses = 0;
    for (std::size_t at = rule.command_topic.find(field); at != std::string::npos;
         at = rule.command_topic.find(field, at + field.size())) {
        ++uses;
    }
    if (rule.command_topic.size() + uses * rule.topic.size() > 65535) {
        ctx.error(where, "command_topic: is longer than 65535 bytes with {topic} filled in");
        return;
    }
    std::string combined = rule.command_topic;
    for (std::size_t at = combined.find(field); at != std::string::npos;
         at = combined.find(field, at + rule.topic.size())) {
        combined.replace(at, field.size(), rule.topic);
    }
    auto expanded = TopicTemplate::parse(combined, error);
    if (!expanded) {
        ctx.error(where, "command_topic: " + error);
        return;
    }
    if (!expanded->uses(TopicField::attribute)) {
        ctx.error(where, topic->uses(TopicField::attribute)
                             ? "command_topic: needs {attribute}, in it or through {topic}, so "
                               "each attribute gets its own command topic"
                             : "command_topic: needs {attribute}: the rule's topic is per node, "
                               "so {topic} alone does not give each attribute its own command "
                               "topic");
    }
    if (!expanded->uses(TopicField::node)) {
        ctx.error(where,
                  "command_topic: needs {node}, in it or through {topic}, so each node "
                  "gets its own command topic");
    }
    if (combined == rule.topic) {
        ctx.error(where,
                  "command_topic: must differ from the topic, or the bridge would take "
                  "its own messages for commands (e.g. {topic}/set)");
    }
}

std::optional<MappingRule> read_rule(const YAML::Node& item, std::size_t index,
                                     const Context& ctx) {
    MapReader map(item, ctx, rule_label(item, index));
    if (!map.is_map()) return std::nullopt;
    MappingRule rule;
    rule.where = map.where();
    bool ok = true;
    if (map.text("name", rule.name)) {
        ok &= check_name(rule.name, "name", map.value_position("name"), ctx);
    }
    read_match(map, rule);
    if (map.text_list("attributes", rule.attributes)) {
        if (rule.attributes.empty()) {
            ctx.error(map.value_position("attributes"),
                      "attributes: an empty list selects nothing; leave the key out to select all");
        }
        for (const auto& name : rule.attributes) {
            if (name.empty()) {
                ctx.error(map.value_position("attributes"), "attributes: an entry is empty");
            }
        }
    }
    std::optional<TopicTemplate> topic;
    if (map.text("topic", rule.topic, true)) {
        std::string error;
        topic = TopicTemplate::parse(rule.topic, error);
        if (!topic) ctx.error(map.value_position("topic"), "topic: " + error);
    } else {
        ok = false;
    }
    map.choice<PayloadForm>("payload", {{"value", PayloadForm::value}, {"json", PayloadForm::json}},
                            rule.payload);
    map.integer("qos", 0, 2, rule.qos);
    map.boolean("retain", rule.retain);
    map.boolean("sparkplug", rule.sparkplug);
    read_on_change(map, rule);
    map.duration("heartbeat", rule.heartbeat);
    map.duration("min_interval", rule.min_interval);
    if (map.text("availability_topic", rule.availability_topic)) {
        std::string error;
        auto availability = TopicTemplate::parse(rule.availability_topic, error);
        if (!availability) {
            ctx.error(map.value_position("availability_topic"), "availability_topic: " + error);
        } else if (availability->uses(TopicField::attribute) ||
                   availability->uses(TopicField::unit)) {
            ctx.error(map.value_position("availability_topic"),
                      "availability_topic: only {gateway}, {source} and {node} apply (one "
                      "message per node, not per attribute)");
        }
    }
    const bool command_given = map.text("command_topic", rule.command_topic);
    map.boolean("homeassistant", rule.homeassistant);
    map.finish();

    if (command_given) check_command_topic(map, rule, topic);
    if (topic) {
        const bool per_attribute = topic->uses(TopicField::attribute);
        if (rule.payload == PayloadForm::value && !per_attribute) {
            ctx.error(map.value_position("payload"),
                      "payload: value needs {attribute} in the topic (one message per attribute)");
        }
        if (topic->uses(TopicField::unit) && !per_attribute) {
            ctx.error(map.value_position("topic"),
                      "topic: {unit} needs {attribute} in the topic as well");
        }
    }
    if (!ok) return std::nullopt;
    return rule;
}

}  // namespace

void read_mappings(const YAML::Node& node, const Context& ctx, std::vector<MappingRule>& out) {
    if (!node.IsSequence()) {
        ctx.error(position_of(node, ctx), "mappings: expected a list, got " + describe_value(node));
        return;
    }
    if (!ctx.diag->spend(node.size(), position_of(node, ctx))) return;
    std::size_t index = 0;
    for (const auto& item : node) {
        if (auto rule = read_rule(item, index, ctx)) out.push_back(std::move(*rule));
        ++index;
    }
}

void check_mappings_across_files(std::vector<MappingRule>& rules, Diagnostics& diag) {
    std::map<std::string, const MappingRule*> first;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        MappingRule& rule = rules[i];
        if (rule.name.empty()) rule.name = "rule-" + std::to_string(i + 1);
        auto [it, inserted] = first.emplace(rule.name, &rule);
        if (!inserted) {
            diag.error(rule.where, "duplicate rule name '" + shown(rule.name) +
                                       "' (first defined at " +
                                       place_from(it->second->where, rule.where.file) + ")");
        }
    }
}

}  // namespace config_detail
}  // namespace nodebridge
