// Device models: the shared attribute table, the known quantities and the model directories.
// Reading `models:` and resolving nodes' `model:` is in model_reader.cpp (docs/models.md).

#include "nodebridge/version.hpp"
#include "sections.hpp"

namespace nodebridge {

ModbusAttributeTable::ModbusAttributeTable(std::vector<ModbusAttribute> attributes)
    : items_(std::make_shared<const std::vector<ModbusAttribute>>(std::move(attributes))) {}

ModbusAttributeTable::ModbusAttributeTable(std::initializer_list<ModbusAttribute> attributes)
    : ModbusAttributeTable(std::vector<ModbusAttribute>(attributes)) {}

const std::vector<ModbusAttribute>& ModbusAttributeTable::list() const {
    static const std::vector<ModbusAttribute> kNone;
    return items_ ? *items_ : kNone;
}

std::vector<ModbusAttribute>& ModbusAttributeTable::edit() {
    if (!items_ || items_.use_count() > 1) {
        items_ = std::make_shared<const std::vector<ModbusAttribute>>(list());
    }
    // This table is the only owner now, so changing the list changes no other table.
    return const_cast<std::vector<ModbusAttribute>&>(*items_);
}

const std::vector<std::string_view>& known_quantities() {
    static const std::vector<std::string_view> kQuantities = {
        "voltage",      "current",         "power",          "apparent_power",
        "reactive_power", "energy",        "reactive_energy", "apparent_energy",
        "power_factor", "frequency",       "temperature",    "humidity",
        "pressure",     "carbon_dioxide",  "illuminance",    "duration",
        "percentage",   "battery",         "signal_strength", "phase_angle",
    };
    return kQuantities;
}

std::vector<std::string> default_model_dirs() { return {kModelLibraryDir, kSiteModelDir}; }

}  // namespace nodebridge
