// Home Assistant's device classes, state classes and units (see homeassistant_classes.hpp).
//
// The sensor classes and their units are home-assistant.io's
// source/_integrations/sensor.markdown, "Device class" (the list read 2026-11-28); the
// binary sensor classes are binary_sensor.markdown, "Device class"; the switch classes are
// switch.markdown. A class listed without units takes any unit or none.

#include "nodebridge/homeassistant_classes.hpp"

#include <algorithm>

namespace nodebridge::homeassistant {
namespace {

struct SensorClass {
    std::string_view name;
    std::vector<std::string_view> units;  // empty: any
};

const std::vector<SensorClass>& sensor_table() {
    static const std::vector<SensorClass> kTable = {
        {"absolute_humidity", {"g/m\u00b3", "mg/m\u00b3"}},
        {"apparent_power", {"mVA", "VA"}},
        {"aqi", {""}},
        {"area",
         {"m\u00b2", "cm\u00b2", "km\u00b2", "mm\u00b2", "in\u00b2", "ft\u00b2", "yd\u00b2",
          "mi\u00b2", "ac", "ha"}},
        {"atmospheric_pressure",
         {"cbar", "bar", "hPa", "mmHg", "inHg", "kPa", "mbar", "Pa", "psi"}},
        {"battery", {"%"}},
        {"blood_glucose_concentration", {"mg/dL", "mmol/L"}},
        {"carbon_dioxide", {"ppm"}},
        {"carbon_monoxide", {"ppm"}},
        {"current", {"A", "mA"}},
        {"data_rate",
         {"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "B/s", "kB/s", "MB/s", "GB/s", "KiB/s", "MiB/s",
          "GiB/s"}},
        {"data_size", {"bit", "kbit", "Mbit", "Gbit", "B",   "kB",  "MB",  "GB",  "TB",  "PB", "EB",
                       "ZB",  "YB",   "KiB",  "MiB",  "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"}},
        {"date", {}},
        {"distance", {"km", "m", "cm", "mm", "mi", "nmi", "yd", "in"}},
        {"duration", {"d", "h", "min", "s", "ms", "\u00b5s"}},
        {"energy",
         {"J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal", "Mcal",
          "Gcal"}},
        {"energy_distance", {"kWh/100km", "Wh/km", "mi/kWh", "km/kWh"}},
        {"energy_storage",
         {"J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal", "Mcal",
          "Gcal"}},
        {"enum", {}},
        {"frequency", {"Hz", "kHz", "MHz", "GHz"}},
        {"gas", {"L", "m\u00b3", "ft\u00b3", "CCF"}},
        {"humidity", {"%"}},
        {"illuminance", {"lx"}},
        {"irradiance", {"W/m\u00b2", "BTU/(h\u22c5ft\u00b2)"}},
        {"moisture", {"%"}},
        {"monetary", {}},
        {"nitrogen_dioxide", {"\u00b5g/m\u00b3"}},
        {"nitrogen_monoxide", {"\u00b5g/m\u00b3"}},
        {"nitrous_oxide", {"\u00b5g/m\u00b3"}},
        {"ozone", {"\u00b5g/m\u00b3"}},
        {"ph", {""}},
        {"pm1", {"\u00b5g/m\u00b3"}},
        {"pm25", {"\u00b5g/m\u00b3"}},
        {"pm10", {"\u00b5g/m\u00b3"}},
        {"power_factor", {"", "%"}},
        {"power", {"mW", "W", "kW", "MW", "GW", "TW"}},
        {"precipitation", {"cm", "in", "mm"}},
        {"precipitation_intensity", {"in/d", "in/h", "mm/d", "mm/h"}},
        {"pressure", {"Pa", "kPa", "hPa", "bar", "cbar", "mbar", "mmHg", "inHg", "psi"}},
        {"reactive_energy", {"varh", "kvarh"}},
        {"reactive_power", {"var", "kvar"}},
        {"signal_strength", {"dB", "dBm"}},
        {"sound_pressure", {"dB", "dBA"}},
        {"speed", {"ft/s", "in/d", "in/h", "in/s", "km/h", "kn", "m/s", "mph", "mm/d", "mm/s"}},
        {"sulphur_dioxide", {"\u00b5g/m\u00b3"}},
        {"temperature", {"\u00b0C", "\u00b0F", "K"}},
        {"timestamp", {}},
        {"volatile_organic_compounds", {"\u00b5g/m\u00b3", "mg/m\u00b3"}},
        {"volatile_organic_compounds_parts", {"ppm", "ppb"}},
        {"voltage", {"V", "mV", "\u00b5V", "kV", "MV"}},
        {"volume", {"L", "mL", "gal", "fl. oz.", "m\u00b3", "ft\u00b3", "CCF"}},
        {"volume_flow_rate",
         {"m\u00b3/h", "m\u00b3/s", "ft\u00b3/min", "L/h", "L/min", "L/s", "gal/min", "mL/s"}},
        {"volume_storage", {"L", "mL", "gal", "fl. oz.", "m\u00b3", "ft\u00b3", "CCF"}},
        {"water", {"L", "gal", "m\u00b3", "ft\u00b3", "CCF"}},
        {"weight", {"kg", "g", "mg", "\u00b5g", "oz", "lb", "st"}},
        {"wind_direction", {"\u00b0"}},
        {"wind_speed", {"Beaufort", "ft/s", "km/h", "kn", "m/s", "mph"}},
    };
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

bool unit_fits(std::string_view device_class, std::string_view unit) {
    const auto& units = units_of(device_class);
    return units.empty() || listed(units, unit);
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
