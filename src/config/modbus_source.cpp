// modbus-tcp and modbus-rtu sources: endpoint, nodes, attributes and their register ranges.

#include <algorithm>
#include <map>

#include "sections.hpp"

namespace nodebridge {

std::uint16_t ModbusAttribute::width() const {
    switch (type) {
        case ModbusType::boolean:
        case ModbusType::int16:
        case ModbusType::uint16:
            return 1;
        case ModbusType::int32:
        case ModbusType::uint32:
        case ModbusType::float32:
            return 2;
        case ModbusType::int64:
        case ModbusType::uint64:
        case ModbusType::float64:
            return 4;
        case ModbusType::string:
            return length;
    }
    return 1;
}

namespace config_detail {
namespace {

constexpr long long kMaxAddress = 65535;
constexpr long long kMaxStringRegisters = 125;  // one read request
constexpr long long kMaxGap = 2000;
constexpr int kMaxRound = 15;

bool is_bit_table(ModbusTable table) {
    return table == ModbusTable::coil || table == ModbusTable::discrete;
}

std::string table_name(ModbusTable table) {
    switch (table) {
        case ModbusTable::coil:
            return "coil";
        case ModbusTable::discrete:
            return "discrete";
        case ModbusTable::input:
            return "input";
        case ModbusTable::holding:
            return "holding";
    }
    return "?";
}

std::string type_name(ModbusType type) {
    switch (type) {
        case ModbusType::boolean:
            return "bool";
        case ModbusType::int16:
            return "int16";
        case ModbusType::uint16:
            return "uint16";
        case ModbusType::int32:
            return "int32";
        case ModbusType::uint32:
            return "uint32";
        case ModbusType::int64:
            return "int64";
        case ModbusType::uint64:
            return "uint64";
        case ModbusType::float32:
            return "float32";
        case ModbusType::float64:
            return "float64";
        case ModbusType::string:
            return "string";
    }
    return "?";
}

std::string range_text(const ModbusAttribute& attribute) {
    const long long first = attribute.address;
    const long long last = first + attribute.width() - 1;
    return table_name(attribute.table) + " " + std::to_string(first) +
           (last != first ? ".." + std::to_string(last) : "");
}

std::optional<ModbusAttribute> read_attribute(const MapReader::Item& item, const Context& ctx) {
    ModbusAttribute attribute;
    attribute.name = item.key;
    attribute.where = item.key_where;
    if (!check_name(item.key, "attribute name", item.key_where, ctx)) return std::nullopt;
    MapReader map(item.value, ctx, "attribute '" + shown(item.key) + "'");
    if (!map.is_map()) return std::nullopt;

    bool ok = true;
    map.choice<ModbusTable>("table",
                            {{"coil", ModbusTable::coil},
                             {"discrete", ModbusTable::discrete},
                             {"input", ModbusTable::input},
                             {"holding", ModbusTable::holding}},
                            attribute.table);
    // Bits are booleans; registers are 16-bit unsigned unless said otherwise.
    attribute.type = is_bit_table(attribute.table) ? ModbusType::boolean : ModbusType::uint16;
    const bool type_given = map.find("type").has_value();
    if (type_given) {
        ok &= map.choice<ModbusType>("type",
                                     {{"bool", ModbusType::boolean},
                                      {"int16", ModbusType::int16},
                                      {"uint16", ModbusType::uint16},
                                      {"int32", ModbusType::int32},
                                      {"uint32", ModbusType::uint32},
                                      {"int64", ModbusType::int64},
                                      {"uint64", ModbusType::uint64},
                                      {"float32", ModbusType::float32},
                                      {"float64", ModbusType::float64},
                                      {"string", ModbusType::string}},
                                     attribute.type);
    }
    const bool address_ok = map.integer("address", 0, kMaxAddress, attribute.address, true);
    const bool length_given = map.find("length").has_value();
    map.integer("length", 1, kMaxStringRegisters, attribute.length);
    map.choice<WordOrder>("word_order", {{"big", WordOrder::big}, {"little", WordOrder::little}},
                          attribute.word_order);
    map.boolean("byte_swap", attribute.byte_swap);
    const bool scale_given = map.number("scale", attribute.scale);
    const bool offset_given = map.number("offset", attribute.offset);
    long long round = 0;
    if (map.integer("round", 0, kMaxRound, round)) attribute.round = static_cast<int>(round);
    map.text("unit", attribute.unit);
    map.finish();

    const bool numeric =
        attribute.type != ModbusType::boolean && attribute.type != ModbusType::string;
    if (is_bit_table(attribute.table) && attribute.type != ModbusType::boolean && type_given) {
        ctx.error(map.value_position("type"), "type: a " + table_name(attribute.table) +
                                                  " attribute must have type bool, got " +
                                                  type_name(attribute.type));
        ok = false;
    }
    if (is_bit_table(attribute.table)) {
        for (const char* key : {"word_order", "byte_swap"}) {
            if (map.find(key)) {
                ctx.error(map.key_position(key), std::string(key) + ": does not apply to a " +
                                                     table_name(attribute.table) + " attribute");
            }
        }
    }
    if (attribute.type == ModbusType::string && !length_given && type_given) {
        ctx.error(map.where(), "missing required key 'length' in attribute '" + shown(item.key) +
                                   "' (registers of the string)");
        ok = false;
    }
    if (attribute.type != ModbusType::string && length_given) {
        ctx.error(map.key_position("length"), "length: only applies to type string");
    }
    if (!numeric) {
        const std::string what = type_name(attribute.type);
        if (scale_given)
            ctx.error(map.key_position("scale"), "scale: does not apply to type " + what);
        if (offset_given) {
            ctx.error(map.key_position("offset"), "offset: does not apply to type " + what);
        }
        if (map.find("round")) {
            ctx.error(map.key_position("round"), "round: does not apply to type " + what);
        }
    } else if (scale_given && attribute.scale == 0.0) {
        ctx.error(map.value_position("scale"), "scale: must not be 0");
    }
    if (!ok || !address_ok || attribute.width() == 0) return std::nullopt;
    const long long last = static_cast<long long>(attribute.address) + attribute.width() - 1;
    if (last > kMaxAddress) {
        ctx.error(map.value_position("address"), "address: " + type_name(attribute.type) + " at " +
                                                     std::to_string(attribute.address) + " needs " +
                                                     std::to_string(attribute.width()) +
                                                     " registers and runs past 65535");
        return std::nullopt;
    }
    return attribute;
}

// Two attributes of one node must not share a register (or bit) of the same table.
void check_overlaps(const ModbusNode& node, const Context& ctx) {
    std::vector<std::size_t> order(node.attributes.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    const auto& attrs = node.attributes;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (attrs[a].table != attrs[b].table) return attrs[a].table < attrs[b].table;
        return attrs[a].address < attrs[b].address;
    });
    std::optional<std::size_t> reach;  // the attribute reaching furthest in the current table
    for (std::size_t k = 0; k < order.size(); ++k) {
        const ModbusAttribute& current = attrs[order[k]];
        const long long end = static_cast<long long>(current.address) + current.width() - 1;
        if (reach && attrs[*reach].table == current.table) {
            const ModbusAttribute& other = attrs[*reach];
            const long long other_end = static_cast<long long>(other.address) + other.width() - 1;
            if (current.address <= other_end) {
                // Report at whichever of the two comes later in the file.
                const bool current_later = order[k] > *reach;
                const ModbusAttribute& later = current_later ? current : other;
                const ModbusAttribute& earlier = current_later ? other : current;
                ctx.error(later.where, "attribute '" + shown(later.name) + "' (" +
                                           range_text(later) + ") overlaps '" +
                                           shown(earlier.name) + "' (" + range_text(earlier) +
                                           ") in node '" + shown(node.id) + "'");
            }
            if (end > other_end) reach = order[k];
        } else {
            reach = order[k];
        }
    }
}

std::optional<ModbusNode> read_node(const YAML::Node& item, std::size_t index, bool tcp,
                                    const Context& ctx) {
    std::string label = "node #" + std::to_string(index + 1);
    if (auto id = peek_text(item, "id")) label = "node '" + shown(*id) + "'";
    MapReader map(item, ctx, label);
    if (!map.is_map()) return std::nullopt;
    ModbusNode node;
    node.where = map.where();
    bool ok = true;
    if (map.text("id", node.id, true)) {
        ok &= check_name(node.id, "id", map.value_position("id"), ctx);
    } else {
        ok = false;
    }
    if (map.integer("unit", 0, 255, node.unit)) {
        const bool valid = node.unit <= 247 || (tcp && node.unit == 255);
        if (!valid) {
            ctx.error(map.value_position("unit"), "unit: " + std::to_string(node.unit) +
                                                      " is not a valid unit id (0..247" +
                                                      (tcp ? ", or 255" : "") + ")");
        }
    }
    map.duration("poll", node.poll);
    Millis offline_after{0};
    if (map.duration("offline_after", offline_after)) {
        node.offline_after = offline_after;
        if (offline_after <= node.poll) {
            ctx.error(map.value_position("offline_after"),
                      "offline_after: must be longer than the node's poll (" +
                          format_duration(node.poll) + ")");
        }
    }
    if (auto attributes = map.require("attributes")) {
        MapReader attribute_map(*attributes, ctx, "attributes of " + label);
        if (attribute_map.is_map()) {
            auto items = attribute_map.items();
            if (items.empty()) {
                ctx.error(attribute_map.where(), "attributes: " + label + " has no attributes");
            }
            for (const auto& attribute_item : items) {
                if (auto attribute = read_attribute(attribute_item, ctx)) {
                    node.attributes.push_back(std::move(*attribute));
                }
            }
        }
    }
    map.finish();
    check_overlaps(node, ctx);
    if (!ok) return std::nullopt;
    return node;
}

}  // namespace

void read_modbus_source(MapReader& map, const std::string& type, ModbusSourceConfig& out) {
    const Context& ctx = map.context();
    const bool tcp = type == "modbus-tcp";
    if (tcp) {
        ModbusTcpEndpoint endpoint;
        if (map.text("host", endpoint.host, true) && endpoint.host.empty()) {
            ctx.error(map.value_position("host"), "host: must not be empty");
        }
        map.integer("port", 1, 65535, endpoint.port);
        out.link = endpoint;
    } else {
        SerialLine line;
        read_serial_line(map, line);
        out.link = line;
    }
    map.duration("timeout", out.timeout);
    map.integer("max_gap", 0, kMaxGap, out.max_gap);
    Millis offline_after{0};
    if (map.duration("offline_after", offline_after)) out.offline_after = offline_after;

    auto nodes = map.require("nodes");
    if (!nodes) return;
    if (!nodes->IsSequence()) {
        ctx.error(map.value_position("nodes"),
                  "nodes: expected a list of nodes, got " + describe_value(*nodes));
        return;
    }
    if (nodes->size() == 0) {
        ctx.error(map.value_position("nodes"), "nodes: a source needs at least one node");
        return;
    }
    if (!ctx.diag->spend(nodes->size(), map.value_position("nodes"))) return;
    std::map<std::string, Position> first_ids;
    std::size_t index = 0;
    for (const auto& item : *nodes) {
        auto node = read_node(item, index++, tcp, ctx);
        if (!node) continue;
        auto [it, inserted] = first_ids.emplace(node->id, node->where);
        if (!inserted) {
            ctx.error(node->where, "duplicate node id '" + shown(node->id) + "' in " + map.what() +
                                       " (first at " + place_from(it->second, ctx.file) + ")");
            continue;
        }
        if (out.offline_after && !node->offline_after && *out.offline_after <= node->poll) {
            ctx.error(map.value_position("offline_after"),
                      "offline_after: must be longer than the poll of node '" + shown(node->id) +
                          "' (" + format_duration(node->poll) + ")");
        }
        out.nodes.push_back(std::move(*node));
    }
}

}  // namespace config_detail
}  // namespace nodebridge
