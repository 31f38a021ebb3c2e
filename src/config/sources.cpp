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

std::optional<SourceConfig> read_source(const YAML::Node& item, std::size_t index,
                                        const Context& ctx) {
    MapReader map(item, ctx, source_label(item, index));
    if (!map.is_map()) return std::nullopt;
    SourceConfig source;
    source.where = map.where();
    if (map.text("name", source.name, true)) {
        check_name(source.name, "name", map.value_position("name"), ctx);
    }
    if (!map.text("type", source.type, true)) {
        // Without a type the other keys mean nothing; one error is enough.
        map.accept_all();
        return std::nullopt;
    }
    if (source.type == "modbus-tcp" || source.type == "modbus-rtu") {
        ModbusSourceConfig settings;
        read_modbus_source(map, source.type, settings);
        source.settings = std::move(settings);
    } else if (source.type == "serial-nodes") {
        SerialNodesSourceConfig settings;
        read_serial_nodes_source(map, settings);
        source.settings = std::move(settings);
    } else {
        ctx.error(map.value_position("type"), "type: unknown source type '" + shown(source.type) +
                                                  "'" + did_you_mean(source.type, kSourceTypes) +
                                                  ", expected " + join_choices(kSourceTypes));
        map.accept_all();
        return std::nullopt;
    }
    map.finish();
    return source;
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

bool check_attribute_name_free(const std::string& name, std::string_view key,
                               const Position& where, const Context& ctx) {
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
        if (auto source = read_source(item, index, ctx)) out.push_back(std::move(*source));
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
