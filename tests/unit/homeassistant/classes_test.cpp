// The class tables and the --check-config checks of attributes' homeassistant: hints.

#include <gtest/gtest.h>

#include "nodebridge/homeassistant_classes.hpp"
#include "sections.hpp"

namespace nodebridge {
namespace {

namespace ha = homeassistant;

TEST(Classes, KnowsHomeAssistantsNames) {
    EXPECT_TRUE(ha::is_sensor_class("voltage"));
    EXPECT_TRUE(ha::is_sensor_class("reactive_energy"));
    EXPECT_FALSE(ha::is_sensor_class("volts"));
    EXPECT_TRUE(ha::is_binary_sensor_class("door"));
    EXPECT_FALSE(ha::is_binary_sensor_class("voltage"));
    EXPECT_TRUE(ha::is_state_class("total_increasing"));
    EXPECT_FALSE(ha::is_state_class("increasing"));
    EXPECT_TRUE(ha::is_switch_class("outlet"));
}

TEST(Classes, UnitsFitTheirClass) {
    EXPECT_TRUE(ha::unit_fits("voltage", "V"));
    EXPECT_FALSE(ha::unit_fits("voltage", "A"));
    EXPECT_TRUE(ha::unit_fits("power_factor", ""));
    EXPECT_TRUE(ha::unit_fits("monetary", "EUR"));  // no unit list: any
    EXPECT_TRUE(ha::unit_fits("temperature", "\u00b0C"));
}

// The table is Home Assistant's DEVICE_CLASS_UNITS (homeassistant_classes.cpp names the
// sources): a few classes spelled out unit by unit, then the sizes of the whole.
TEST(Classes, TableIsHomeAssistantsDeviceClassUnits) {
    using Units = std::vector<std::string_view>;
    EXPECT_EQ(ha::units_of("current"), (Units{"\u03bcA", "mA", "A"}));
    EXPECT_EQ(ha::units_of("apparent_power"), (Units{"mVA", "VA", "kVA"}));
    EXPECT_EQ(ha::units_of("reactive_power"), (Units{"mvar", "var", "kvar"}));
    EXPECT_EQ(ha::units_of("frequency"), (Units{"mHz", "Hz", "kHz", "MHz", "GHz"}));
    EXPECT_EQ(ha::units_of("conductivity"), (Units{"S/cm", "\u03bcS/cm", "mS/cm"}));
    EXPECT_EQ(ha::units_of("pm4"), (Units{"\u03bcg/m\u00b3"}));
    EXPECT_EQ(ha::units_of("temperature_delta"), (Units{"\u00b0C", "\u00b0F", "K"}));
    EXPECT_EQ(ha::units_of("carbon_monoxide"),
              (Units{"ppb", "ppm", "\u03bcg/m\u00b3", "mg/m\u00b3"}));
    EXPECT_EQ(ha::units_of("distance"),
              (Units{"mm", "cm", "m", "km", "in", "ft", "yd", "mi", "nmi"}));
    EXPECT_EQ(ha::units_of("pressure"), (Units{"mPa", "Pa", "hPa", "kPa", "bar", "cbar", "mbar",
                                               "mmHg", "inHg", "inH\u2082O", "psi"}));
    EXPECT_EQ(ha::units_of("gas"), (Units{"L", "m\u00b3", "ft\u00b3", "CCF", "MCF"}));
    EXPECT_EQ(ha::units_of("power"), (Units{"mW", "W", "kW", "MW", "GW", "TW"}));
    EXPECT_EQ(ha::units_of("enum"), (Units{""}));  // non-numeric: no unit
    EXPECT_EQ(ha::units_of("monetary"), Units{});  // an ISO 4217 code: any

    const std::vector<std::string> classes = ha::sensor_classes();
    EXPECT_EQ(classes.size(), 62u);  // the 62 rows of "Available device classes"
    std::size_t units = 0;
    for (const std::string& name : classes) units += ha::units_of(name).size();
    EXPECT_EQ(units, 270u);
}

// Home Assistant spells micro U+03BC and converts the legacy U+00B5: both fit.
TEST(Classes, EitherMicroSpellingFits) {
    for (std::string_view unit : {"\u03bcV", "\u00b5V"}) EXPECT_TRUE(ha::unit_fits("voltage", unit));
    for (std::string_view unit : {"\u03bcg/m\u00b3", "\u00b5g/m\u00b3"}) {
        EXPECT_TRUE(ha::unit_fits("pm25", unit)) << unit;
    }
    EXPECT_TRUE(ha::unit_fits("current", "\u00b5A"));
    EXPECT_TRUE(ha::unit_fits("duration", "\u00b5s"));
    EXPECT_FALSE(ha::unit_fits("voltage", "uV"));
    EXPECT_EQ(ha::canonical_unit("\u00b5S/cm"), "\u03bcS/cm");
}

TEST(Classes, QuantitiesAndUnitsDeriveClasses) {
    for (std::string_view quantity : known_quantities()) {
        const std::string_view derived = ha::class_of_quantity(quantity);
        if (!derived.empty()) {
            EXPECT_TRUE(ha::is_sensor_class(derived)) << quantity;
        }
    }
    EXPECT_EQ(ha::class_of_quantity("percentage"), "");
    EXPECT_EQ(ha::class_of_unit("kWh"), "energy");
    EXPECT_EQ(ha::class_of_unit("%"), "");  // humidity, battery, moisture...
    EXPECT_EQ(ha::class_of_unit("var"), "reactive_power");
    for (std::string_view unit :
         {"V", "A", "W", "kW", "VA", "var", "Wh", "kWh", "MWh", "Hz", "\u00b0C", "\u00b0F", "K"}) {
        const std::string_view derived = ha::class_of_unit(unit);
        ASSERT_FALSE(derived.empty()) << unit;
        EXPECT_TRUE(ha::unit_fits(derived, unit)) << unit;
    }
    EXPECT_TRUE(ha::is_total_class("energy"));
    EXPECT_FALSE(ha::is_total_class("power"));
}

// check_homeassistant() over a hand-built config.
struct Checked {
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
};

Checked check(const Config& config) {
    config_detail::Diagnostics diag;
    config_detail::check_homeassistant(config, diag);
    Checked out;
    for (const auto& e : diag.sorted({"c.yaml"})) out.errors.push_back(e.to_string());
    for (const auto& w : diag.sorted_warnings({"c.yaml"})) out.warnings.push_back(w.to_string());
    return out;
}

Config with_attribute(ModbusAttribute attribute) {
    Config config;
    config.gateway = "gw";
    ModbusNode node;
    node.id = "n";
    node.attributes = ModbusAttributeTable({std::move(attribute)});
    ModbusSourceConfig modbus;
    modbus.nodes.push_back(node);
    config.sources.push_back({"bus", "modbus-tcp", modbus, {}});
    return config;
}

ModbusAttribute hinted(std::string unit, HomeAssistantHints hints,
                       ModbusType type = ModbusType::float32) {
    ModbusAttribute attribute;
    attribute.name = "x";
    attribute.type = type;
    attribute.unit = std::move(unit);
    hints.where = {"c.yaml", 7, 9};
    attribute.meaning.homeassistant = hints;
    attribute.where = {"c.yaml", 7, 3};
    return attribute;
}

TEST(HintChecks, AcceptFittingClasses) {
    const auto out = check(with_attribute(
        hinted("kWh", {.device_class = "energy", .state_class = "total_increasing"})));
    EXPECT_TRUE(out.errors.empty()) << out.errors.front();
}

TEST(HintChecks, RefuseUnknownClasses) {
    auto out = check(with_attribute(hinted("V", {.device_class = "volts"})));
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0],
              "c.yaml:7:9: attribute 'x': homeassistant: device_class 'volts' is not a Home "
              "Assistant sensor device class");
    out = check(with_attribute(hinted("V", {.state_class = "measurment"})));
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_NE(out.errors[0].find("state_class 'measurment' is not a Home Assistant state class"),
              std::string::npos);
    EXPECT_NE(out.errors[0].find("did you mean 'measurement'?"), std::string::npos);
}

TEST(HintChecks, RefuseAClassThatContradictsTheUnit) {
    const auto out = check(with_attribute(hinted("A", {.device_class = "voltage"})));
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0],
              "c.yaml:7:9: attribute 'x': homeassistant: device_class voltage takes \u03bcV, "
              "mV, V, kV, MV, not unit 'A'");
}

TEST(HintChecks, RefuseMeasurementForEnergy) {
    const auto out = check(
        with_attribute(hinted("kWh", {.device_class = "energy", .state_class = "measurement"})));
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_NE(out.errors[0].find("state_class measurement does not fit device_class energy"),
              std::string::npos);
}

TEST(HintChecks, BooleansTakeBinarySensorClasses) {
    EXPECT_TRUE(check(with_attribute(hinted("", {.device_class = "door"}, ModbusType::boolean)))
                    .errors.empty());
    const auto out =
        check(with_attribute(hinted("", {.device_class = "dor"}, ModbusType::boolean)));
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_NE(out.errors[0].find("is not a binary_sensor device class (did you mean 'door'?)"),
              std::string::npos);
    const auto state =
        check(with_attribute(hinted("", {.state_class = "measurement"}, ModbusType::boolean)));
    ASSERT_EQ(state.errors.size(), 1u);
    EXPECT_NE(state.errors[0].find("state_class applies to numeric readings only"),
              std::string::npos);
}

TEST(HintChecks, WarnWhenAQuantitysClassContradictsTheUnit) {
    ModbusAttribute attribute;
    attribute.name = "t";
    attribute.unit = "C";
    attribute.meaning.quantity = "temperature";
    attribute.where = {"c.yaml", 4, 5};
    const auto out = check(with_attribute(attribute));
    EXPECT_TRUE(out.errors.empty());
    ASSERT_EQ(out.warnings.size(), 1u);
    EXPECT_EQ(out.warnings[0],
              "c.yaml:4:5: attribute 't': quantity temperature is Home Assistant's device_class "
              "temperature, which takes \u00b0C, \u00b0F, K; unit 'C' fits none, so discovery "
              "announces it without a device_class");
}

TEST(HintChecks, RefuseConfigCategoryOnReadOnlyEntities) {
    HomeAssistantHints hints{.entity_category = "config"};
    hints.entity_category_where = {"c.yaml", 7, 30};
    auto out = check(with_attribute(hinted("V", hints)));
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0],
              "c.yaml:7:30: attribute 'x': homeassistant: entity_category config is for "
              "entities that change a device's settings; Home Assistant refuses it on a "
              "read-only sensor or binary_sensor (use diagnostic)");
    ModbusAttribute writable = hinted("V", hints);
    writable.writable = true;
    EXPECT_TRUE(check(with_attribute(writable)).errors.empty());
    hints.entity_category = "diagnostic";
    EXPECT_TRUE(check(with_attribute(hinted("V", hints))).errors.empty());
}

TEST(HintChecks, RefuseTotalIncreasingForANetCounter) {
    ModbusAttribute attribute = hinted("kWh", {.state_class = "total_increasing"});
    attribute.meaning.net = true;
    const auto out = check(with_attribute(attribute));
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_NE(out.errors[0].find("c.yaml:7:9: attribute 'x': homeassistant: state_class "
                                 "total_increasing contradicts counter: net"),
              std::string::npos);
}

TEST(HintChecks, AModelsTableIsCheckedOnce) {
    Config config = with_attribute(hinted("V", {.device_class = "volts"}));
    auto& nodes = std::get<ModbusSourceConfig>(config.sources[0].settings).nodes;
    nodes.push_back(nodes[0]);  // a second node sharing the table
    EXPECT_EQ(check(config).errors.size(), 1u);
}

}  // namespace
}  // namespace nodebridge
