// command_targets(): every command topic of a Config, shared by the CommandRouter and
// --check-config so both list exactly the same topics.

#include <unordered_set>

#include "glob.hpp"
#include "nodebridge/command.hpp"
#include "nodebridge/topic_template.hpp"

namespace nodebridge {
namespace {

constexpr std::size_t kMaxTopicBytes = 65535;
const std::string kResultSuffix = "/result";

// A rule's templates, parsed once, and its match.
struct RuleView {
    const MappingRule& rule;
    TopicTemplate topic;
    std::optional<TopicTemplate> availability;
    mapping::Glob source;
    mapping::Glob node;

    bool selects(std::string_view attribute) const {
        if (rule.attributes.empty()) return true;
        for (const std::string& pattern : rule.attributes) {
            if (mapping::glob_match(pattern, attribute)) return true;
        }
        return false;
    }

    // The rule's topic for one attribute (per-attribute rules) or the node (per-node rules).
    std::string topic_for(const std::string& gateway, const std::string& source_name,
                          const ModbusNode& node_config, const ModbusAttribute& attribute) const {
        if (topic.uses(TopicField::attribute)) {
            return topic.expand(
                {gateway, source_name, node_config.id, attribute.name, attribute.unit});
        }
        return topic.expand({gateway, source_name, node_config.id});
    }
};

// The attributes looked at in all, selected or not: bounds the work of a config with very
// many rules and attributes.
constexpr std::size_t kMaxVisits = 16u << 20;

// Calls `visit(source, node, attribute)` for each Modbus attribute `rule` selects, until
// `visit` returns false. Returns false when the visit budget `visits_left` ran out.
template <typename Visit>
bool for_each_selected(const Config& config, const RuleView& rule, std::size_t& visits_left,
                       Visit&& visit) {
    for (const SourceConfig& source : config.sources) {
        const auto* modbus = std::get_if<ModbusSourceConfig>(&source.settings);
        if (modbus == nullptr || !rule.source.matches(source.name)) continue;
        for (const ModbusNode& node : modbus->nodes) {
            if (!rule.node.matches(node.id)) continue;
            if (node.attributes.size() > visits_left) return false;
            visits_left -= node.attributes.size();
            for (const ModbusAttribute& attribute : node.attributes) {
                if (rule.selects(attribute.name) && !visit(source, node, attribute)) return true;
            }
        }
    }
    return true;
}

// Adds `topic` to `topics` while the byte budget lasts; false once it is spent.
bool add_bounded(std::unordered_set<std::string>& topics, std::string topic, std::size_t& bytes) {
    bytes += topic.size();
    if (bytes > kMaxCommandTopicBytes) return false;
    topics.insert(std::move(topic));
    return true;
}

}  // namespace

std::vector<CommandTarget> command_targets(const Config& config,
                                           std::vector<CommandTarget>* shadowed) {
    bool any_command_topic = false;
    for (const MappingRule& rule : config.mappings)
        any_command_topic |= !rule.command_topic.empty();
    if (!any_command_topic) return {};

    std::vector<RuleView> rules;
    std::string error;
    for (const MappingRule& rule : config.mappings) {
        auto topic = TopicTemplate::parse(rule.topic, error);
        if (!topic) continue;  // a loaded Config has valid templates
        RuleView view{rule, std::move(*topic), std::nullopt, mapping::Glob(rule.match_source),
                      mapping::Glob(rule.match_node)};
        if (!rule.availability_topic.empty()) {
            view.availability = TopicTemplate::parse(rule.availability_topic, error);
        }
        rules.push_back(std::move(view));
    }

    // What the bridge itself publishes for its Modbus nodes: a command topic (or its result
    // topic) there would make it take its own messages for commands, or overwrite readings.
    // A config too large to check within the bounds gets no targets at all (fails closed).
    std::unordered_set<std::string> published{config.mqtt.health.topic, config.stats.topic};
    std::size_t published_bytes = 0;
    std::size_t visits_left = kMaxVisits;
    for (const RuleView& rule : rules) {
        bool bytes_left = true;
        const bool visits_ok = for_each_selected(
            config, rule, visits_left,
            [&](const SourceConfig& source, const ModbusNode& node,
                const ModbusAttribute& attribute) {
                bytes_left = add_bounded(
                    published, rule.topic_for(config.gateway, source.name, node, attribute),
                    published_bytes);
                if (bytes_left && rule.availability) {
                    bytes_left = add_bounded(
                        published,
                        rule.availability->expand({config.gateway, source.name, node.id}),
                        published_bytes);
                }
                return bytes_left;
            });
        if (!visits_ok || !bytes_left) return {};
    }

    std::vector<CommandTarget> targets;
    std::unordered_set<std::string> seen;
    std::size_t topic_bytes = 0;
    for (const RuleView& rule : rules) {
        if (rule.rule.command_topic.empty()) continue;
        auto command = TopicTemplate::parse_command(rule.rule.command_topic, error);
        if (!command) continue;
        bool full = false;
        const bool visits_ok = for_each_selected(
            config, rule, visits_left,
            [&](const SourceConfig& source, const ModbusNode& node,
                const ModbusAttribute& attribute) {
                if (targets.size() >= kMaxCommandTargets) {
                    full = true;
                    return false;
                }
                const std::string rule_topic =
                    rule.topic_for(config.gateway, source.name, node, attribute);
                CommandTarget target{
                    .topic = command->expand({config.gateway, source.name, node.id, attribute.name,
                                              attribute.unit, rule_topic}),
                    .reply_topic = {},
                    .rule = rule.rule.name,
                    .source = source.name,
                    .node = node.id,
                    .attribute = attribute,
                };
                if (target.topic.size() + kResultSuffix.size() > kMaxTopicBytes) return true;
                topic_bytes += target.topic.size();
                if (topic_bytes > kMaxCommandTopicBytes) {
                    full = true;
                    return false;
                }
                target.reply_topic = target.topic + kResultSuffix;
                if (published.count(target.topic) != 0 ||
                    published.count(target.reply_topic) != 0 || !seen.insert(target.topic).second) {
                    if (shadowed != nullptr) shadowed->push_back(std::move(target));
                    return true;
                }
                targets.push_back(std::move(target));
                return true;
            });
        if (full || !visits_ok) break;
    }
    return targets;
}

}  // namespace nodebridge
