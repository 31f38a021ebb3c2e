#include "model_devices.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

namespace nodebridge::sim {

namespace {

// A plausible physical value and how it moves, for one attribute.
struct Behaviour {
    Signal signal = Signal::constant;
    double value = 0;                // constant; counter: start
    double base = 0, amplitude = 0;  // noise, sine
    double min = 0, max = 0;         // ramp
    double period_s = 60;
    double rate = 0;  // counter, per second
};

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

Behaviour behaviour(const ModbusAttribute& attribute) {
    const std::string& q = attribute.meaning.quantity;
    const std::string& name = attribute.name;
    const bool kilo = !attribute.unit.empty() && attribute.unit[0] == 'k';
    Behaviour b;
    if (q == "voltage") {
        const bool line_to_line = contains(name, "l1_l2") || contains(name, "l2_l3") ||
                                  contains(name, "l3_l1") || contains(name, "_ll");
        if (name.rfind("battery", 0) == 0) return {Signal::constant, 54.0};
        b.signal = Signal::noise;
        b.base = line_to_line ? 400.0 : 230.0;
        b.amplitude = 1.5;
    } else if (q == "current") {
        b.signal = Signal::ramp;
        b.min = 0.5;
        b.max = contains(name, "_n") ? 2.0 : 16.0;
        b.period_s = 60;
    } else if (q == "power" || q == "apparent_power" || q == "reactive_power") {
        b.signal = Signal::noise;
        b.base = q == "reactive_power" ? 300.0 : (q == "power" ? 1500.0 : 1600.0);
        b.amplitude = 20;
    } else if (q == "power_factor") {
        b.signal = Signal::noise;
        b.base = 0.95;
        b.amplitude = 0.01;
    } else if (q == "frequency") {
        b.signal = Signal::noise;
        b.base = 50.0;
        b.amplitude = 0.05;
    } else if (q == "energy" || q == "reactive_energy" || q == "apparent_energy") {
        b.signal = Signal::counter;
        b.value = kilo ? 1234.5 : 1234500.0;  // kWh or Wh
        b.rate = kilo ? 0.0005 : 0.5;         // about 1.8 kW
    } else if (q == "duration") {
        if (attribute.meaning.counter) {
            b.signal = Signal::counter;
            b.value = 1000;
            b.rate = attribute.unit == "h" ? 1.0 / 3600 : 1.0;
        } else {
            b.value = 42;
        }
    } else if (q == "temperature") {
        b.signal = Signal::sine;
        b.base = 22.0;
        b.amplitude = 1.5;
        b.period_s = 120;
    } else if (q == "humidity") {
        b.signal = Signal::sine;
        b.base = 45.0;
        b.amplitude = 5.0;
        b.period_s = 180;
    } else if (q == "percentage") {
        b.value = 3.5;
    } else if (q == "battery") {
        b.value = 100;
    } else if (q == "phase_angle") {
        b.value = 18;
    } else if (q == "pressure") {
        b.value = 1013;
    } else if (q == "carbon_dioxide") {
        b.signal = Signal::noise;
        b.base = 600;
        b.amplitude = 20;
    } else if (q == "illuminance") {
        b.value = 300;
    } else if (q == "signal_strength") {
        b.value = -60;
    }
    return b;  // no quantity: a constant 0 (status codes and the like)
}

// Physical value -> the number the registers hold (before the type's encoding).
double raw(const ModbusAttribute& a, double physical) { return (physical - a.offset) / a.scale; }

PointType point_type(ModbusType type) {
    switch (type) {
        case ModbusType::boolean:
            return PointType::boolean;
        case ModbusType::int16:
            return PointType::int16;
        case ModbusType::uint16:
            return PointType::uint16;
        case ModbusType::int32:
            return PointType::int32;
        case ModbusType::uint32:
            return PointType::uint32;
        case ModbusType::int64:
            return PointType::int64;
        case ModbusType::uint64:
            return PointType::uint64;
        case ModbusType::float32:
            return PointType::float32;
        case ModbusType::float64:
            return PointType::float64;
        case ModbusType::string:
            return PointType::string;
    }
    return PointType::uint16;
}

Table point_table(ModbusTable table) {
    switch (table) {
        case ModbusTable::coil:
            return Table::coil;
        case ModbusTable::discrete:
            return Table::discrete;
        case ModbusTable::input:
            return Table::input;
        case ModbusTable::holding:
            return Table::holding;
    }
    return Table::holding;
}

Point point(const ModbusAttribute& attribute) {
    Point p;
    p.name = attribute.name;
    p.table = point_table(attribute.table);
    p.address = attribute.address;
    p.type = point_type(attribute.type);
    p.length = attribute.length;
    p.little_word_order = attribute.word_order == WordOrder::little;
    p.byte_swap = attribute.byte_swap;
    if (p.type == PointType::string) {
        p.text = "nodebridge";
        return p;
    }
    if (p.type == PointType::boolean) {
        p.value = 1;
        return p;
    }
    const Behaviour b = behaviour(attribute);
    const double step = std::fabs(attribute.scale);
    p.signal = b.signal;
    p.value = raw(attribute, b.value);
    p.base = raw(attribute, b.base);
    p.amplitude = b.amplitude / step;
    p.min = raw(attribute, b.min);
    p.max = raw(attribute, b.max);
    if (p.min > p.max) std::swap(p.min, p.max);
    p.period_s = b.period_s;
    p.rate = b.rate / attribute.scale;
    return p;
}

}  // namespace

std::optional<std::vector<int>> parse_units(const std::string& text, std::string& error) {
    std::vector<int> units;
    std::set<int> seen;
    std::size_t at = 0;
    const auto number = [&](int& out) {
        std::size_t end = at;
        while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
        if (end == at || end - at > 3) return false;
        out = std::stoi(text.substr(at, end - at));
        at = end;
        return out <= 247;
    };
    while (true) {
        int first = 0, last = 0;
        if (!number(first)) break;
        last = first;
        if (at < text.size() && text[at] == '-') {
            ++at;
            if (!number(last) || last < first) break;
        }
        for (int unit = first; unit <= last; ++unit) {
            if (!seen.insert(unit).second) {
                error = "--units: unit " + std::to_string(unit) + " appears twice";
                return std::nullopt;
            }
            units.push_back(unit);
        }
        if (at == text.size()) return units;
        if (text[at] != ',') break;
        ++at;
    }
    error =
        "--units: expected a list like 1-10 or 1,3,10-20 of unit ids 0..247, got '" + text + "'";
    return std::nullopt;
}

std::vector<DeviceSpec> model_devices(const DeviceModel& model, const std::vector<int>& units) {
    std::vector<Point> points;
    for (const ModbusAttribute& attribute : model.attributes.list())
        points.push_back(point(attribute));
    // The model's `identify:`: its identification strings as function 43 objects (a device
    // with any must have the three basic ones, so an unnamed one is served as "-"), and each
    // identifying register holding the first value that identifies it.
    std::vector<std::pair<std::uint8_t, std::string>> objects;
    const ModelIdentity& identity = model.identify;
    if (!identity.vendor.empty() || !identity.product_code.empty()) {
        auto or_dash = [](const std::string& text) { return text.empty() ? "-" : text; };
        objects = {{0x00, or_dash(identity.vendor)},
                   {0x01, or_dash(identity.product_code)},
                   {0x02, identity.revision.empty() ? "0.0" : identity.revision}};
    }
    std::vector<DeviceSpec::FixedRead> fixed;
    for (const IdentifyRegister& reg : identity.registers) {
        if (reg.ranges.empty()) continue;
        const auto bits = static_cast<std::uint64_t>(reg.ranges.front().first);
        const int width = reg.type == ModbusType::int16 || reg.type == ModbusType::uint16   ? 1
                          : reg.type == ModbusType::int32 || reg.type == ModbusType::uint32 ? 2
                                                                                            : 4;
        DeviceSpec::FixedRead read;
        read.address = reg.address;
        for (int i = width - 1; i >= 0; --i)  // most significant word first
            read.words.push_back(static_cast<std::uint16_t>(bits >> (16 * i)));
        if (reg.word_order == WordOrder::little) std::reverse(read.words.begin(), read.words.end());
        fixed.push_back(std::move(read));
    }
    std::vector<DeviceSpec> specs;
    for (int unit : units) {
        DeviceSpec spec;
        spec.unit = unit;
        spec.points = points;
        spec.identification = objects;
        spec.fixed_reads = fixed;
        specs.push_back(std::move(spec));
    }
    return specs;
}

std::optional<DeviceModel> find_model(const std::string& name, const std::vector<std::string>& dirs,
                                      std::string& error) {
    // The loader reads model directories on the way to a config: give it the smallest one.
    const char* base = std::getenv("TMPDIR");
    std::string path = std::string(base && *base ? base : "/tmp") + "/nodebridge-sim-XXXXXX";
    const int fd = ::mkstemp(path.data());
    if (fd < 0) {
        error = "cannot create a temporary file to read the models";
        return std::nullopt;
    }
    const std::string config = "gateway: nodebridge-sim\n";
    const bool written =
        ::write(fd, config.data(), config.size()) == static_cast<ssize_t>(config.size());
    ::close(fd);
    LoadOptions options;
    options.model_dirs = dirs;
    const LoadResult result = written ? load_config(path, options) : LoadResult{};
    ::unlink(path.c_str());
    if (!written) {
        error = "cannot write a temporary file to read the models";
        return std::nullopt;
    }
    if (!result.config) {
        for (const auto& e : result.errors) error += (error.empty() ? "" : "\n") + e.to_string();
        return std::nullopt;
    }
    for (const ModelRef& model : result.config->models) {
        if (model->name == name) return *model;
    }
    error = "unknown model '" + name + "' (none of that name in";
    for (const auto& dir : dirs) error += " " + dir;
    error += ")";
    return std::nullopt;
}

}  // namespace nodebridge::sim
