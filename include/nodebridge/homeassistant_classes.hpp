#pragma once
// Home Assistant's entity classes, as far as discovery needs them: which device and state
// classes exist, which units a sensor device class takes, and what an attribute's quantity or
// unit makes of it. Shared by the config checks (--check-config) and discovery.
//
// Source: Home Assistant's DEVICE_CLASS_UNITS (homeassistant/components/sensor/const.py) and
// unit enums (homeassistant/const.py, Home Assistant 2026.1), with the units and classes
// added since as the developer documentation of 2026-08-19 lists them; the binary sensor
// classes are home-assistant.io's binary_sensor.markdown ("Device class"); the state classes
// are those of Home Assistant's sensor entity (measurement, measurement_angle, total,
// total_increasing). homeassistant_classes.cpp names each source; docs/homeassistant.md
// lists the table with the oldest Home Assistant release each part needs.

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
// `unit` with every MICRO SIGN (U+00B5) written as GREEK SMALL LETTER MU (U+03BC), the
// spelling Home Assistant's constants use and its sensor and number platforms convert to.
std::string canonical_unit(std::string_view unit);
// True when `unit` is acceptable for `device_class` (always for classes without a unit
// list). Either spelling of micro fits: "\u00b5V" and "\u03bcV" are both volts.
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
