// modbus-tcp and modbus-rtu sources: endpoint, nodes, attributes and their register ranges.

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <set>

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

Millis read_interval(const ModbusNode& node, const ModbusAttribute& attribute) {
    return attribute.poll.value_or(node.poll);
}

Millis fastest_interval(const ModbusNode& node) {
    if (node.attributes.empty()) return node.poll;
    Millis fastest = Millis::max();
    for (const ModbusAttribute& attribute : node.attributes) {
        fastest = std::min(fastest, read_interval(node, attribute));
    }
    return fastest;
}

namespace config_detail {
namespace {

constexpr long long kMaxAddress = 65535;
constexpr long long kMaxStringRegisters = 125;  // one read request
constexpr long long kMaxGap = 2000;
constexpr int kMaxRound = 15;
constexpr int kMaxRetries = 10;
// Requests outstanding on one Modbus TCP connection at most (max_in_flight).
constexpr int kMaxInFlight = 64;
// request_gap of a framing: rtu source that sets none: t3.5 at 9,600 baud (3.65 ms) and some.
constexpr Millis kRtuOverTcpRequestGap{5};
constexpr int kMaxDeadAfter = 1000;

bool is_bit_table(ModbusTable table) {
    return table == ModbusTable::coil || table == ModbusTable::discrete;
}

std::string range_text(const ModbusAttribute& attribute) {
    const long long first = attribute.address;
    const long long last = first + attribute.width() - 1;
    return to_string(attribute.table) + " " + std::to_string(first) +
           (last != first ? ".." + std::to_string(last) : "");
}

// `allowed:` a list of numbers, and where each was written. Returns false when the key is
// present but not a valid list.
bool read_allowed(MapReader& map, std::vector<double>& out, std::vector<Position>& where) {
    const Context& ctx = map.context();
    auto node = map.find("allowed");
    if (!node) return true;
    if (!node->IsSequence()) {
        ctx.error(map.value_position("allowed"),
                  "allowed: expected a list of numbers, got " + describe_value(*node));
        return false;
    }
    if (node->size() == 0) {
        ctx.error(map.value_position("allowed"),
                  "allowed: an empty list allows nothing; leave the key out to allow any value "
                  "from min to max");
        return false;
    }
    if (!ctx.diag->spend(node->size(), map.value_position("allowed"))) return false;
    bool ok = true;
    for (const auto& item : *node) {
        if (auto value = read_number(item, ctx, "allowed")) {
            out.push_back(*value);
            where.push_back(position_of(item, ctx));
        } else {
            ok = false;
        }
    }
    return ok;
}

// The raw register values a type can hold (bits of a coil: 0..1).
std::pair<double, double> raw_range(ModbusType type) {
    switch (type) {
        case ModbusType::boolean:
            return {0, 1};
        case ModbusType::int16:
            return {-32768.0, 32767.0};
        case ModbusType::uint16:
            return {0, 65535.0};
        case ModbusType::int32:
            return {-2147483648.0, 2147483647.0};
        case ModbusType::uint32:
            return {0, 4294967295.0};
        case ModbusType::int64:
            // The largest doubles strictly inside the range (2^63 itself does not fit).
            return {-9223372036854775808.0, 9223372036854774784.0};
        case ModbusType::uint64:
            return {0, 18446744073709549568.0};
        case ModbusType::float32:
            return {-3.4028234663852886e38, 3.4028234663852886e38};
        case ModbusType::float64:
        case ModbusType::string:
            break;
    }
    return {-std::numeric_limits<double>::max(), std::numeric_limits<double>::max()};
}

// Reports at `key` when `value` (in published units) gives a register value the type
// cannot hold once scale and offset are undone.
void check_representable(MapReader& map, const ModbusAttribute& attribute, std::string_view key,
                         double value) {
    const double raw = (value - attribute.offset) / attribute.scale;
    const auto [low, high] = raw_range(attribute.type);
    if (std::isfinite(raw) && raw >= low && raw <= high) return;
    std::string how = to_string(attribute.type);
    if (attribute.scale != 1.0 || attribute.offset != 0.0) {
        how += " with scale " + number_text(attribute.scale) + " and offset " +
               number_text(attribute.offset) + " (register value " + number_text(raw) + ")";
    }
    map.context().error(map.value_position(key),
                        std::string(key) + ": " + number_text(value) + " does not fit " + how +
                            "; the register holds " + number_text(low) + ".." + number_text(high));
}

// writable, min, max and allowed: write-back is only for coils and holding registers, and
// every writable number is bounded. Limits without `writable: true` are errors, so a typo
// never leaves an attribute silently writable or silently unbounded.
void check_write_back(MapReader& map, const ModbusAttribute& attribute, bool allowed_ok,
                      const std::vector<Position>& allowed_where) {
    const Context& ctx = map.context();
    const std::string what = "attribute '" + shown(attribute.name) + "'";
    const char* limit_keys[] = {"min", "max", "allowed"};
    if (!attribute.writable) {
        for (const char* key : limit_keys) {
            if (map.find(key)) {
                ctx.error(map.key_position(key),
                          std::string(key) + ": only applies with writable: true");
            }
        }
        return;
    }
    if (attribute.table != ModbusTable::coil && attribute.table != ModbusTable::holding) {
        ctx.error(
            map.value_position("writable"),
            std::string("writable: only coils and holding registers can be written, not ") +
                (attribute.table == ModbusTable::input ? "input registers" : "discrete inputs"));
        return;
    }
    if (attribute.type == ModbusType::string) {
        ctx.error(map.value_position("writable"), "writable: a string attribute cannot be written");
        return;
    }
    if (attribute.type == ModbusType::boolean) {
        for (const char* key : limit_keys) {
            if (map.find(key)) {
                ctx.error(map.key_position(key),
                          std::string(key) + ": does not apply to type bool (true or false)");
            }
        }
        return;
    }
    bool limits_ok = true;
    for (const char* key : {"min", "max"}) {
        if (!map.find(key)) {
            ctx.error(map.where(), "missing required key '" + std::string(key) + "' in " + what +
                                       " (a writable number needs min and max)");
            limits_ok = false;
        }
    }
    if (!attribute.min || !attribute.max) return;  // missing or not a number: reported
    if (*attribute.min > *attribute.max) {
        ctx.error(map.value_position("min"), "min: " + number_text(*attribute.min) +
                                                 " is above max " + number_text(*attribute.max));
        limits_ok = false;
    } else if (*attribute.min == *attribute.max) {
        // Home Assistant's MQTT number refuses min >= max (number.py, validate_config:
        // "'max' must be > 'min'"), and a range of one value is no setting to choose.
        ctx.error(map.value_position("max"),
                  "max: " + number_text(*attribute.max) +
                      " equals min; a writable number needs min below max (Home Assistant "
                      "refuses a number entity whose min is not below its max)");
        limits_ok = false;
    }
    check_representable(map, attribute, "min", *attribute.min);
    check_representable(map, attribute, "max", *attribute.max);
    if (!limits_ok || !allowed_ok) return;
    for (std::size_t i = 0; i < attribute.allowed.size() && i < allowed_where.size(); ++i) {
        const double value = attribute.allowed[i];
        if (value < *attribute.min || value > *attribute.max) {
            ctx.error(allowed_where[i], "allowed: " + number_text(value) +
                                            " is outside min..max (" + number_text(*attribute.min) +
                                            ".." + number_text(*attribute.max) + ")");
            continue;
        }
        // Integer registers take whole steps only; the command router refuses the rest, so
        // such a value could never be written.
        const double raw = (value - attribute.offset) / attribute.scale;
        if (attribute.type != ModbusType::float32 && attribute.type != ModbusType::float64 &&
            std::fabs(raw - std::round(raw)) > 1e-9 * std::fmax(1.0, std::fabs(raw))) {
            ctx.error(allowed_where[i], "allowed: " + number_text(value) +
                                            " is not a whole number of register steps (" +
                                            to_string(attribute.type) + ", scale " +
                                            number_text(attribute.scale) + ", offset " +
                                            number_text(attribute.offset) + ")");
        }
    }
}

// `bit:` and `function:` of a register attribute (docs/configuration.md). A bit attribute is
// a bool and cannot be written. Returns false when the attribute cannot be used.
bool read_wire_keys(MapReader& map, ModbusAttribute& attribute, bool type_given) {
    const Context& ctx = map.context();
    bool ok = true;
    int bit = 0;
    if (map.integer("bit", 0, 15, bit)) {
        if (is_bit_table(attribute.table)) {
            ctx.error(map.key_position("bit"),
                      "bit: does not apply to a " + to_string(attribute.table) + " attribute");
            ok = false;
        } else if (type_given && attribute.type != ModbusType::boolean) {
            ctx.error(map.value_position("type"),
                      "type: a bit attribute is a bool, got " + to_string(attribute.type));
            ok = false;
        } else if (attribute.writable) {
            ctx.error(map.key_position("writable"), "writable: a bit attribute cannot be written");
            ok = false;
        }
        attribute.type = ModbusType::boolean;
        attribute.bit = static_cast<std::uint8_t>(bit);
    }
    if (map.find("function")) {
        int function = 0;
        if (map.integer("function", 3, 4, function)) {
            if (is_bit_table(attribute.table)) {
                ctx.error(
                    map.key_position("function"),
                    "function: does not apply to a " + to_string(attribute.table) + " attribute");
                ok = false;
            }
            attribute.function = static_cast<std::uint8_t>(function);
        } else {
            ok = false;
        }
    }
    return ok;
}

}  // namespace

std::optional<ModbusAttribute> read_modbus_attribute(const MapReader::Item& item,
                                                     const Context& ctx) {
    ModbusAttribute attribute;
    attribute.name = item.key;
    attribute.where = item.key_where;
    if (!check_name(item.key, "attribute name", item.key_where, ctx)) return std::nullopt;
    if (!check_attribute_name_free(item.key, "attribute name", item.key_where, ctx)) {
        return std::nullopt;
    }
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
    Millis poll{0};
    if (map.duration("poll", poll)) attribute.poll = poll;
    map.boolean("writable", attribute.writable);
    double limit = 0;
    if (map.number("min", limit)) attribute.min = limit;
    if (map.number("max", limit)) attribute.max = limit;
    std::vector<Position> allowed_where;
    const bool allowed_ok = read_allowed(map, attribute.allowed, allowed_where);
    read_meaning(map, attribute.meaning);
    ok &= read_wire_keys(map, attribute, type_given);
    map.finish();

    const bool numeric =
        attribute.type != ModbusType::boolean && attribute.type != ModbusType::string;
    if (!attribute.meaning.states.empty()) {
        // Codes are whole register values: an integer type, read as it is, without a unit.
        const Position at = map.key_position("states");
        if (!is_integer(attribute.type)) {
            ctx.error(at, "states: codes need an integer type (int16 .. uint64), not " +
                              to_string(attribute.type));
        } else if (attribute.scale != 1.0 || attribute.offset != 0.0 || attribute.round) {
            ctx.error(at,
                      "states: codes are the register's own value; leave out scale, offset "
                      "and round");
        }
        if (!attribute.unit.empty()) ctx.error(at, "states: a coded reading has no unit");
        if (attribute.writable) ctx.error(at, "states: a coded attribute cannot be writable");
    }
    if (is_bit_table(attribute.table) && attribute.type != ModbusType::boolean && type_given) {
        ctx.error(map.value_position("type"), "type: a " + to_string(attribute.table) +
                                                  " attribute must have type bool, got " +
                                                  to_string(attribute.type));
        ok = false;
    }
    if (is_bit_table(attribute.table)) {
        for (const char* key : {"word_order", "byte_swap"}) {
            if (map.find(key)) {
                ctx.error(map.key_position(key), std::string(key) + ": does not apply to a " +
                                                     to_string(attribute.table) + " attribute");
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
        const std::string what = to_string(attribute.type);
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
    if (ok) check_write_back(map, attribute, allowed_ok, allowed_where);
    if (!ok || !address_ok || attribute.width() == 0) return std::nullopt;
    const long long last = static_cast<long long>(attribute.address) + attribute.width() - 1;
    if (last > kMaxAddress) {
        ctx.error(map.value_position("address"), "address: " + to_string(attribute.type) + " at " +
                                                     std::to_string(attribute.address) + " needs " +
                                                     std::to_string(attribute.width()) +
                                                     " registers and runs past 65535");
        return std::nullopt;
    }
    return attribute;
}

void check_overlaps(const std::vector<ModbusAttribute>& attrs, const std::string& owner,
                    const Context& ctx) {
    std::vector<std::size_t> order(attrs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
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
            // Distinct bits of one register do not overlap.
            const bool bits_apart = current.bit && other.bit && *current.bit != *other.bit &&
                                    current.address == other.address;
            if (current.address <= other_end && !bits_apart) {
                // Report at whichever of the two comes later in the file.
                const bool current_later = order[k] > *reach;
                const ModbusAttribute& later = current_later ? current : other;
                const ModbusAttribute& earlier = current_later ? other : current;
                ctx.error(later.where, "attribute '" + shown(later.name) + "' (" +
                                           range_text(later) + ") overlaps '" +
                                           shown(earlier.name) + "' (" + range_text(earlier) +
                                           ") in " + owner);
            }
            if (end > other_end) reach = order[k];
        } else {
            reach = order[k];
        }
    }
}

namespace {

// A node entry: one node, or with `units:` the template of one node per unit.
struct NodeEntry {
    ModbusNode node;
    std::optional<UnitList> units;
};

// `name: { poll: DURATION }` and nothing else: on a node with a model, the model's attribute
// of that name read at that interval.
bool only_poll(const YAML::Node& value) {
    return value.IsMap() && value.size() == 1 && value.begin()->first.IsScalar() &&
           value.begin()->first.Scalar() == "poll";
}

std::optional<ModbusAttribute> model_attribute_at(const MapReader::Item& item,
                                                  const DeviceModel& model, const Context& ctx) {
    const auto& attributes = model.attributes;
    const auto found =
        std::find_if(attributes.begin(), attributes.end(),
                     [&](const ModbusAttribute& each) { return each.name == item.key; });
    if (found == attributes.end()) {
        std::vector<std::string> names;
        for (const ModbusAttribute& each : attributes) names.push_back(each.name);
        ctx.error(item.key_where, "attribute '" + shown(item.key) + "': model '" +
                                      shown(model.name) + "' (at " + place_text(model.where, ctx) +
                                      ") has no attribute of that name to give a poll interval" +
                                      did_you_mean(item.key, names) +
                                      "; a new attribute needs its address");
        return std::nullopt;
    }
    MapReader map(item.value, ctx, "attribute '" + shown(item.key) + "'");
    Millis poll{0};
    if (!map.duration("poll", poll)) return std::nullopt;
    map.finish();
    ModbusAttribute attribute = *found;
    attribute.poll = poll;
    return attribute;
}

std::optional<NodeEntry> read_node(const YAML::Node& item, std::size_t index, bool tcp,
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
    // Unit ranges (docs/models.md): one entry for many units, its id a template.
    NodeEntry entry;
    if (map.find("units")) {
        if (map.find("unit")) {
            ctx.error(map.key_position("unit"), "unit: give either unit or units, not both");
        }
        entry.units = read_units(map, tcp);
        std::string error;
        if (!entry.units) {
            ok = false;
        } else if (ok && !expand_unit_id(node.id, entry.units->units.front(), error)) {
            ctx.error(map.value_position("id"), "id: " + error);
            ok = false;
        }
    }
    map.duration("poll", node.poll);
    Millis offline_after{0};
    if (map.duration("offline_after", offline_after)) node.offline_after = offline_after;
    Millis request_gap{0};
    if (map.duration("request_gap", request_gap)) node.request_gap = request_gap;
    int retries = 0;
    if (map.integer("retries", 0, kMaxRetries, retries)) node.retries = retries;
    const bool model_given = map.find("model").has_value();
    node.model = read_model_name(map);
    std::vector<ModbusAttribute> own;
    if (auto attributes = model_given ? map.find("attributes") : map.require("attributes")) {
        MapReader attribute_map(*attributes, ctx, "attributes of " + label);
        if (attribute_map.is_map()) {
            auto items = attribute_map.items();
            if (items.empty() && !model_given) {
                ctx.error(attribute_map.where(), "attributes: " + label + " has no attributes");
            }
            for (const auto& attribute_item : items) {
                if (node.model && only_poll(attribute_item.value)) {
                    if (auto attribute = model_attribute_at(attribute_item, *node.model, ctx)) {
                        own.push_back(std::move(*attribute));
                    }
                } else if (auto attribute = read_modbus_attribute(attribute_item, ctx)) {
                    own.push_back(std::move(*attribute));
                }
            }
        }
    }
    if (model_given && !node.model) {
        map.find("without");  // the model is unknown (reported): its names mean nothing
        ok = false;
    } else if (node.model && node.model->attributes.empty()) {
        ctx.error(map.value_position("model"), "model: model '" + shown(node.model->name) +
                                                   "' has no Modbus attributes (only `received:`)");
        ok = false;
    } else {
        node.attributes = merge_model_attributes(map, node.model, std::move(own), label);
    }
    if (node.offline_after && *node.offline_after <= fastest_interval(node)) {
        const Millis fastest = fastest_interval(node);
        ctx.error(map.value_position("offline_after"),
                  "offline_after: must be longer than the node's " +
                      std::string(fastest == node.poll ? "poll" : "fastest attribute poll") + " (" +
                      format_duration(fastest) + ")");
    }
    map.finish();
    if (!ok) return std::nullopt;
    entry.node = std::move(node);
    return entry;
}

// One node per unit of a range entry, each an ordinary node; a plain entry as it is.
std::vector<ModbusNode> expand(NodeEntry entry) {
    if (!entry.units) return {std::move(entry.node)};
    std::vector<ModbusNode> nodes;
    nodes.reserve(entry.units->units.size());
    for (int unit : entry.units->units) {
        ModbusNode node = entry.node;  // the attribute table is shared, not copied
        std::string error;
        node.id = expand_unit_id(entry.node.id, unit, error).value_or(entry.node.id);
        node.unit = unit;
        node.from_range = true;
        nodes.push_back(std::move(node));
    }
    return nodes;
}

}  // namespace

namespace {

// Endpoints one `hosts:` entry may stand for at most.
constexpr std::size_t kMaxHosts = 10'000;

// One item of `hosts:`: HOST or HOST:PORT (the port defaults to `common`'s), and an IPv4
// address may end in a range of its last number, "10.0.1.1-48" for 10.0.1.1 .. 10.0.1.48.
// Appends the endpoints, or reports at `where` and appends nothing.
void expand_host_item(const std::string& item, const Position& where, const Context& ctx,
                      const ModbusTcpEndpoint& common, std::vector<ModbusTcpEndpoint>& out) {
    std::string host = item;
    int port = common.port;
    if (const auto colon = item.rfind(':'); colon != std::string::npos) {
        const std::string digits = item.substr(colon + 1);
        const bool numeric = !digits.empty() && digits.size() <= 5 &&
                             digits.find_first_not_of("0123456789") == std::string::npos;
        if (!numeric || std::stoi(digits) < 1 || std::stoi(digits) > 65535) {
            ctx.error(where, "hosts: '" + shown(item) + "' has no port 1..65535 after its ':'");
            return;
        }
        host = item.substr(0, colon);
        port = std::stoi(digits);
    }
    if (host.empty()) {
        ctx.error(where, "hosts: an item must not be empty");
        return;
    }
    static const std::regex range(R"((\d{1,3}\.\d{1,3}\.\d{1,3}\.)(\d{1,3})-(\d{1,3}))");
    std::smatch match;
    if (!std::regex_match(host, match, range)) {
        ModbusTcpEndpoint endpoint = common;
        endpoint.host = host;
        endpoint.port = port;
        out.push_back(std::move(endpoint));
        return;
    }
    const int first = std::stoi(match[2]);
    const int last = std::stoi(match[3]);
    if (first > last || last > 255) {
        ctx.error(where, "hosts: '" + shown(item) +
                             "' is not a range of a last number from low to high within 0..255");
        return;
    }
    for (int number = first; number <= last; ++number) {
        ModbusTcpEndpoint endpoint = common;
        endpoint.host = match[1].str() + std::to_string(number);
        endpoint.port = port;
        out.push_back(std::move(endpoint));
    }
}

}  // namespace

void read_modbus_source(MapReader& map, const std::string& type, ModbusSourceConfig& out,
                        std::vector<ModbusTcpEndpoint>* hosts) {
    const Context& ctx = map.context();
    const bool tcp = type == "modbus-tcp";
    if (tcp) {
        ModbusTcpEndpoint endpoint;
        const auto many = map.find("hosts");
        if (many && map.find("host")) {
            ctx.error(map.key_position("hosts"), "hosts: give either host or hosts, not both");
        }
        if (!many && map.text("host", endpoint.host, true) && endpoint.host.empty()) {
            ctx.error(map.value_position("host"), "host: must not be empty");
        }
        map.integer("port", 1, 65535, endpoint.port);
        map.integer("max_in_flight", 1, kMaxInFlight, endpoint.max_in_flight);
        map.choice<TcpFraming>("framing", {{"mbap", TcpFraming::mbap}, {"rtu", TcpFraming::rtu}},
                               endpoint.framing);
        if (endpoint.framing == TcpFraming::rtu && endpoint.max_in_flight > 1) {
            ctx.error(map.value_position("max_in_flight"),
                      "max_in_flight: RTU frames carry no transaction id, so framing: rtu sends "
                      "one request at a time; remove max_in_flight or set it to 1");
        }
        if (many && !map.find("host")) {
            if (!many->IsSequence() || many->size() == 0) {
                ctx.error(map.value_position("hosts"),
                          "hosts: expected a list of addresses (HOST, HOST:PORT or "
                          "A.B.C.D-E), got " +
                              (many->IsSequence() ? std::string("an empty list")
                                                  : describe_value(*many)));
            } else if (hosts != nullptr) {
                for (const auto& item : *many) {
                    const auto text = read_text(item, ctx, "hosts");
                    if (text)
                        expand_host_item(*text, position_of(item, ctx), ctx, endpoint, *hosts);
                }
                if (hosts->size() > kMaxHosts) {
                    ctx.error(map.value_position("hosts"),
                              "hosts: " + std::to_string(hosts->size()) + " endpoints, more than " +
                                  std::to_string(kMaxHosts) + "; split the entry");
                    hosts->clear();
                }
                if (!hosts->empty()) endpoint.host = hosts->front().host;
            }
        }
        out.link = endpoint;
    } else {
        SerialLine line;
        read_serial_line(map, line);
        out.link = line;
    }
    map.duration("timeout", out.timeout);
    map.integer("max_gap", 0, kMaxGap, out.max_gap);
    map.integer("max_registers", 1, kMaxStringRegisters, out.max_registers);
    map.duration("request_gap", out.request_gap);
    if (const auto* endpoint = std::get_if<ModbusTcpEndpoint>(&out.link);
        endpoint != nullptr && endpoint->framing == TcpFraming::rtu && !map.find("request_gap")) {
        // The line behind a serial server needs t3.5 of silence before each request, which
        // the gateway cannot time across the network: 4 ms at 9,600 baud, and a little more.
        out.request_gap = kRtuOverTcpRequestGap;
    }
    map.integer("retries", 0, kMaxRetries, out.retries);
    map.integer("dead_after", 0, kMaxDeadAfter, out.dead_after);
    map.duration("dead_poll", out.dead_poll);
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
    // Units used by range entries and the entries using them: a unit twice is an error when
    // a range is involved (two hand-written nodes may read one device).
    std::map<int, std::pair<const ModbusNode*, bool>> unit_users;
    std::size_t index = 0;
    std::vector<NodeEntry> entries;
    for (const auto& item : *nodes) {
        // Unit 255 is Modbus TCP's "no unit"; on a serial line (RTU frames over TCP too)
        // 248..255 are reserved (MODBUS over Serial Line V1.02, "MODBUS Addressing Rules").
        const auto* endpoint = std::get_if<ModbusTcpEndpoint>(&out.link);
        const bool unit_255 = endpoint != nullptr && endpoint->framing == TcpFraming::mbap;
        if (auto entry = read_node(item, index++, unit_255, ctx)) {
            entries.push_back(std::move(*entry));
        }
    }
    std::set<std::pair<const ModbusNode*, const ModbusNode*>> clashes;  // reported once a pair
    for (const NodeEntry& entry : entries) {
        const std::vector<int> units =
            entry.units ? entry.units->units : std::vector<int>{entry.node.unit};
        for (int unit : units) {
            auto [it, inserted] =
                unit_users.emplace(unit, std::pair{&entry.node, entry.units.has_value()});
            if (inserted || !(entry.units || it->second.second)) continue;
            const ModbusNode& first = *it->second.first;
            if (!clashes.emplace(&first, &entry.node).second) continue;
            ctx.error(entry.units ? entry.units->where : entry.node.where,
                      "unit " + std::to_string(unit) + " of node '" + shown(entry.node.id) +
                          "' is also used by node '" + shown(first.id) + "' (at " +
                          place_from(first.where, ctx.file) + ") in " + map.what());
        }
    }
    for (NodeEntry& entry : entries) {
        // A range entry reports each problem once, not once per unit.
        bool id_reported = false;
        bool offline_reported = false;
        for (ModbusNode& node : expand(std::move(entry))) {
            auto [it, inserted] = first_ids.emplace(node.id, node.where);
            if (!inserted) {
                if (!id_reported) {
                    ctx.error(node.where, "duplicate node id '" + shown(node.id) + "' in " +
                                              map.what() + " (first at " +
                                              place_from(it->second, ctx.file) + ")");
                }
                id_reported = node.from_range;
                continue;
            }
            if (out.offline_after && !node.offline_after &&
                *out.offline_after <= fastest_interval(node) && !offline_reported) {
                offline_reported = node.from_range;
                ctx.error(map.value_position("offline_after"),
                          "offline_after: must be longer than the " +
                              std::string(fastest_interval(node) == node.poll
                                              ? "poll"
                                              : "fastest attribute poll") +
                              " of node '" + shown(node.id) + "' (" +
                              format_duration(fastest_interval(node)) + ")");
            }
            out.nodes.push_back(std::move(node));
        }
    }
}

}  // namespace config_detail

std::string to_string(ModbusTable table) {
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

std::string to_string(ModbusType type) {
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

bool is_integer(ModbusType type) {
    return type == ModbusType::int16 || type == ModbusType::uint16 || type == ModbusType::int32 ||
           type == ModbusType::uint32 || type == ModbusType::int64 || type == ModbusType::uint64;
}

}  // namespace nodebridge
