#include "devices.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <numbers>

#include "device_id.hpp"
#include "model_devices.hpp"
#include "options.hpp"

namespace nodebridge::sim {

namespace {

constexpr std::uint32_t kMaxTableSize = 65536;

const std::map<std::string, Table> kTables = {{"coil", Table::coil},
                                              {"discrete", Table::discrete},
                                              {"input", Table::input},
                                              {"holding", Table::holding}};
const std::map<std::string, PointType> kTypes = {
    {"bool", PointType::boolean},  {"int16", PointType::int16},     {"uint16", PointType::uint16},
    {"int32", PointType::int32},   {"uint32", PointType::uint32},   {"int64", PointType::int64},
    {"uint64", PointType::uint64}, {"float32", PointType::float32}, {"float64", PointType::float64},
    {"string", PointType::string}};
const std::map<std::string, Signal> kSignals = {
    {"constant", Signal::constant}, {"noise", Signal::noise},     {"ramp", Signal::ramp},
    {"sine", Signal::sine},         {"counter", Signal::counter}, {"product", Signal::product}};

bool is_bits(Table table) { return table == Table::coil || table == Table::discrete; }

Point make(std::string name, Table table, std::uint16_t address, PointType type) {
    Point point;
    point.name = std::move(name);
    point.table = table;
    point.address = address;
    point.type = type;
    return point;
}

DeviceSpec pdu(int unit) {
    DeviceSpec spec;
    spec.unit = unit;
    Point voltage = make("voltage", Table::input, 0, PointType::float32);
    voltage.signal = Signal::noise;
    voltage.base = 230;
    voltage.amplitude = 1.5;
    Point current = make("current", Table::input, 2, PointType::float32);
    current.signal = Signal::ramp;
    current.min = 0;
    current.max = 16;
    current.period_s = 30.0 * (unit + 1);
    Point power = make("power", Table::input, 4, PointType::float32);
    power.signal = Signal::product;
    power.of = {"voltage", "current"};
    Point energy = make("energy", Table::holding, 100, PointType::uint32);
    energy.signal = Signal::counter;
    energy.value = 100000.0 * unit;  // Wh at start
    energy.rate = 0.5;               // Wh per second, about 1.8 kW
    Point breaker = make("breaker", Table::coil, 0, PointType::boolean);
    breaker.value = 1;
    spec.points = {voltage, current, power, energy, breaker};
    spec.sizes = {{Table::coil, 16}, {Table::input, 6}, {Table::holding, 128}};
    return spec;
}

DeviceSpec meter(int unit) {
    DeviceSpec spec;
    spec.unit = unit;
    Point frequency = make("frequency", Table::input, 70, PointType::float32);
    frequency.little_word_order = true;
    frequency.signal = Signal::noise;
    frequency.base = 50;
    frequency.amplitude = 0.05;
    Point temperature = make("temperature", Table::holding, 10, PointType::int16);
    temperature.signal = Signal::sine;  // 0.1 degC: 21.5 +- 1.5 degC
    temperature.base = 215;
    temperature.amplitude = 15;
    temperature.period_s = 120;
    spec.points = {frequency, temperature};
    spec.sizes = {{Table::input, 72}, {Table::holding, 16}};
    return spec;
}

struct ParseError {
    std::string message;
};

std::string where(const YAML::Node& node) {
    const YAML::Mark mark = node.Mark();
    if (mark.line < 0) return "";
    return std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": ";
}

[[noreturn]] void fail(const YAML::Node& node, const std::string& message) {
    throw ParseError{where(node) + message};
}

template <typename T>
T scalar(const YAML::Node& node, const std::string& key) {
    try {
        return node.as<T>();
    } catch (const YAML::Exception&) {
        fail(node, "'" + key + "' has the wrong type");
    }
}

template <typename Enum>
Enum lookup(const std::map<std::string, Enum>& names, const YAML::Node& node,
            const std::string& key) {
    const auto text = scalar<std::string>(node, key);
    const auto it = names.find(text);
    if (it == names.end()) fail(node, "unknown " + key + " '" + text + "'");
    return it->second;
}

Point parse_point(const YAML::Node& node) {
    if (!node.IsMap()) fail(node, "a point is a map");
    Point point;
    bool has_table = false, has_address = false, has_type = false;
    std::optional<YAML::Node> value_node;  // read once the type is known
    for (const auto& entry : node) {
        const auto key = entry.first.as<std::string>();
        const YAML::Node& value = entry.second;
        if (key == "name") {
            point.name = scalar<std::string>(value, key);
        } else if (key == "table") {
            point.table = lookup(kTables, value, key);
            has_table = true;
        } else if (key == "address") {
            const auto address = scalar<long>(value, key);
            if (address < 0 || address > 65535) fail(value, "address must be 0..65535");
            point.address = static_cast<std::uint16_t>(address);
            has_address = true;
        } else if (key == "type") {
            point.type = lookup(kTypes, value, key);
            has_type = true;
        } else if (key == "length") {
            const auto length = scalar<long>(value, key);
            if (length < 1 || length > 125) fail(value, "length must be 1..125");
            point.length = static_cast<std::uint16_t>(length);
        } else if (key == "word_order") {
            const auto order = scalar<std::string>(value, key);
            if (order != "big" && order != "little") fail(value, "word_order is big or little");
            point.little_word_order = order == "little";
        } else if (key == "byte_swap") {
            point.byte_swap = scalar<bool>(value, key);
        } else if (key == "signal") {
            point.signal = lookup(kSignals, value, key);
        } else if (key == "value" || key == "start") {
            value_node.emplace(value);
        } else if (key == "base") {
            point.base = scalar<double>(value, key);
        } else if (key == "amplitude") {
            point.amplitude = scalar<double>(value, key);
        } else if (key == "min") {
            point.min = scalar<double>(value, key);
        } else if (key == "max") {
            point.max = scalar<double>(value, key);
        } else if (key == "rate") {
            point.rate = scalar<double>(value, key);
        } else if (key == "period") {
            const auto seconds = parse_seconds(scalar<std::string>(value, key));
            if (!seconds) fail(value, "period is a duration such as 500ms, 60s or 2m");
            point.period_s = *seconds;
        } else if (key == "of") {
            point.of = scalar<std::vector<std::string>>(value, key);
            if (point.of.size() != 2) fail(value, "'of' names two points");
        } else {
            fail(entry.first, "unknown key '" + key + "' in a point");
        }
    }
    if (!has_table || !has_address || !has_type) {
        fail(node, "a point needs table, address and type");
    }
    if (value_node) {
        if (point.type == PointType::string) {
            point.text = scalar<std::string>(*value_node, "value");
            if (point.text.size() > 250) fail(*value_node, "a string value has at most 250 bytes");
        } else {
            try {
                point.value = value_node->as<double>();
            } catch (const YAML::Exception&) {
                point.value = scalar<bool>(*value_node, "value") ? 1 : 0;
            }
        }
    }
    if (point.type == PointType::string) {
        if (point.length == 0)
            point.length = static_cast<std::uint16_t>((point.text.size() + 1) / 2);
        if (point.length == 0) fail(node, "a string point needs a length or a value");
        if (point.signal != Signal::constant) fail(node, "a string point is constant");
    }
    if (point.signal == Signal::product && point.of.size() != 2) {
        fail(node, "a product names two points in 'of'");
    }
    return point;
}

DeviceSpec parse_device(const YAML::Node& node) {
    if (!node.IsMap()) fail(node, "a device is a map");
    DeviceSpec spec;
    bool has_unit = false;
    std::string model;
    for (const auto& entry : node) {
        const auto key = entry.first.as<std::string>();
        const YAML::Node& value = entry.second;
        if (key == "unit") {
            spec.unit = scalar<int>(value, key);
            if (spec.unit < 0 || spec.unit > 247) fail(value, "unit must be 0..247");
            has_unit = true;
        } else if (key == "unmapped") {
            if (!value.IsSequence()) fail(value, "unmapped is a list of { table, from, to }");
            for (const auto& range : value) {
                if (!range.IsMap() || !range["table"] || !range["from"] || !range["to"]) {
                    fail(range, "an unmapped range is { table, from, to }");
                }
                const Table table = lookup(kTables, range["table"], "table");
                const auto from = scalar<long>(range["from"], "from");
                const auto to = scalar<long>(range["to"], "to");
                if (from < 0 || to < from || to > 65535)
                    fail(range, "need 0 <= from <= to <= 65535");
                spec.unmapped.emplace_back(table, static_cast<std::uint32_t>(from),
                                           static_cast<std::uint32_t>(to));
            }
        } else if (key == "turnaround") {
            const auto seconds = parse_seconds(scalar<std::string>(value, key), true);
            if (!seconds || *seconds > 10) {
                fail(value, "turnaround is a duration from 0 to 10s, such as 5ms");
            }
            spec.turnaround_s = *seconds;
        } else if (key == "model") {
            model = scalar<std::string>(value, key);
            if (model != "pdu" && model != "meter") fail(value, "model is pdu or meter");
        } else if (key == "points") {
            if (!value.IsSequence()) fail(value, "points is a list");
            for (const auto& point : value) spec.points.push_back(parse_point(point));
        } else if (key == "sizes") {
            if (!value.IsMap()) fail(value, "sizes is a map of table: size");
            for (const auto& size : value) {
                const Table table = lookup(kTables, size.first, "table");
                const auto count = scalar<long>(size.second, "size");
                if (count < 0 || count > kMaxTableSize) fail(size.second, "size must be 0..65536");
                spec.sizes[table] = static_cast<std::uint32_t>(count);
            }
        } else {
            fail(entry.first, "unknown key '" + key + "' in a device");
        }
    }
    if (!has_unit) fail(node, "a device needs a unit");
    if (!model.empty()) {
        DeviceSpec preset = model == "pdu" ? pdu(spec.unit) : meter(spec.unit);
        preset.points.insert(preset.points.end(), spec.points.begin(), spec.points.end());
        for (const auto& [table, size] : spec.sizes) preset.sizes[table] = size;
        preset.turnaround_s = spec.turnaround_s;
        preset.unmapped = spec.unmapped;
        return preset;
    }
    return spec;
}

void set_word(modbus_mapping_t* mapping, Table table, std::uint32_t address, std::uint16_t word) {
    if (table == Table::input) {
        mapping->tab_input_registers[address] = word;
    } else {
        mapping->tab_registers[address] = word;
    }
}

std::uint32_t table_size(const modbus_mapping_t* mapping, Table table) {
    switch (table) {
        case Table::coil:
            return static_cast<std::uint32_t>(mapping->nb_bits);
        case Table::discrete:
            return static_cast<std::uint32_t>(mapping->nb_input_bits);
        case Table::input:
            return static_cast<std::uint32_t>(mapping->nb_input_registers);
        case Table::holding:
            return static_cast<std::uint32_t>(mapping->nb_registers);
    }
    return 0;
}

std::uint16_t read_u16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace

std::optional<double> parse_seconds(const std::string& text, bool allow_zero) {
    double number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || !std::isfinite(number) || number < 0) return std::nullopt;
    if (number == 0 && !allow_zero) return std::nullopt;
    const std::string_view unit(end, text.data() + text.size());
    if (unit.empty() || unit == "s") return number;
    if (unit == "ms") return number / 1000;
    if (unit == "us") return number / 1e6;
    if (unit == "m") return number * 60;
    if (unit == "h") return number * 3600;
    return std::nullopt;
}

std::uint16_t Point::width() const {
    if (is_bits(table)) return 1;
    switch (type) {
        case PointType::boolean:
        case PointType::int16:
        case PointType::uint16:
            return 1;
        case PointType::int32:
        case PointType::uint32:
        case PointType::float32:
            return 2;
        case PointType::int64:
        case PointType::uint64:
        case PointType::float64:
            return 4;
        case PointType::string:
            return length;
    }
    return 1;
}

std::vector<DeviceSpec> default_devices() { return {pdu(1), pdu(2), meter(7)}; }

std::vector<DeviceSpec> generated_devices(int nodes, int attributes) {
    std::vector<DeviceSpec> specs;
    for (int unit = 1; unit <= nodes; ++unit) {
        DeviceSpec spec;
        spec.unit = unit;
        for (int k = 0; k < attributes; ++k) {
            Point point = make("a" + std::to_string(k), Table::input,
                               static_cast<std::uint16_t>(2 * k), PointType::float32);
            point.signal = Signal::noise;
            point.base = 10.0 * k + unit;
            point.amplitude = 0.5;
            spec.points.push_back(point);
        }
        specs.push_back(std::move(spec));
    }
    return specs;
}

std::optional<std::vector<DeviceSpec>> load_devices(const std::string& path, std::string& error) {
    try {
        const YAML::Node root = YAML::LoadFile(path);
        if (!root.IsMap() || !root["devices"] || !root["devices"].IsSequence()) {
            error = path + ": expected a map with a 'devices' list";
            return std::nullopt;
        }
        for (const auto& entry : root) {
            if (entry.first.as<std::string>() != "devices") {
                throw ParseError{where(entry.first) + "unknown key '" +
                                 entry.first.as<std::string>() + "'"};
            }
        }
        std::vector<DeviceSpec> specs;
        for (const auto& device : root["devices"]) specs.push_back(parse_device(device));
        return specs;
    } catch (const ParseError& e) {
        error = path + ":" + e.message;
    } catch (const YAML::Exception& e) {
        error = path + ": " + e.what();
    }
    return std::nullopt;
}

std::unique_ptr<DeviceSet> DeviceSet::create(std::vector<DeviceSpec> specs, std::string& error) {
    std::unique_ptr<DeviceSet> set(new DeviceSet());
    for (DeviceSpec& spec : specs) {
        const std::string prefix = "unit " + std::to_string(spec.unit) + ": ";
        if (set->devices_.contains(spec.unit)) {
            error = prefix + "defined twice";
            return nullptr;
        }
        std::map<Table, std::uint32_t> extent;
        for (const Point& point : spec.points) {
            const std::uint32_t end = std::uint32_t{point.address} + point.width();
            if (end > kMaxTableSize) {
                error = prefix + "point at " + std::to_string(point.address) + " runs past 65535";
                return nullptr;
            }
            extent[point.table] = std::max(extent[point.table], end);
        }
        std::map<Table, std::uint32_t> sizes = extent;
        for (const auto& [table, size] : spec.sizes) {
            if (size < extent[table]) {
                error = prefix + "a table size is smaller than its points need";
                return nullptr;
            }
            sizes[table] = size;
        }
        Device device;
        device.mapping =
            modbus_mapping_new_start_address(0, sizes[Table::coil], 0, sizes[Table::discrete], 0,
                                             sizes[Table::holding], 0, sizes[Table::input]);
        if (device.mapping == nullptr) {
            error = prefix + "cannot allocate its registers";
            return nullptr;
        }
        device.current.assign(spec.points.size(), 0.0);
        device.counters.assign(spec.points.size(), 0.0);
        device.factors.assign(spec.points.size(), {-1, -1});
        for (std::size_t i = 0; i < spec.points.size(); ++i) {
            const Point& point = spec.points[i];
            device.counters[i] = point.value;
            if (point.signal != Signal::product) continue;
            auto find = [&](const std::string& name) {
                for (std::size_t j = 0; j < i; ++j) {
                    if (spec.points[j].name == name) return static_cast<int>(j);
                }
                return -1;
            };
            device.factors[i] = {find(point.of[0]), find(point.of[1])};
            if (device.factors[i].first < 0 || device.factors[i].second < 0) {
                modbus_mapping_free(device.mapping);
                error = prefix + "a product names points that are not defined before it";
                return nullptr;
            }
        }
        device.spec = std::move(spec);
        const int unit = device.spec.unit;
        auto& stored = set->devices_[unit] = std::move(device);
        // Constants are written once; everything else on every tick.
        for (std::size_t i = 0; i < stored.spec.points.size(); ++i) {
            set->write_point(stored, i, stored.spec.points[i].value);
        }
    }
    set->tick(0);
    return set;
}

DeviceSet::~DeviceSet() {
    for (auto& [unit, device] : devices_) modbus_mapping_free(device.mapping);
}

modbus_mapping_t* DeviceSet::mapping(int unit) {
    const auto it = devices_.find(unit);
    return it == devices_.end() ? nullptr : it->second.mapping;
}

std::string DeviceSet::unit_list() const {
    std::string out;
    for (const auto& [unit, device] : devices_) {
        if (!out.empty()) out += ",";
        out += std::to_string(unit);
    }
    return out;
}

bool DeviceSet::refuses(int unit, const std::uint8_t* pdu, std::size_t size) const {
    static constexpr Table kByFunction[] = {Table::coil, Table::discrete, Table::holding,
                                            Table::input};
    if (size < 5 || pdu[0] < 1 || pdu[0] > 4) return false;
    const Table table = kByFunction[pdu[0] - 1];
    const auto address = static_cast<std::uint32_t>((pdu[1] << 8) | pdu[2]);
    const auto count = static_cast<std::uint32_t>((pdu[3] << 8) | pdu[4]);
    const auto it = devices_.find(unit);
    if (it == devices_.end() || count == 0) return false;
    for (const auto& [range_table, first, last] : it->second.spec.unmapped) {
        if (range_table == table && address <= last && address + count - 1 >= first) return true;
    }
    return false;
}

std::optional<std::vector<std::uint8_t>> DeviceSet::special_reply(int unit, const std::uint8_t* pdu,
                                                                  std::size_t size) const {
    const auto it = devices_.find(unit);
    if (it == devices_.end() || size < 1) return std::nullopt;
    const DeviceSpec& spec = it->second.spec;
    if (pdu[0] == modbus::device_id::kFunction) {
        // Without identification: exception 1 (illegal function) at once; libmodbus's
        // modbus_reply() would send it only after sleeping its response timeout.
        if (spec.identification.empty()) return std::vector<std::uint8_t>{0xAB, 0x01};
        // Conformity 0x81: basic identification, stream and individual access (6.21).
        return modbus::device_id::answer(std::span(pdu, size), spec.identification, 0x81);
    }
    if ((pdu[0] != 3 && pdu[0] != 4) || size != 5) return std::nullopt;
    const auto address = static_cast<std::uint16_t>((pdu[1] << 8) | pdu[2]);
    const auto count = static_cast<std::size_t>((pdu[3] << 8) | pdu[4]);
    for (const DeviceSpec::FixedRead& fixed : spec.fixed_reads) {
        if (fixed.address != address || fixed.words.size() != count) continue;
        std::vector<std::uint8_t> reply{pdu[0], static_cast<std::uint8_t>(2 * count)};
        for (std::uint16_t word : fixed.words) {
            reply.push_back(static_cast<std::uint8_t>(word >> 8));
            reply.push_back(static_cast<std::uint8_t>(word & 0xFF));
        }
        return reply;
    }
    return std::nullopt;
}

std::optional<double> DeviceSet::turnaround(int unit) const {
    const auto it = devices_.find(unit);
    return it == devices_.end() ? std::nullopt : it->second.spec.turnaround_s;
}

void DeviceSet::note_request(int unit, const std::uint8_t* pdu, std::size_t size) {
    const auto it = devices_.find(unit);
    if (it == devices_.end() || size < 5) return;
    Device& device = it->second;
    const std::uint8_t function = pdu[0];
    std::uint32_t address = read_u16(pdu + 1);
    std::uint32_t count = 1;
    Table table = Table::holding;
    switch (function) {
        case MODBUS_FC_WRITE_SINGLE_COIL:
            table = Table::coil;
            break;
        case MODBUS_FC_WRITE_SINGLE_REGISTER:
        case MODBUS_FC_MASK_WRITE_REGISTER:
            break;
        case MODBUS_FC_WRITE_MULTIPLE_COILS:
            table = Table::coil;
            count = read_u16(pdu + 3);
            break;
        case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
            count = read_u16(pdu + 3);
            break;
        case MODBUS_FC_WRITE_AND_READ_REGISTERS:
            if (size < 9) return;
            address = read_u16(pdu + 5);
            count = read_u16(pdu + 7);
            break;
        default:
            return;
    }
    count = std::min<std::uint32_t>(count, 2000);
    const std::uint32_t limit = table_size(device.mapping, table);
    for (std::uint32_t a = address; a < address + count && a < limit; ++a) {
        device.written.insert({table, a});
    }
}

void DeviceSet::tick(double seconds) {
    const double dt = std::max(0.0, seconds - last_tick_);
    last_tick_ = seconds;
    std::uniform_real_distribution<double> unit_noise(-1.0, 1.0);
    for (auto& [unit, device] : devices_) {
        for (std::size_t i = 0; i < device.spec.points.size(); ++i) {
            const Point& point = device.spec.points[i];
            double value = point.value;
            switch (point.signal) {
                case Signal::constant:
                    device.current[i] = point.value;
                    continue;
                case Signal::noise:
                    value = point.base + point.amplitude * unit_noise(random_);
                    break;
                case Signal::ramp:
                    value = point.min + (point.max - point.min) *
                                            std::fmod(seconds, point.period_s) / point.period_s;
                    break;
                case Signal::sine:
                    value = point.base + point.amplitude * std::sin(2 * std::numbers::pi * seconds /
                                                                    point.period_s);
                    break;
                case Signal::counter:
                    device.counters[i] += point.rate * dt;
                    value = device.counters[i];
                    break;
                case Signal::product:
                    value = device.current[device.factors[i].first] *
                            device.current[device.factors[i].second];
                    break;
            }
            device.current[i] = value;
            write_point(device, i, value);
        }
    }
}

void DeviceSet::write_point(Device& device, std::size_t index, double value) {
    const Point& point = device.spec.points[index];
    const std::uint16_t width = point.width();
    for (std::uint32_t a = point.address; a < std::uint32_t{point.address} + width; ++a) {
        if (device.written.contains({point.table, a})) return;  // the client owns it now
    }
    modbus_mapping_t* mapping = device.mapping;
    if (is_bits(point.table)) {
        std::uint8_t* bits =
            point.table == Table::coil ? mapping->tab_bits : mapping->tab_input_bits;
        bits[point.address] = value != 0 ? 1 : 0;
        return;
    }
    std::vector<std::uint16_t> words(width, 0);
    if (point.type == PointType::string) {
        for (std::size_t b = 0; b < point.text.size() && b < 2u * width; ++b) {
            const auto byte = static_cast<std::uint8_t>(point.text[b]);
            words[b / 2] |= static_cast<std::uint16_t>(b % 2 == 0 ? byte << 8 : byte);
        }
    } else {
        std::uint64_t raw = 0;
        auto integer = [&](double lo, double hi) {
            const double clamped = std::clamp(std::round(value), lo, hi);
            return static_cast<std::int64_t>(clamped);
        };
        switch (point.type) {
            case PointType::boolean:
                raw = value != 0 ? 1 : 0;
                break;
            case PointType::int16:
                raw = static_cast<std::uint16_t>(integer(-32768, 32767));
                break;
            case PointType::uint16:
                raw = static_cast<std::uint64_t>(integer(0, 65535));
                break;
            case PointType::int32:
                raw = static_cast<std::uint32_t>(integer(-2147483648.0, 2147483647.0));
                break;
            case PointType::uint32:
                raw = static_cast<std::uint64_t>(integer(0, 4294967295.0));
                break;
            case PointType::int64:
                raw = static_cast<std::uint64_t>(integer(-9.2e18, 9.2e18));
                break;
            case PointType::uint64:
                raw = static_cast<std::uint64_t>(integer(0, 9.2e18));
                break;
            case PointType::float32:
                raw = std::bit_cast<std::uint32_t>(static_cast<float>(value));
                break;
            case PointType::float64:
                raw = std::bit_cast<std::uint64_t>(value);
                break;
            case PointType::string:
                break;
        }
        for (std::uint16_t w = 0; w < width; ++w) {
            // words[0] is the most significant word in big word order.
            words[w] = static_cast<std::uint16_t>(raw >> (16 * (width - 1 - w)));
        }
        if (point.little_word_order) std::reverse(words.begin(), words.end());
    }
    for (std::uint16_t w = 0; w < width; ++w) {
        std::uint16_t word = words[w];
        if (point.byte_swap) word = static_cast<std::uint16_t>((word << 8) | (word >> 8));
        set_word(mapping, point.table, point.address + w, word);
    }
}

std::unique_ptr<DeviceSet> devices_from_options(Options& options, std::string& error) {
    const auto file = options.text("devices");
    const auto nodes = options.integer("nodes", 1, 247);
    const auto attributes = options.integer("attributes", 1, 1000);
    const auto model = options.text("model");
    const auto units = options.text("units");
    const auto model_dir = options.text("model-dir");
    if (!options.ok()) {
        error = options.error();
        return nullptr;
    }
    std::vector<DeviceSpec> specs;
    if (model) {
        if (file || nodes || attributes) {
            error = "--model excludes --devices and --nodes/--attributes";
            return nullptr;
        }
        const auto unit_list = parse_units(units.value_or("1"), error);
        if (!unit_list) return nullptr;
        const std::vector<std::string> dirs =
            model_dir ? std::vector<std::string>{*model_dir} : default_model_dirs();
        const auto found = find_model(*model, dirs, error);
        if (!found) return nullptr;
        specs = model_devices(*found, *unit_list);
    } else if (units || model_dir) {
        error = "--units and --model-dir need --model";
        return nullptr;
    } else if (file) {
        if (nodes || attributes) {
            error = "--devices and --nodes/--attributes exclude each other";
            return nullptr;
        }
        auto loaded = load_devices(*file, error);
        if (!loaded) return nullptr;
        specs = std::move(*loaded);
    } else if (nodes || attributes) {
        specs = generated_devices(static_cast<int>(nodes.value_or(1)),
                                  static_cast<int>(attributes.value_or(1)));
    } else {
        specs = default_devices();
    }
    return DeviceSet::create(std::move(specs), error);
}

}  // namespace nodebridge::sim
