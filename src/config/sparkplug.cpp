// `sparkplug:`: the Sparkplug B edge node's identity (docs/sparkplug.md). The ids become
// topic levels (Sparkplug 3.0.0, chapter 4, "Topic Namespace Elements": group_id, edge_node_id
// and device_id are UTF-8 strings without '+', '/' or '#').

#include "glob.hpp"
#include "sections.hpp"

namespace nodebridge::config_detail {
namespace {

// Reports at `where` and returns false when `id` is not usable as a Sparkplug id.
bool check_id(const std::string& id, std::string_view key, const Position& where,
              const Context& ctx) {
    if (id.empty()) {
        ctx.error(where, std::string(key) + ": must not be empty");
        return false;
    }
    if (id.find_first_of("/+#") != std::string::npos) {
        ctx.error(where, std::string(key) +
                             ": must not contain '/', '+' or '#' (Sparkplug ids are topic levels)");
        return false;
    }
    return check_name(id, key, where, ctx);
}

}  // namespace

void read_sparkplug(const YAML::Node& node, const Context& ctx, const std::string& gateway,
                    std::optional<SparkplugConfig>& out) {
    if (node.IsNull() || (node.IsScalar() && node.Scalar() == "false")) return;
    MapReader map(node, ctx, "sparkplug");
    if (!map.is_map()) return;
    SparkplugConfig config;
    config.where = map.where();
    if (map.text("group_id", config.group_id, true)) {
        check_id(config.group_id, "group_id", map.value_position("group_id"), ctx);
    }
    config.edge_node_id = gateway;
    if (map.text("edge_node_id", config.edge_node_id)) {
        check_id(config.edge_node_id, "edge_node_id", map.value_position("edge_node_id"), ctx);
    }
    if (map.text("primary_host_id", config.primary_host_id)) {
        check_id(config.primary_host_id, "primary_host_id", map.value_position("primary_host_id"),
                 ctx);
    }
    std::string rules = "marked";
    if (map.text("rules", rules)) {
        if (rules == "all") {
            config.all_rules = true;
        } else if (rules != "marked") {
            ctx.error(
                map.value_position("rules"),
                "rules: expected 'all' (every rule) or 'marked' (rules with sparkplug: true)");
        }
    }
    map.finish();
    out = std::move(config);
}

}  // namespace nodebridge::config_detail

namespace nodebridge::config_detail {

void check_sparkplug_devices(const Config& config, Diagnostics& diag) {
    if (!config.sparkplug) return;
    for (const MappingRule& rule : config.mappings) {
        if (!rule.sparkplug && !config.sparkplug->all_rules) continue;
        for (const SourceConfig& source : config.sources) {
            if (!mapping::glob_match(rule.match_source, source.name)) continue;
            const auto* modbus = std::get_if<ModbusSourceConfig>(&source.settings);
            if (modbus == nullptr) continue;
            for (const ModbusNode& node : modbus->nodes) {
                if (!mapping::glob_match(rule.match_node, node.id)) continue;
                if (node.id.find_first_of("/+#") != std::string::npos) {
                    diag.error(node.where, "node '" + node.id +
                                               "': a Sparkplug device id must not contain '/', "
                                               "'+' or '#' (rule '" +
                                               rule.name + "' has sparkplug on)");
                }
            }
        }
    }
}

}  // namespace nodebridge::config_detail
