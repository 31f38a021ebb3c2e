// Home Assistant's device classes, state classes and units (see homeassistant_classes.hpp).
//
// The sensor classes and the units each takes are Home Assistant's DEVICE_CLASS_UNITS
// (homeassistant/components/sensor/const.py) as of the developer documentation of
// 2026-08-19. Sources, read 2026-12-07 (home-assistant/core itself could not be fetched
// here: its snapshot is 2.0 GB, over the 500 MiB limit):
//   - homeassistant/const.py of Home Assistant 2026.1 (MAJOR_VERSION = 2026,
//     MINOR_VERSION = 1, PATCH_VERSION "0.dev0"; a fork's copy that changes only packaging
//     files): the UnitOf* enums and concentration constants, spelled as there (micro as
//     U+03BC, "\u03bc"), which DEVICE_CLASS_UNITS takes whole for area, atmospheric_pressure
//     and pressure (UnitOfPressure), data_rate, data_size, distance (UnitOfLength, with ft
//     and nmi), energy, energy_storage, energy_distance, irradiance, precipitation,
//     precipitation_intensity, speed (UnitOfSpeed and UnitOfVolumetricFlux), volume,
//     volume_storage, volume_flow_rate, weight (UnitOfMass) and wind_speed (UnitOfSpeed);
//   - home-assistant/developers.home-assistant, docs/core/entity/sensor.md, "Available
//     device classes" (repository state 186ad0639, 2026-08-19) for the classes that list
//     units one by one and for what came after 2026.1: uA for current (#3025, 2026-04-07),
//     mHz for frequency (#3030, 2026-04-02), uptime (#3032, 2026-04-24) and radon (#3223,
//     2026-07-02). That page writes micro as U+00B5; const.py's U+03BC is used here.
// Micro: Home Assistant spells it U+03BC (core PR #144853; developers' blog of
// 2025-08-20, "Standardize encoding of μ in units of measurement") and its sensor and
// number platforms turn the legacy U+00B5 spelling into it, so unit_fits() takes either.
// The non-numeric classes (date, enum, timestamp, uptime) take no unit; monetary takes an
// ISO 4217 code (any unit here). docs/homeassistant.md lists the table and the oldest Home
// Assistant release each part of it needs.

#include "nodebridge/homeassistant_classes.hpp"

#include <algorithm>

namespace nodebridge::homeassistant {
namespace {

struct SensorClass {
    std::string_view name;
    std::vector<std::string_view> units;  // empty: any; "" in the list: no unit
};

const std::vector<SensorClass>& sensor_table() {
    // Unit lists in const.py's enum order where a whole enum is taken.
#define NB_ENERGY                                                                          \
    "J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal", "Mcal", \
        "Gcal"
#define NB_PRESSURE                                                                   \
    "mPa", "Pa", "hPa", "kPa", "bar", "cbar", "mbar", "mmHg", "inHg", "inH\u2082O", \
        "psi"
#define NB_SPEED "Beaufort", "ft/s", "in/s", "m/min", "m/s", "km/h", "kn", "mph", "mm/s"
#define NB_VOLUME "ft\u00b3", "CCF", "MCF", "m\u00b3", "L", "mL", "gal", "fl. oz."
    static const std::vector<SensorClass> kTable = {
        {"absolute_humidity", {"g/m\u00b3", "mg/m\u00b3"}},
        {"apparent_power", {"mVA", "VA", "kVA"}},
        {"aqi", {""}},
        {"area",
         {"m\u00b2", "cm\u00b2", "km\u00b2", "mm\u00b2", "in\u00b2", "ft\u00b2", "yd\u00b2",
          "mi\u00b2", "ac", "ha"}},
        {"atmospheric_pressure", {NB_PRESSURE}},
        {"battery", {"%"}},
        {"blood_glucose_concentration", {"mg/dL", "mmol/L"}},
        {"carbon_dioxide", {"ppm"}},
        {"carbon_monoxide", {"ppb", "ppm", "\u03bcg/m\u00b3", "mg/m\u00b3"}},
        {"conductivity", {"S/cm", "\u03bcS/cm", "mS/cm"}},
        {"current", {"\u03bcA", "mA", "A"}},
        {"data_rate",
         {"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "B/s", "kB/s", "MB/s", "GB/s", "KiB/s", "MiB/s",
          "GiB/s"}},
        {"data_size", {"bit", "kbit", "Mbit", "Gbit", "B",   "kB",  "MB",  "GB",  "TB",  "PB", "EB",
                       "ZB",  "YB",   "KiB",  "MiB",  "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"}},
        {"date", {""}},
        {"distance", {"mm", "cm", "m", "km", "in", "ft", "yd", "mi", "nmi"}},
        {"duration", {"d", "h", "min", "s", "ms", "\u03bcs"}},
        {"energy", {NB_ENERGY}},
        {"energy_distance", {"kWh/100km", "Wh/km", "mi/kWh", "km/kWh"}},
        {"energy_storage", {NB_ENERGY}},
        {"enum", {""}},
        {"frequency", {"mHz", "Hz", "kHz", "MHz", "GHz"}},
        {"gas", {"L", "m\u00b3", "ft\u00b3", "CCF", "MCF"}},
        {"humidity", {"%"}},
        {"illuminance", {"lx"}},
        {"irradiance", {"W/m\u00b2", "BTU/(h\u22c5ft\u00b2)"}},
        {"moisture", {"%"}},
        {"monetary", {}},
        {"nitrogen_dioxide", {"ppb", "ppm", "\u03bcg/m\u00b3"}},
        {"nitrogen_monoxide", {"ppb", "\u03bcg/m\u00b3"}},
        {"nitrous_oxide", {"\u03bcg/m\u00b3"}},
        {"ozone", {"ppb", "ppm", "\u03bcg/m\u00b3"}},
        {"ph", {""}},
        {"pm1", {"\u03bcg/m\u00b3"}},
        {"pm10", {"\u03bcg/m\u00b3"}},
        {"pm25", {"\u03bcg/m\u00b3"}},
        {"pm4", {"\u03bcg/m\u00b3"}},
        {"power", {"mW", "W", "kW", "MW", "GW", "TW"}},
        {"power_factor", {"", "%"}},
        {"precipitation", {"in", "mm", "cm"}},
        {"precipitation_intensity", {"in/d", "in/h", "mm/d", "mm/h"}},
        {"pressure", {NB_PRESSURE}},
        {"radon", {"Bq/m\u00b3", "pCi/L"}},
        {"reactive_energy", {"varh", "kvarh"}},
        {"reactive_power", {"mvar", "var", "kvar"}},
        {"signal_strength", {"dB", "dBm"}},
        {"sound_pressure", {"dB", "dBA"}},
        {"speed", {NB_SPEED, "in/d", "in/h", "mm/d", "mm/h"}},
        {"sulphur_dioxide", {"ppb", "\u03bcg/m\u00b3"}},
        {"temperature", {"\u00b0C", "\u00b0F", "K"}},
        {"temperature_delta", {"\u00b0C", "\u00b0F", "K"}},
        {"timestamp", {""}},
        {"uptime", {""}},
        {"volatile_organic_compounds", {"\u03bcg/m\u00b3", "mg/m\u00b3"}},
        {"volatile_organic_compounds_parts", {"ppm", "ppb"}},
        {"voltage", {"\u03bcV", "mV", "V", "kV", "MV"}},
        {"volume", {NB_VOLUME}},
        {"volume_flow_rate",
         {"m\u00b3/h", "m\u00b3/min", "m\u00b3/s", "ft\u00b3/min", "L/h", "L/min", "L/s", "gal/h",
          "gal/min", "gal/d", "mL/s"}},
        {"volume_storage", {NB_VOLUME}},
        {"water", {"L", "gal", "m\u00b3", "ft\u00b3", "CCF", "MCF"}},
        {"weight", {"g", "kg", "mg", "\u03bcg", "oz", "lb", "st"}},
        {"wind_direction", {"\u00b0"}},
        {"wind_speed", {NB_SPEED}},
    };
#undef NB_ENERGY
#undef NB_PRESSURE
#undef NB_SPEED
#undef NB_VOLUME
    return kTable;
}

const std::vector<std::string_view>& binary_table() {
    static const std::vector<std::string_view> kTable = {
        "battery",
        "battery_charging",
        "carbon_monoxide",
        "cold",
        "connectivity",
        "door",
        "garage_door",
        "gas",
        "heat",
        "light",
        "lock",
        "moisture",
        "motion",
        "moving",
        "occupancy",
        "opening",
        "plug",
        "power",
        "presence",
        "problem",
        "running",
        "safety",
        "smoke",
        "sound",
        "tamper",
        "update",
        "vibration",
        "window",
    };
    return kTable;
}

const std::vector<std::string_view>& state_table() {
    static const std::vector<std::string_view> kTable = {"measurement", "measurement_angle",
                                                         "total", "total_increasing"};
    return kTable;
}

const SensorClass* find_sensor(std::string_view name) {
    for (const SensorClass& entry : sensor_table()) {
        if (entry.name == name) return &entry;
    }
    return nullptr;
}

bool listed(const std::vector<std::string_view>& list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

std::vector<std::string> to_strings(const std::vector<std::string_view>& names) {
    return {names.begin(), names.end()};
}

}  // namespace

bool is_sensor_class(std::string_view name) { return find_sensor(name) != nullptr; }
bool is_binary_sensor_class(std::string_view name) { return listed(binary_table(), name); }
bool is_switch_class(std::string_view name) { return name == "outlet" || name == "switch"; }
bool is_state_class(std::string_view name) { return listed(state_table(), name); }

const std::vector<std::string_view>& units_of(std::string_view device_class) {
    static const std::vector<std::string_view> kNone;
    const SensorClass* entry = find_sensor(device_class);
    return entry ? entry->units : kNone;
}

std::string canonical_unit(std::string_view unit) {
    constexpr std::string_view kMicroSign = "\u00b5";  // MICRO SIGN
    constexpr std::string_view kMu = "\u03bc";         // GREEK SMALL LETTER MU
    std::string out;
    out.reserve(unit.size());
    for (std::size_t i = 0; i < unit.size();) {
        if (unit.substr(i, kMicroSign.size()) == kMicroSign) {
            out += kMu;
            i += kMicroSign.size();
        } else {
            out += unit[i++];
        }
    }
    return out;
}

bool unit_fits(std::string_view device_class, std::string_view unit) {
    const auto& units = units_of(device_class);
    return units.empty() || listed(units, canonical_unit(unit));
}

std::string_view class_of_quantity(std::string_view quantity) {
    // The quantities of known_quantities() that Home Assistant has a sensor class for; the
    // others (percentage, phase_angle, apparent_energy) have none.
    static const std::vector<std::pair<std::string_view, std::string_view>> kMap = {
        {"voltage", "voltage"},
        {"current", "current"},
        {"power", "power"},
        {"apparent_power", "apparent_power"},
        {"reactive_power", "reactive_power"},
        {"energy", "energy"},
        {"reactive_energy", "reactive_energy"},
        {"power_factor", "power_factor"},
        {"frequency", "frequency"},
        {"temperature", "temperature"},
        {"humidity", "humidity"},
        {"pressure", "pressure"},
        {"carbon_dioxide", "carbon_dioxide"},
        {"illuminance", "illuminance"},
        {"duration", "duration"},
        {"battery", "battery"},
        {"signal_strength", "signal_strength"},
    };
    for (const auto& [from, to] : kMap) {
        if (from == quantity) return to;
    }
    return {};
}

std::string_view class_of_unit(std::string_view unit) {
    // Units that belong to exactly one of the classes discovery derives. Ambiguous ones
    // (%, ppm, dB, L, m³, J...) derive nothing: a quantity or an override says what they are.
    static const std::vector<std::pair<std::string_view, std::string_view>> kMap = {
        {"V", "voltage"},
        {"mV", "voltage"},
        {"kV", "voltage"},
        {"A", "current"},
        {"mA", "current"},
        {"W", "power"},
        {"kW", "power"},
        {"MW", "power"},
        {"mW", "power"},
        {"VA", "apparent_power"},
        {"mVA", "apparent_power"},
        {"var", "reactive_power"},
        {"kvar", "reactive_power"},
        {"Wh", "energy"},
        {"kWh", "energy"},
        {"MWh", "energy"},
        {"GWh", "energy"},
        {"mWh", "energy"},
        {"varh", "reactive_energy"},
        {"kvarh", "reactive_energy"},
        {"Hz", "frequency"},
        {"kHz", "frequency"},
        {"MHz", "frequency"},
        {"GHz", "frequency"},
        {"\u00b0C", "temperature"},
        {"\u00b0F", "temperature"},
        {"K", "temperature"},
        {"hPa", "pressure"},
        {"kPa", "pressure"},
        {"Pa", "pressure"},
        {"bar", "pressure"},
        {"mbar", "pressure"},
        {"psi", "pressure"},
        {"lx", "illuminance"},
        {"dBm", "signal_strength"},
    };
    for (const auto& [from, to] : kMap) {
        if (from == unit) return to;
    }
    return {};
}

bool is_total_class(std::string_view device_class) {
    return device_class == "energy" || device_class == "reactive_energy";
}

std::string some_of(const std::vector<std::string_view>& names, std::size_t shown) {
    std::string text;
    for (std::size_t i = 0; i < names.size() && i < shown; ++i) {
        if (i > 0) text += ", ";
        text += names[i].empty() ? std::string_view("none") : names[i];
    }
    if (names.size() > shown) text += " and " + std::to_string(names.size() - shown) + " more";
    return text;
}

std::vector<std::string> sensor_classes() {
    std::vector<std::string> names;
    for (const SensorClass& entry : sensor_table()) names.emplace_back(entry.name);
    return names;
}
std::vector<std::string> binary_sensor_classes() { return to_strings(binary_table()); }
std::vector<std::string> state_classes() { return to_strings(state_table()); }

}  // namespace nodebridge::homeassistant
