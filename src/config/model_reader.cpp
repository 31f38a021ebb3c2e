// Device models (docs/models.md): `models:` maps, a node's `model:` with its overrides and
// `without:`, unit ranges (`units:` with an id template), the meaning keys of an attribute
// (`quantity`, `counter`, `homeassistant`), and a serial-nodes source's models.

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include "sections.hpp"

namespace nodebridge::config_detail {
namespace {

constexpr long long kMaxRegistersPerRequest = 125;  // Modbus: 125 registers per read
constexpr long long kMaxGap = 2000;
constexpr std::size_t kMaxUnitDigits = 9;

std::string range_text(const ModbusAttribute& attribute) {
    const long long first = attribute.address;
    const long long last = first + attribute.width() - 1;
    return to_string(attribute.table) + " " + std::to_string(first) +
           (last != first ? ".." + std::to_string(last) : "");
}

bool overlaps(const ModbusAttribute& a, const ModbusAttribute& b) {
    if (a.table != b.table) return false;
    const long long a_end = static_cast<long long>(a.address) + a.width() - 1;
    const long long b_end = static_cast<long long>(b.address) + b.width() - 1;
    return a.address <= b_end && b.address <= a_end;
}

bool later_in_file(const Position& a, const Position& b) {
    return a.line != b.line ? a.line > b.line : a.column > b.column;
}

std::string model_label(const DeviceModel& model) { return "model '" + shown(model.name) + "'"; }

constexpr std::size_t kMaxStates = 256;

// A code of `states:`: a whole number, decimal ("-1", "7") or hexadecimal ("0x1F").
std::optional<std::int64_t> parse_code(const std::string& text) {
    if (text.empty() || text.size() > 20) return std::nullopt;
    std::size_t i = 0;
    const bool negative = text[0] == '-';
    if (negative || text[0] == '+') ++i;
    int base = 10;
    if (text.size() > i + 2 && text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
        base = 16;
        i += 2;
    }
    if (i == text.size()) return std::nullopt;
    std::int64_t value = 0;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        int digit = -1;
        if (c >= '0' && c <= '9') digit = c - '0';
        if (base == 16 && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        if (base == 16 && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        if (digit < 0) return std::nullopt;
        if (value > (std::numeric_limits<std::int64_t>::max() - digit) / base) return std::nullopt;
        value = value * base + digit;
    }
    return negative ? -value : value;
}

// `states:` of an attribute: code -> name. Names are what Home Assistant's enum sensor
// offers as options, so they are unique and never "None" (its MQTT sensor takes the state
// "None" for unknown).
void read_states(MapReader& attribute, AttributeMeaning& out) {
    const Context& ctx = attribute.context();
    MapReader map(*attribute.find("states"), ctx, "states of " + attribute.what());
    if (!map.is_map()) return;
    const auto items = map.items();
    if (items.empty()) {
        ctx.error(map.where(), "states: names no codes (leave the key out for a measurement)");
        return;
    }
    if (items.size() > kMaxStates) {
        ctx.error(map.where(), "states: more than " + std::to_string(kMaxStates) + " codes");
        return;
    }
    std::set<std::int64_t> codes;
    std::set<std::string> names;
    for (const auto& item : items) {
        const auto code = parse_code(item.key);
        if (!code) {
            ctx.error(item.key_where, "states: code '" + shown(item.key) +
                                          "' is not a whole number (like 0, -1 or 0x1F)");
            continue;
        }
        auto name = read_text(item.value, ctx, "states");
        if (!name) continue;
        const Position at = position_of(item.value, ctx);
        if (!check_name(*name, "states", at, ctx)) continue;
        if (*name == "None") {
            ctx.error(at,
                      "states: 'None' is what Home Assistant's MQTT sensor reads as an "
                      "unknown state; choose another name");
            continue;
        }
        if (!codes.insert(*code).second) {
            ctx.error(item.key_where, "states: code " + std::to_string(*code) + " appears twice");
            continue;
        }
        if (!names.insert(*name).second) {
            ctx.error(at, "states: name '" + shown(*name) + "' is given to two codes");
            continue;
        }
        out.states.emplace_back(*code, std::move(*name));
    }
    if (!out.quantity.empty() || out.counter || out.net) {
        ctx.error(attribute.key_position("states"),
                  std::string("states: a coded reading has no ") +
                      (out.quantity.empty() ? "counter" : "quantity") +
                      " (codes are names, not amounts)");
    }
}

void read_hints(MapReader& map, HomeAssistantHints& out) {
    const Context& ctx = map.context();
    if (map.text("name", out.name)) check_name(out.name, "name", map.value_position("name"), ctx);
    for (auto [key, field] :
         {std::pair<const char*, std::string*>{"device_class", &out.device_class},
          {"state_class", &out.state_class},
          {"icon", &out.icon}}) {
        if (map.text(key, *field) && field->empty()) {
            ctx.error(map.value_position(key),
                      std::string(key) + ": must not be empty (leave the key out to derive it)");
        }
    }
    std::string category;
    if (map.text("entity_category", category)) {
        out.entity_category_where = map.value_position("entity_category");
        if (category == "diagnostic" || category == "config") {
            out.entity_category = category;
        } else {
            ctx.error(map.value_position("entity_category"),
                      "entity_category: expected diagnostic or config, got '" + shown(category) +
                          "'" + did_you_mean(category, {"diagnostic", "config"}));
        }
    }
    bool enabled = true;
    if (map.boolean("enabled", enabled)) out.enabled = enabled;
}

// One item of `units:`: "7" or "10-20"; appends to `out`.
bool read_unit_item(const YAML::Node& item, const Context& ctx, bool tcp, UnitList& out,
                    std::set<int>& seen) {
    const Position at = position_of(item, ctx);
    if (!item.IsScalar()) {
        ctx.error(at, "units: expected a unit or a range like 1-48, got " + describe_value(item));
        return false;
    }
    const std::string text = item.Scalar();
    auto number = [](std::string_view digits) -> std::optional<long long> {
        if (digits.empty() || digits.size() > kMaxUnitDigits) return std::nullopt;
        long long value = 0;
        for (char c : digits) {
            if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
            value = value * 10 + (c - '0');
        }
        return value;
    };
    auto trimmed = [](std::string_view s) {
        while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
        while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
        return s;
    };
    const std::string_view view(text);
    const auto dash = view.find('-');
    std::optional<long long> first, last;
    if (dash == std::string_view::npos) {
        first = last = number(trimmed(view));
    } else {
        first = number(trimmed(view.substr(0, dash)));
        last = number(trimmed(view.substr(dash + 1)));
    }
    if (!first || !last) {
        ctx.error(at, "units: malformed range '" + shown(text) +
                          "' (expected a unit like 7 or a range like 1-48)");
        return false;
    }
    if (*first > *last) {
        ctx.error(at, "units: range '" + shown(text) + "' runs backwards (write " +
                          std::to_string(*last) + "-" + std::to_string(*first) + ")");
        return false;
    }
    bool ok = true;
    for (long long unit = *first; unit <= *last; ++unit) {
        if (!(unit <= 247 || (tcp && unit == 255))) {
            ctx.error(at, "units: " + std::to_string(unit) + " is not a valid unit id (0..247" +
                              (tcp ? ", or 255" : "") + ")");
            return false;
        }
        if (!seen.insert(static_cast<int>(unit)).second) {
            ctx.error(at, "units: unit " + std::to_string(unit) + " is listed twice");
            ok = false;
            continue;
        }
        out.units.push_back(static_cast<int>(unit));
    }
    return ok;
}

std::vector<ReceivedAttribute> merge_received(const std::vector<ReceivedAttribute>& base,
                                              const std::vector<ReceivedAttribute>& own) {
    std::vector<ReceivedAttribute> merged = base;
    for (const ReceivedAttribute& entry : own) {
        auto same = std::find_if(merged.begin(), merged.end(),
                                 [&](const ReceivedAttribute& m) { return m.key == entry.key; });
        if (same != merged.end()) {
            *same = entry;
        } else {
            merged.push_back(entry);
        }
    }
    return merged;
}

// A model named by a serial-nodes source must describe received keys.
bool has_received(const ModelRef& model, MapReader& map, const Context& ctx) {
    if (!model) return false;
    if (!model->received.empty()) return true;
    ctx.error(map.value_position("model"),
              "model: " + model_label(*model) + " (at " + place_text(model->where, ctx) +
                  ") has no `received:` schema for a serial-nodes source");
    return false;
}

// The range of values an identification register of `type` can hold.
std::pair<long long, long long> type_range(ModbusType type) {
    switch (type) {
        case ModbusType::int16:
            return {-32768, 32767};
        case ModbusType::uint16:
            return {0, 65535};
        case ModbusType::int32:
            return {-2147483648LL, 2147483647LL};
        case ModbusType::uint32:
            return {0, 4294967295LL};
        default:
            return {-1'000'000'000'000LL, 1'000'000'000'000LL};  // read_integer's bound
    }
}

// One entry of `identify: registers:`.
std::optional<IdentifyRegister> read_identify_register(const YAML::Node& node, const Context& ctx,
                                                       std::size_t index) {
    MapReader map(node, ctx, "identify register #" + std::to_string(index));
    if (!map.is_map()) return std::nullopt;
    IdentifyRegister out;
    out.where = map.where();
    bool ok = true;
    if (!map.find("table")) {
        ctx.error(map.where(),
                  "missing required key 'table' in " + map.what() + " (input or holding)");
        ok = false;
    }
    ok &= map.choice<ModbusTable>(
              "table", {{"input", ModbusTable::input}, {"holding", ModbusTable::holding}},
              out.table) ||
          !map.find("table");
    ok &= map.integer("address", 0, 65535, out.address, true);
    if (map.find("type")) {
        ok &= map.choice<ModbusType>("type",
                                     {{"int16", ModbusType::int16},
                                      {"uint16", ModbusType::uint16},
                                      {"int32", ModbusType::int32},
                                      {"uint32", ModbusType::uint32},
                                      {"int64", ModbusType::int64},
                                      {"uint64", ModbusType::uint64}},
                                     out.type);
    }
    map.choice<WordOrder>("word_order", {{"big", WordOrder::big}, {"little", WordOrder::little}},
                          out.word_order);
    const auto [lowest, highest] = type_range(out.type);
    const auto values = map.find("values");
    const bool has_min = map.find("min").has_value();
    const bool has_max = map.find("max").has_value();
    if (values) {
        if (has_min || has_max) {
            ctx.error(map.key_position(has_min ? "min" : "max"),
                      "identify register: give `values` or `min`/`max`, not both");
            ok = false;
        }
        if (!values->IsSequence() || values->size() == 0) {
            ctx.error(map.value_position("values"),
                      values->IsSequence() ? std::string("values: an empty list names no values")
                                           : "values: expected a list of whole numbers, got " +
                                                 describe_value(*values));
            ok = false;
        } else {
            if (!ctx.diag->spend(values->size(), map.value_position("values"))) return std::nullopt;
            for (const auto& item : *values) {
                const auto value = read_integer(item, ctx, "values", lowest, highest);
                if (!value) {
                    ok = false;
                    continue;
                }
                out.ranges.emplace_back(*value, *value);
            }
        }
    } else if (has_min || has_max) {
        long long low = lowest, high = highest;
        ok &= !has_min || map.integer("min", lowest, highest, low);
        ok &= !has_max || map.integer("max", lowest, highest, high);
        if (ok && low > high) {
            ctx.error(map.value_position("min"),
                      "min: " + std::to_string(low) + " is above max " + std::to_string(high));
            ok = false;
        }
        out.ranges.emplace_back(low, high);
    } else {
        ctx.error(map.where(), map.what() +
                                   " needs `values: [...]` or `min:`/`max:`: the values that "
                                   "identify the device");
        ok = false;
    }
    map.finish();
    if (!ok) return std::nullopt;
    return out;
}

// `identify:` of a model.
void read_identify(const YAML::Node& node, const Context& ctx, const std::string& label,
                   ModelIdentity& out, const Position& key_where) {
    MapReader map(node, ctx, "identify of " + label);
    if (!map.is_map()) return;
    out.where = key_where;
    for (auto [key, field] : {std::pair<const char*, std::string*>{"vendor", &out.vendor},
                              {"product_code", &out.product_code},
                              {"revision", &out.revision}}) {
        if (map.text(key, *field) && field->empty()) {
            ctx.error(map.value_position(key),
                      std::string(key) + ": must not be empty (leave the key out)");
        }
    }
    if (auto registers = map.find("registers")) {
        if (!registers->IsSequence() || registers->size() == 0) {
            ctx.error(map.value_position("registers"),
                      "registers: expected a list of {table, address, values}, got " +
                          describe_value(*registers));
        } else if (ctx.diag->spend(registers->size(), map.value_position("registers"))) {
            std::size_t index = 0;
            for (const auto& item : *registers) {
                if (auto reg = read_identify_register(item, ctx, ++index)) {
                    for (const IdentifyRegister& earlier : out.registers) {
                        if (earlier.table == reg->table && earlier.address == reg->address) {
                            ctx.error(reg->where, "identify register: " + to_string(reg->table) +
                                                      " " + std::to_string(reg->address) +
                                                      " is listed twice (at " +
                                                      place_text(earlier.where, ctx) + ")");
                        }
                    }
                    out.registers.push_back(std::move(*reg));
                }
            }
        }
    }
    if (out.vendor.empty() && out.product_code.empty() && !map.find("registers")) {
        ctx.error(key_where, "identify: " + label +
                                 " names nothing to recognise it by (`vendor`, `product_code` "
                                 "or `registers`)");
    }
    map.finish();
}

}  // namespace

// ---- attribute meaning --------------------------------------------------------------------

void read_meaning(MapReader& map, AttributeMeaning& out) {
    const Context& ctx = map.context();
    std::string quantity;
    if (map.text("quantity", quantity)) {
        const auto& known = known_quantities();
        if (std::find(known.begin(), known.end(), quantity) != known.end()) {
            out.quantity = quantity;
        } else {
            std::vector<std::string> names(known.begin(), known.end());
            const std::string hint = did_you_mean(quantity, names);
            ctx.error(map.value_position("quantity"),
                      "quantity: unknown quantity '" + shown(quantity) + "'" +
                          (hint.empty() ? ", expected " + join_choices(names) : hint));
        }
    }
    // `counter: true` (only grows), `counter: net` (a total that can also fall) or false.
    if (auto counter = map.find("counter")) {
        const std::string text = counter->IsScalar() ? counter->Scalar() : std::string();
        if (text == "net") {
            out.net = true;
        } else if (text == "true" || text == "True" || text == "TRUE") {
            out.counter = true;
        } else if (!(text == "false" || text == "False" || text == "FALSE")) {
            ctx.error(map.value_position("counter"),
                      "counter: expected true, false or net, got " + describe_value(*counter));
        }
    }
    if (map.find("states")) read_states(map, out);
    if (auto node = map.find("homeassistant")) {
        MapReader hints_map(*node, ctx, "homeassistant of " + map.what());
        if (hints_map.is_map()) {
            HomeAssistantHints hints;
            hints.where = hints_map.where();
            read_hints(hints_map, hints);
            hints_map.finish();
            out.homeassistant = std::move(hints);
        }
    }
}

// ---- the registry -------------------------------------------------------------------------

void ModelRegistry::add(DeviceModel model) {
    auto it = pending_.find(model.name);
    if (it == pending_.end()) {
        std::string name = model.name;
        pending_.emplace(std::move(name), std::move(model));
        return;
    }
    model.replaced = std::move(it->second.replaced);
    model.replaced.push_back(it->second.where);
    it->second = std::move(model);
}

void ModelRegistry::freeze() {
    for (auto& [name, model] : pending_) {
        frozen_.insert_or_assign(name,
                                 ModelRef(std::make_shared<const DeviceModel>(std::move(model))));
    }
    pending_.clear();
}

ModelRef ModelRegistry::find(std::string_view name) const {
    auto it = frozen_.find(name);
    return it == frozen_.end() ? ModelRef() : it->second;
}

std::vector<ModelRef> ModelRegistry::all() const {
    std::vector<ModelRef> out;
    out.reserve(frozen_.size());
    for (const auto& [name, model] : frozen_) out.push_back(model);
    return out;
}

std::vector<std::string> ModelRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& [name, model] : frozen_) out.push_back(name);
    return out;
}

// ---- `models:` ----------------------------------------------------------------------------

void read_models(const YAML::Node& node, const Context& ctx, ModelRegistry& registry) {
    MapReader models(node, ctx, "models");
    if (!models.is_map()) return;
    auto items = models.items();
    if (!ctx.diag->spend(items.size(), models.where())) return;
    for (const auto& item : items) {
        if (!check_name(item.key, "model name", item.key_where, ctx)) continue;
        DeviceModel model;
        model.name = item.key;
        model.where = item.key_where;
        const std::string label = model_label(model);
        MapReader map(item.value, ctx, label);
        if (!map.is_map()) continue;
        map.text("manufacturer", model.manufacturer);
        map.text("model", model.model);
        map.text("description", model.description);
        if (auto datasheet = map.find("datasheet")) {
            MapReader sheet(*datasheet, ctx, "datasheet of " + label);
            sheet.text("title", model.datasheet.title);
            sheet.text("version", model.datasheet.version);
            sheet.text("url", model.datasheet.url);
            sheet.finish();
        }
        std::uint16_t registers = 0;
        if (map.integer("max_registers", 1, kMaxRegistersPerRequest, registers)) {
            model.max_registers = registers;
        }
        std::uint16_t gap = 0;
        if (map.integer("max_gap", 0, kMaxGap, gap)) model.max_gap = gap;
        Millis pause{0};
        if (map.duration("request_gap", pause)) model.request_gap = pause;

        const auto attributes = map.find("attributes");
        if (attributes) {
            MapReader attribute_map(*attributes, ctx, "attributes of " + label);
            if (attribute_map.is_map()) {
                auto attribute_items = attribute_map.items();
                if (attribute_items.empty()) {
                    ctx.error(attribute_map.where(), "attributes: " + label + " has no attributes");
                }
                std::vector<ModbusAttribute> list;
                for (const auto& attribute_item : attribute_items) {
                    if (auto attribute = read_modbus_attribute(attribute_item, ctx)) {
                        list.push_back(std::move(*attribute));
                    }
                }
                check_overlaps(list, label, ctx);
                model.attributes = ModbusAttributeTable(std::move(list));
            }
        }
        const auto received = map.find("received");
        if (received)
            read_received_attributes(*received, ctx, "received of " + label, model.received);
        if (auto identify = map.find("identify")) {
            read_identify(*identify, ctx, label, model.identify, map.key_position("identify"));
        }
        if (!attributes && !received) {
            ctx.error(map.where(), label +
                                       " needs `attributes:` (Modbus registers) or "
                                       "`received:` (a serial-nodes schema)");
        }
        map.finish();
        registry.add(std::move(model));
    }
}

// ---- nodes --------------------------------------------------------------------------------

ModelRef read_model_name(MapReader& map) {
    const Context& ctx = map.context();
    auto node = map.find("model");
    if (!node) return {};
    auto name = read_text(*node, ctx, "model");
    if (!name) return {};
    if (ctx.models) {
        if (ModelRef model = ctx.models->find(*name)) return model;
    }
    const std::vector<std::string> names =
        ctx.models ? ctx.models->names() : std::vector<std::string>{};
    ctx.error(map.value_position("model"),
              "model: unknown model '" + shown(*name) + "'" + did_you_mean(*name, names) +
                  (names.empty() ? " (no models are loaded; see docs/models.md)" : ""));
    return {};
}

ModbusAttributeTable merge_model_attributes(MapReader& node_map, const ModelRef& model,
                                            std::vector<ModbusAttribute> own,
                                            const std::string& label) {
    const Context& ctx = node_map.context();
    std::vector<std::pair<std::string, Position>> without;
    if (auto node = node_map.find("without")) {
        if (!model) {
            ctx.error(node_map.key_position("without"),
                      "without: only applies to a node with a model");
        } else if (!node->IsSequence()) {
            ctx.error(node_map.value_position("without"),
                      "without: expected a list of attribute names, got " + describe_value(*node));
        } else {
            std::vector<std::string> names;
            for (const ModbusAttribute& attribute : model->attributes)
                names.push_back(attribute.name);
            for (const auto& item : *node) {
                auto name = read_text(item, ctx, "without");
                if (!name) continue;
                const Position at = position_of(item, ctx);
                if (std::find(names.begin(), names.end(), *name) == names.end()) {
                    ctx.error(at, "without: " + model_label(*model) + " (at " +
                                      place_text(model->where, ctx) + ") has no attribute '" +
                                      shown(*name) + "'" + did_you_mean(*name, names));
                    continue;
                }
                without.emplace_back(*name, at);
            }
        }
    }
    if (!model) {
        check_overlaps(own, label, ctx);
        return ModbusAttributeTable(std::move(own));
    }
    if (own.empty() && without.empty()) return model->attributes;  // shared, not copied

    auto dropped = [&](const std::string& name) {
        return std::any_of(without.begin(), without.end(),
                           [&](const auto& entry) { return entry.first == name; });
    };
    std::vector<ModbusAttribute> merged;
    std::vector<bool> is_own;
    std::vector<bool> used(own.size(), false);
    for (const ModbusAttribute& attribute : model->attributes) {
        auto same = std::find_if(own.begin(), own.end(), [&](const ModbusAttribute& o) {
            return o.name == attribute.name;
        });
        if (same != own.end()) {
            used[static_cast<std::size_t>(same - own.begin())] = true;
            merged.push_back(std::move(*same));
            is_own.push_back(true);
        } else if (!dropped(attribute.name)) {
            merged.push_back(attribute);
            is_own.push_back(false);
        }
    }
    for (std::size_t i = 0; i < own.size(); ++i) {
        if (used[i]) continue;
        merged.push_back(std::move(own[i]));
        is_own.push_back(true);
    }
    // The model's attributes were checked against each other where it is defined; here only
    // the node's own are checked, against everything.
    for (std::size_t i = 0; i < merged.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (!(is_own[i] || is_own[j]) || !overlaps(merged[i], merged[j])) continue;
            if (is_own[i] && is_own[j]) {
                const bool i_later = later_in_file(merged[i].where, merged[j].where);
                const ModbusAttribute& later = i_later ? merged[i] : merged[j];
                const ModbusAttribute& earlier = i_later ? merged[j] : merged[i];
                ctx.error(later.where, "attribute '" + shown(later.name) + "' (" +
                                           range_text(later) + ") overlaps '" +
                                           shown(earlier.name) + "' (" + range_text(earlier) +
                                           ") in " + label);
                continue;
            }
            const ModbusAttribute& mine = is_own[i] ? merged[i] : merged[j];
            const ModbusAttribute& theirs = is_own[i] ? merged[j] : merged[i];
            ctx.error(mine.where, "attribute '" + shown(mine.name) + "' (" + range_text(mine) +
                                      ") overlaps '" + shown(theirs.name) + "' (" +
                                      range_text(theirs) + ") of " + model_label(*model) + " (at " +
                                      place_text(theirs.where, ctx) + ") in " + label);
        }
    }
    return ModbusAttributeTable(std::move(merged));
}

// ---- unit ranges --------------------------------------------------------------------------

std::optional<UnitList> read_units(MapReader& map, bool tcp) {
    const Context& ctx = map.context();
    auto node = map.find("units");
    if (!node) return std::nullopt;
    UnitList out;
    out.where = map.value_position("units");
    std::set<int> seen;
    bool ok = true;
    if (node->IsSequence()) {
        if (node->size() == 0) {
            ctx.error(out.where, "units: an empty list names no units");
            return std::nullopt;
        }
        if (!ctx.diag->spend(node->size(), out.where)) return std::nullopt;
        for (const auto& item : *node) ok &= read_unit_item(item, ctx, tcp, out, seen);
    } else {
        ok = read_unit_item(*node, ctx, tcp, out, seen);
    }
    if (!ok) return std::nullopt;
    return out;
}

std::optional<std::string> expand_unit_id(std::string_view pattern, int unit, std::string& error) {
    std::string out;
    bool found = false;
    std::size_t i = 0;
    while (i < pattern.size()) {
        const auto open = pattern.find("{unit", i);
        if (open == std::string_view::npos) {
            out.append(pattern.substr(i));
            break;
        }
        out.append(pattern.substr(i, open - i));
        const auto close = pattern.find('}', open);
        if (close == std::string_view::npos) {
            error = "'{unit' is not closed (write {unit} or {unit:03})";
            return std::nullopt;
        }
        const std::string_view spec = pattern.substr(open + 5, close - open - 5);
        std::string digits = std::to_string(unit);
        if (!spec.empty()) {
            // ":0N": zero-padded to N digits.
            if (spec.size() != 3 || spec[0] != ':' || spec[1] != '0' ||
                !std::isdigit(static_cast<unsigned char>(spec[2])) || spec[2] == '0') {
                error = "'{unit" + shown(spec) + "}' is not {unit} or {unit:0N} (N from 1 to 9)";
                return std::nullopt;
            }
            const std::size_t width = static_cast<std::size_t>(spec[2] - '0');
            if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
        }
        out += digits;
        found = true;
        i = close + 1;
    }
    if (!found) {
        error = "a range's id needs {unit} (or {unit:03}), else its nodes' ids would clash";
        return std::nullopt;
    }
    return out;
}

// ---- serial-nodes ---------------------------------------------------------------------------

void read_serial_models(MapReader& map, SerialNodesSourceConfig& out) {
    const Context& ctx = map.context();
    const std::vector<ReceivedAttribute> own = out.attributes;
    ModelRef model = read_model_name(map);
    if (has_received(model, map, ctx)) {
        out.model = model;
        out.attributes = merge_received(model->received, own);
    }
    auto list = map.find("models");
    if (!list) return;
    if (!list->IsSequence()) {
        ctx.error(
            map.value_position("models"),
            "models: expected a list of {nodes: GLOB, model: NAME}, got " + describe_value(*list));
        return;
    }
    if (!ctx.diag->spend(list->size(), map.value_position("models"))) return;
    std::size_t index = 0;
    for (const auto& item : *list) {
        MapReader entry(item, ctx, "models entry #" + std::to_string(++index));
        if (!entry.is_map()) continue;
        NodeSchema schema;
        schema.where = entry.where();
        bool ok = entry.text("nodes", schema.nodes, true);
        if (ok && schema.nodes.empty()) {
            ctx.error(entry.value_position("nodes"),
                      "nodes: must not be empty (use \"*\" for all)");
            ok = false;
        }
        if (!entry.find("model")) {
            ctx.error(entry.where(), "missing required key 'model' in " + entry.what());
            ok = false;
        }
        ModelRef named = read_model_name(entry);
        entry.finish();
        if (!ok || !has_received(named, entry, ctx)) continue;
        schema.model = named;
        schema.attributes = merge_received(named->received, own);
        out.node_models.push_back(std::move(schema));
    }
}

}  // namespace nodebridge::config_detail

namespace nodebridge {

bool IdentifyRegister::accepts(std::int64_t value) const {
    return std::any_of(ranges.begin(), ranges.end(), [&](const auto& range) {
        return value >= range.first && value <= range.second;
    });
}

}  // namespace nodebridge
