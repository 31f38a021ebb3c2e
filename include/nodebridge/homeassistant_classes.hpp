#pragma once
// Home Assistant's entity classes, as far as discovery needs them: which device and state
// classes exist, which units a sensor device class takes, and what an attribute's quantity or
// unit makes of it. Shared by the config checks (--check-config) and discovery.
//
// Source: home-assistant.io, source/_integrations/sensor.markdown ("Device class", the list
// with units) and binary_sensor.markdown ("Device class"), read 2026-11-28; the state classes
// are those of Home Assistant's sensor entity (measurement, measurement_angle, total,
// total_increasing). docs/homeassistant.md cites them in full.

#include <string>
#include <string_view>
#include <vector>

namespace nodebridge::homeassistant {

// True when `name` is a sensor (or number) device class Home Assistant knows.
bool is_sensor_class(std::string_view name);
// True when `name` is a binary_sensor device class.
bool is_binary_sensor_class(std::string_view name);
// True when `name` is a switch device class ("outlet", "switch").
bool is_switch_class(std::string_view name);
// True when `name` is a sensor state class.
bool is_state_class(std::string_view name);
// The units Home Assistant accepts for sensor device class `name`; empty when any unit (or
// none) is accepted or the class is unknown. "" in the list means "no unit".
const std::vector<std::string_view>& units_of(std::string_view device_class);
// True when `unit` is acceptable for `device_class` (always for classes without a unit list).
bool unit_fits(std::string_view device_class, std::string_view unit);

// The device class an attribute's `quantity:` stands for; "" when Home Assistant has none
// for it (percentage, phase_angle, apparent_energy) or the quantity is empty.
std::string_view class_of_quantity(std::string_view quantity);
// The device class a unit alone makes certain (V -> voltage, kWh -> energy, °C ->
// temperature); "" for units that fit several classes (%, ppm, dB) or none.
std::string_view class_of_unit(std::string_view unit);
// True for device classes whose readings are running totals (energy, reactive_energy):
// Home Assistant takes them only as state_class total or total_increasing.
bool is_total_class(std::string_view device_class);

// A short list of names for messages: "a, b, c and 40 more".
std::string some_of(const std::vector<std::string_view>& names, std::size_t shown = 8);
// Every sensor device class, state class and binary sensor class, for suggestions.
std::vector<std::string> sensor_classes();
std::vector<std::string> binary_sensor_classes();
std::vector<std::string> state_classes();

}  // namespace nodebridge::homeassistant
