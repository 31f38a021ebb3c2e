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

bool selects(const MappingRule& rule, std::string_view attribute) {
    if (rule.attributes.empty()) return true;
    for (const std::string& pattern : rule.attributes) {
        if (mapping::glob_match(pattern, attribute)) return true;
    }
    return false;
}

}  // namespace

std::vector<CommandTarget> command_targets(const Config& config,
                                           std::vector<CommandTarget>* shadowed) {
    std::vector<CommandTarget> targets;
    std::unordered_set<std::string> seen;
    std::size_t topic_bytes = 0;
    std::string error;
    for (const MappingRule& rule : config.mappings) {
        if (rule.command_topic.empty()) continue;
        auto command = TopicTemplate::parse_command(rule.command_topic, error);
        auto topic = TopicTemplate::parse(rule.topic, error);
        if (!command || !topic) continue;  // a loaded Config has valid templates
        const bool per_attribute = topic->uses(TopicField::attribute);
        const mapping::Glob source_glob(rule.match_source);
        const mapping::Glob node_glob(rule.match_node);
        for (const SourceConfig& source : config.sources) {
            const auto* modbus = std::get_if<ModbusSourceConfig>(&source.settings);
            if (modbus == nullptr || !source_glob.matches(source.name)) continue;
            for (const ModbusNode& node : modbus->nodes) {
                if (!node_glob.matches(node.id)) continue;
                for (const ModbusAttribute& attribute : node.attributes) {
                    if (!selects(rule, attribute.name)) continue;
                    if (targets.size() >= kMaxCommandTargets) return targets;
                    const std::string rule_topic =
                        per_attribute ? topic->expand({config.gateway, source.name, node.id,
                                                       attribute.name, attribute.unit})
                                      : topic->expand({config.gateway, source.name, node.id});
                    CommandTarget target{
                        .topic = command->expand({config.gateway, source.name, node.id,
                                                  attribute.name, attribute.unit, rule_topic}),
                        .reply_topic = {},
                        .rule = rule.name,
                        .source = source.name,
                        .node = node.id,
                        .attribute = attribute,
                    };
                    if (target.topic.size() + kResultSuffix.size() > kMaxTopicBytes) continue;
                    topic_bytes += target.topic.size();
                    if (topic_bytes > kMaxCommandTopicBytes) return targets;
                    target.reply_topic = target.topic + kResultSuffix;
                    if (!seen.insert(target.topic).second) {
                        if (shadowed != nullptr) shadowed->push_back(std::move(target));
                        continue;
                    }
                    targets.push_back(std::move(target));
                }
            }
        }
    }
    return targets;
}

}  // namespace nodebridge
