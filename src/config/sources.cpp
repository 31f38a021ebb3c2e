// `sources:`: the list, each source's name and type, and the dispatch by type.

#include <map>

#include "sections.hpp"

namespace nodebridge::config_detail {
namespace {

const std::vector<std::string> kSourceTypes = {"modbus-tcp", "modbus-rtu", "serial-nodes"};

std::string source_label(const YAML::Node& item, std::size_t index) {
    if (auto name = peek_text(item, "name")) return "source '" + shown(*name) + "'";
    return "source #" + std::to_string(index + 1);
}

// `text` with every {index} replaced by `index` and every {host} by `host`.
std::string fill_endpoint(std::string text, std::size_t index, const std::string& host) {
    for (const auto& [field, value] :
         {std::pair<std::string, std::string>{"{index}", std::to_string(index)},
          {"{host}", host}}) {
        for (auto at = text.find(field); at != std::string::npos; at = text.find(field, at)) {
            text.replace(at, field.size(), value);
            at += value.size();
        }
    }
    return text;
}

// One source per endpoint of a `hosts:` entry: the name and the node ids with {index} (1, 2,
// ... in the order of `hosts`) and {host} filled in.
std::vector<SourceConfig> expand_hosts(const SourceConfig& entry,
                                       const std::vector<ModbusTcpEndpoint>& hosts) {
    std::vector<SourceConfig> out;
    out.reserve(hosts.size());
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        SourceConfig source = entry;
        source.name = fill_endpoint(entry.name, i + 1, hosts[i].host);
        auto& settings = std::get<ModbusSourceConfig>(source.settings);
        settings.link = hosts[i];
        for (ModbusNode& node : settings.nodes)
            node.id = fill_endpoint(node.id, i + 1, hosts[i].host);
        out.push_back(std::move(source));
    }
    return out;
}

std::vector<SourceConfig> read_source(const YAML::Node& item, std::size_t index,
                                      const Context& ctx) {
    MapReader map(item, ctx, source_label(item, index));
    if (!map.is_map()) return {};
    SourceConfig source;
    source.where = map.where();
    if (map.text("name", source.name, true)) {
        check_name(source.name, "name", map.value_position("name"), ctx);
    }
    if (!map.text("type", source.type, true)) {
        // Without a type the other keys mean nothing; one error is enough.
        map.accept_all();
        return {};
    }
    std::vector<ModbusTcpEndpoint> hosts;
    if (source.type == "modbus-tcp" || source.type == "modbus-rtu") {
        ModbusSourceConfig settings;
        read_modbus_source(map, source.type, settings, &hosts);
        source.settings = std::move(settings);
        if (!hosts.empty() && source.name.find("{index}") == std::string::npos &&
            source.name.find("{host}") == std::string::npos) {
            ctx.error(map.value_position("name"),
                      "name: a source with hosts needs {index} or {host} in its name, so each "
                      "endpoint's source has a name of its own (e.g. pdu-{index})");
            hosts.clear();
        }
    } else if (source.type == "serial-nodes") {
        SerialNodesSourceConfig settings;
        read_serial_nodes_source(map, settings);
        source.settings = std::move(settings);
    } else {
        ctx.error(map.value_position("type"), "type: unknown source type '" + shown(source.type) +
                                                  "'" + did_you_mean(source.type, kSourceTypes) +
                                                  ", expected " + join_choices(kSourceTypes));
        map.accept_all();
        return {};
    }
    map.finish();
    if (!hosts.empty()) return expand_hosts(source, hosts);
    return {std::move(source)};
}

}  // namespace

bool check_name(const std::string& name, std::string_view key, const Position& where,
                const Context& ctx) {
    if (name.empty()) {
        ctx.error(where, std::string(key) + ": must not be empty");
        return false;
    }
    if (name.size() > kMaxNameBytes) {
        ctx.error(where,
                  std::string(key) + ": longer than " + std::to_string(kMaxNameBytes) + " bytes");
        return false;
    }
    for (char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            ctx.error(where, std::string(key) + ": must not contain control characters");
            return false;
        }
    }
    return true;
}

bool check_attribute_name_free(const std::string& name, std::string_view key, const Position& where,
                               const Context& ctx) {
    if (name != "node" && name != "ts") return true;
    ctx.error(where, std::string(key) + ": '" + name +
                         "' is a key every per-node JSON message already has (\"node\" and "
                         "\"ts\"); an attribute of that name would give it twice, so choose "
                         "another name");
    return false;
}

std::string place_from(const Position& where, const std::string& file) {
    std::string at = std::to_string(where.line) + ":" + std::to_string(where.column);
    return where.file == file ? at : where.file + ":" + at;
}

void read_sources(const YAML::Node& node, const Context& ctx, std::vector<SourceConfig>& out) {
    if (!node.IsSequence()) {
        ctx.error(position_of(node, ctx), "sources: expected a list, got " + describe_value(node));
        return;
    }
    if (!ctx.diag->spend(node.size(), position_of(node, ctx))) return;
    std::size_t index = 0;
    for (const auto& item : node) {
        for (SourceConfig& source : read_source(item, index, ctx)) out.push_back(std::move(source));
        ++index;
    }
}

void check_sources_across_files(const std::vector<SourceConfig>& sources, Diagnostics& diag) {
    std::map<std::string, const SourceConfig*> first;
    for (const auto& source : sources) {
        if (source.name.empty()) continue;
        auto [it, inserted] = first.emplace(source.name, &source);
        if (!inserted) {
            diag.error(source.where, "duplicate source name '" + shown(source.name) +
                                         "' (first defined at " +
                                         place_from(it->second->where, source.where.file) + ")");
        }
    }
}

}  // namespace nodebridge::config_detail
