// The shipped library checked twice: each model's attributes against a second register map,
// written down here as data from a source independent of the document the model was taken from
// (another edition of the maker's documents, or another open-source project's definition of
// the same device). The model files cite their own document; the rows below cite the second
// source, so a register that was misread from one document (one too high, a wrong scale, the
// wrong word order) fails here. A model file says in its "# Second check" comment what was
// compared and with what result, including the rows the second source does not have.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config_fixture.hpp"
#include "nodebridge/config.hpp"

namespace nodebridge::testing {
namespace {

const std::string kLibraryDir = std::string(NODEBRIDGE_SOURCE_DIR) + "/models";

using T = ModbusTable;
using Y = ModbusType;
using W = WordOrder;

// One register as the second source reads it. `address` is the zero-based address on the
// wire; `scale` turns the raw value into the model's unit (a source that reads Wh where the
// model says kWh is converted when the row is written down, and the row says so).
struct Row {
    const char* attribute;
    T table;
    int address;
    Y type;
    double scale;
    W word_order;
    bool table_checked = true;  // false: the source reads the same registers with the other
                                // function code (said where the row is written)
};

// A second register map of one model.
struct SecondMap {
    const char* key;  // names the test: model and source
    const char* model;
    const char* source;  // where the rows come from: repository + path + commit, or document
    std::vector<Row> rows;
};

// gtest names a failing parameter by this, not by its bytes.
void PrintTo(const SecondMap& map, std::ostream* out) { *out << map.key; }

constexpr T in = T::input;
constexpr T hold = T::holding;
constexpr W big = W::big;
constexpr W little = W::little;

// volkszaehler/mbmd's map of the Carlo Gavazzi EM/ET 330/340 family, which reads the EM340
// and the ET340 alike.
constexpr const char* kMbmdEx3x0Source =
    "volkszaehler/mbmd meters/rs485/carlogavazzi-ex3x0.go @ "
    "fb8f9c22f1210740ac89064fb55610613bba3f78";
std::vector<Row> mbmd_ex3x0() {
    return {
        {"voltage_l1", in, 0x0, Y::int32, 0.1, little},
        {"voltage_l2", in, 0x2, Y::int32, 0.1, little},
        {"voltage_l3", in, 0x4, Y::int32, 0.1, little},
        {"current_l1", in, 0xC, Y::int32, 0.001, little},
        {"current_l2", in, 0xE, Y::int32, 0.001, little},
        {"current_l3", in, 0x10, Y::int32, 0.001, little},
        {"power_l1", in, 0x12, Y::int32, 0.1, little},
        {"power_l2", in, 0x14, Y::int32, 0.1, little},
        {"power_l3", in, 0x16, Y::int32, 0.1, little},
        {"power", in, 0x28, Y::int32, 0.1, little},
        {"power_factor_l1", in, 0x2E, Y::int16, 0.001, little},
        {"power_factor_l2", in, 0x2F, Y::int16, 0.001, little},
        {"power_factor_l3", in, 0x30, Y::int16, 0.001, little},
        {"power_factor", in, 0x31, Y::int16, 0.001, little},
        {"frequency", in, 0x33, Y::int16, 0.1, little},
        {"energy_import", in, 0x34, Y::int32, 0.1, little},
        {"energy_import_l1", in, 0x40, Y::int32, 0.1, little},
        {"energy_import_l2", in, 0x42, Y::int32, 0.1, little},
        {"energy_import_l3", in, 0x44, Y::int32, 0.1, little},
        {"energy_export", in, 0x4E, Y::int32, 0.1, little},
    };
}

const std::vector<SecondMap>& second_maps() {
    static const std::vector<SecondMap> maps = {
        // Comet System, "ModbusTCP registers for Tx5xx/Tx6xx" (modbus/modbus.txt of the SDK), v3.2,
        // "Measured values": one-based register numbers 0x0031, 0x0032, 0x0035, "Int*10", 0x03.
        {"comet_t3610_sdk",
         "comet-t3610",
         "Comet System, Tx5xx/Tx6xx SDK modbus/modbus.txt v3.2 (2017-11-24), Measured values",
         {
             {"temperature", hold, 0x0031 - 1, Y::int16, 0.1, big},
             {"humidity", hold, 0x0032 - 1, Y::int16, 0.1, big},
             {"dew_point", hold, 0x0035 - 1, Y::int16, 0.1, big},
         }},
        // Intel's T3311 driver: REG_TEMPERATURE 0x30, REG_HUMIDITY 0x31, REG_DEW_POINT 0x34, read
        // with
        // libmodbus as int16 / 10. It uses function 04 where the manual names 03: table not
        // compared.
        {"comet_t3311_upm",
         "comet-t3311",
         "eclipse/upm src/t3311/t3311.hpp @ 2de319c25404859981657441f528a06184f42a87, t3311.cxx @ "
         "287fbcc5c2f178a208889dd7cc37a3ad7e121e97",
         {
             {"temperature", hold, 0x30, Y::int16, 0.1, big, false},
             {"humidity", hold, 0x31, Y::int16, 0.1, big, false},
             {"dew_point", hold, 0x34, Y::int16, 0.1, big, false},
         }},
        // mbmd's three-phase SDM map: input registers, IEEE 754 float, high word first.
        {"eastron_sdm630_mbmd",
         "eastron-sdm630",
         "volkszaehler/mbmd meters/rs485/sdm.go @ fb8f9c22f1210740ac89064fb55610613bba3f78",
         {
             {"voltage_l1", in, 0x0, Y::float32, 1.0, big},
             {"voltage_l2", in, 0x2, Y::float32, 1.0, big},
             {"voltage_l3", in, 0x4, Y::float32, 1.0, big},
             {"current_l1", in, 0x6, Y::float32, 1.0, big},
             {"current_l2", in, 0x8, Y::float32, 1.0, big},
             {"current_l3", in, 0xA, Y::float32, 1.0, big},
             {"power_l1", in, 0xC, Y::float32, 1.0, big},
             {"power_l2", in, 0xE, Y::float32, 1.0, big},
             {"power_l3", in, 0x10, Y::float32, 1.0, big},
             {"apparent_power_l1", in, 0x12, Y::float32, 1.0, big},
             {"apparent_power_l2", in, 0x14, Y::float32, 1.0, big},
             {"apparent_power_l3", in, 0x16, Y::float32, 1.0, big},
             {"reactive_power_l1", in, 0x18, Y::float32, 1.0, big},
             {"reactive_power_l2", in, 0x1A, Y::float32, 1.0, big},
             {"reactive_power_l3", in, 0x1C, Y::float32, 1.0, big},
             {"power_factor_l1", in, 0x1E, Y::float32, 1.0, big},
             {"power_factor_l2", in, 0x20, Y::float32, 1.0, big},
             {"power_factor_l3", in, 0x22, Y::float32, 1.0, big},
             {"power", in, 0x34, Y::float32, 1.0, big},
             {"apparent_power", in, 0x38, Y::float32, 1.0, big},
             {"reactive_power", in, 0x3C, Y::float32, 1.0, big},
             {"power_factor", in, 0x3E, Y::float32, 1.0, big},
             {"phase_angle", in, 0x42, Y::float32, 1.0, big},
             {"frequency", in, 0x46, Y::float32, 1.0, big},
             {"energy_import", in, 0x48, Y::float32, 1.0, big},
             {"energy_export", in, 0x4A, Y::float32, 1.0, big},
             {"reactive_energy_import", in, 0x4C, Y::float32, 1.0, big},
             {"reactive_energy_export", in, 0x4E, Y::float32, 1.0, big},
             {"voltage_thd_l1", in, 0xEA, Y::float32, 1.0, big},
             {"voltage_thd_l2", in, 0xEC, Y::float32, 1.0, big},
             {"voltage_thd_l3", in, 0xEE, Y::float32, 1.0, big},
             {"energy_total", in, 0x156, Y::float32, 1.0, big},
             {"reactive_energy_total", in, 0x158, Y::float32, 1.0, big},
             {"energy_import_l1", in, 0x15A, Y::float32, 1.0, big},
             {"energy_import_l2", in, 0x15C, Y::float32, 1.0, big},
             {"energy_import_l3", in, 0x15E, Y::float32, 1.0, big},
             {"energy_export_l1", in, 0x160, Y::float32, 1.0, big},
             {"energy_export_l2", in, 0x162, Y::float32, 1.0, big},
             {"energy_export_l3", in, 0x164, Y::float32, 1.0, big},
             {"energy_total_l1", in, 0x166, Y::float32, 1.0, big},
             {"energy_total_l2", in, 0x168, Y::float32, 1.0, big},
             {"energy_total_l3", in, 0x16A, Y::float32, 1.0, big},
         }},
        // modbus_connect's SDM630 device file, generated from modbus_local_gateway's map: input
        // registers, float32.
        {"eastron_sdm630_modbus_local_gateway",
         "eastron-sdm630",
         "dmatscheko/modbus_connect device_configs/eastron-sdm630.yaml @ "
         "a5a6e49ee80c2d6492619348e041c57f5184a83f",
         {
             {"voltage_l1", in, 0x0, Y::float32, 1.0, big},
             {"voltage_l2", in, 0x2, Y::float32, 1.0, big},
             {"voltage_l3", in, 0x4, Y::float32, 1.0, big},
             {"current_l1", in, 0x6, Y::float32, 1.0, big},
             {"current_l2", in, 0x8, Y::float32, 1.0, big},
             {"current_l3", in, 0xA, Y::float32, 1.0, big},
             {"power_l1", in, 0xC, Y::float32, 1.0, big},
             {"power_l2", in, 0xE, Y::float32, 1.0, big},
             {"power_l3", in, 0x10, Y::float32, 1.0, big},
             {"apparent_power_l1", in, 0x12, Y::float32, 1.0, big},
             {"apparent_power_l2", in, 0x14, Y::float32, 1.0, big},
             {"apparent_power_l3", in, 0x16, Y::float32, 1.0, big},
             {"reactive_power_l1", in, 0x18, Y::float32, 1.0, big},
             {"reactive_power_l2", in, 0x1A, Y::float32, 1.0, big},
             {"reactive_power_l3", in, 0x1C, Y::float32, 1.0, big},
             {"power_factor_l1", in, 0x1E, Y::float32, 1.0, big},
             {"power_factor_l2", in, 0x20, Y::float32, 1.0, big},
             {"power_factor_l3", in, 0x22, Y::float32, 1.0, big},
             {"phase_angle_l1", in, 0x24, Y::float32, 1.0, big},
             {"phase_angle_l2", in, 0x26, Y::float32, 1.0, big},
             {"phase_angle_l3", in, 0x28, Y::float32, 1.0, big},
             {"voltage_ln_avg", in, 0x2A, Y::float32, 1.0, big},
             {"current_avg", in, 0x2E, Y::float32, 1.0, big},
             {"current_sum", in, 0x30, Y::float32, 1.0, big},
             {"power", in, 0x34, Y::float32, 1.0, big},
             {"apparent_power", in, 0x38, Y::float32, 1.0, big},
             {"reactive_power", in, 0x3C, Y::float32, 1.0, big},
             {"power_factor", in, 0x3E, Y::float32, 1.0, big},
             {"phase_angle", in, 0x42, Y::float32, 1.0, big},
             {"frequency", in, 0x46, Y::float32, 1.0, big},
             {"energy_import", in, 0x48, Y::float32, 1.0, big},
             {"energy_export", in, 0x4A, Y::float32, 1.0, big},
             {"reactive_energy_import", in, 0x4C, Y::float32, 1.0, big},
             {"reactive_energy_export", in, 0x4E, Y::float32, 1.0, big},
             {"apparent_energy", in, 0x50, Y::float32, 1.0, big},
             {"voltage_l1_l2", in, 0xC8, Y::float32, 1.0, big},
             {"voltage_l2_l3", in, 0xCA, Y::float32, 1.0, big},
             {"voltage_l3_l1", in, 0xCC, Y::float32, 1.0, big},
             {"voltage_ll_avg", in, 0xCE, Y::float32, 1.0, big},
             {"current_n", in, 0xE0, Y::float32, 1.0, big},
             {"voltage_thd_l1", in, 0xEA, Y::float32, 1.0, big},
             {"voltage_thd_l2", in, 0xEC, Y::float32, 1.0, big},
             {"voltage_thd_l3", in, 0xEE, Y::float32, 1.0, big},
             {"current_thd_l1", in, 0xF0, Y::float32, 1.0, big},
             {"current_thd_l2", in, 0xF2, Y::float32, 1.0, big},
             {"current_thd_l3", in, 0xF4, Y::float32, 1.0, big},
             {"energy_total", in, 0x156, Y::float32, 1.0, big},
             {"reactive_energy_total", in, 0x158, Y::float32, 1.0, big},
             {"energy_import_l1", in, 0x15A, Y::float32, 1.0, big},
             {"energy_import_l2", in, 0x15C, Y::float32, 1.0, big},
             {"energy_import_l3", in, 0x15E, Y::float32, 1.0, big},
             {"energy_export_l1", in, 0x160, Y::float32, 1.0, big},
             {"energy_export_l2", in, 0x162, Y::float32, 1.0, big},
             {"energy_export_l3", in, 0x164, Y::float32, 1.0, big},
             {"energy_total_l1", in, 0x166, Y::float32, 1.0, big},
             {"energy_total_l2", in, 0x168, Y::float32, 1.0, big},
             {"energy_total_l3", in, 0x16A, Y::float32, 1.0, big},
         }},
        // modbus_connect's SDM230 device file, generated from modbus_local_gateway's map: input
        // registers, float32.
        {"eastron_sdm230_modbus_local_gateway",
         "eastron-sdm230",
         "dmatscheko/modbus_connect device_configs/eastron-sdm230.yaml @ "
         "a5a6e49ee80c2d6492619348e041c57f5184a83f",
         {
             {"power_demand", in, 0x54, Y::float32, 1.0, big},
             {"power_demand_max", in, 0x56, Y::float32, 1.0, big},
             {"power_demand_import", in, 0x58, Y::float32, 1.0, big},
             {"power_demand_import_max", in, 0x5A, Y::float32, 1.0, big},
             {"power_demand_export", in, 0x5C, Y::float32, 1.0, big},
             {"power_demand_export_max", in, 0x5E, Y::float32, 1.0, big},
             {"voltage", in, 0x0, Y::float32, 1.0, big},
             {"current", in, 0x6, Y::float32, 1.0, big},
             {"power", in, 0xC, Y::float32, 1.0, big},
             {"apparent_power", in, 0x12, Y::float32, 1.0, big},
             {"reactive_power", in, 0x18, Y::float32, 1.0, big},
             {"power_factor", in, 0x1E, Y::float32, 1.0, big},
             {"phase_angle", in, 0x24, Y::float32, 1.0, big},
             {"frequency", in, 0x46, Y::float32, 1.0, big},
             {"energy_import", in, 0x48, Y::float32, 1.0, big},
             {"energy_export", in, 0x4A, Y::float32, 1.0, big},
             {"reactive_energy_import", in, 0x4C, Y::float32, 1.0, big},
             {"reactive_energy_export", in, 0x4E, Y::float32, 1.0, big},
             {"current_demand", in, 0x102, Y::float32, 1.0, big},
             {"current_demand_max", in, 0x108, Y::float32, 1.0, big},
             {"energy_total", in, 0x156, Y::float32, 1.0, big},
             {"reactive_energy_total", in, 0x158, Y::float32, 1.0, big},
         }},
        // mbmd's SDM120 map: input registers, IEEE 754 float, high word first.
        {"eastron_sdm120_mbmd",
         "eastron-sdm120",
         "volkszaehler/mbmd meters/rs485/sdm120.go @ fb8f9c22f1210740ac89064fb55610613bba3f78",
         {
             {"voltage", in, 0x0, Y::float32, 1.0, big},
             {"current", in, 0x6, Y::float32, 1.0, big},
             {"power", in, 0xC, Y::float32, 1.0, big},
             {"apparent_power", in, 0x12, Y::float32, 1.0, big},
             {"reactive_power", in, 0x18, Y::float32, 1.0, big},
             {"power_factor", in, 0x1E, Y::float32, 1.0, big},
             {"frequency", in, 0x46, Y::float32, 1.0, big},
             {"energy_import", in, 0x48, Y::float32, 1.0, big},
             {"energy_export", in, 0x4A, Y::float32, 1.0, big},
             {"reactive_energy_import", in, 0x4C, Y::float32, 1.0, big},
             {"reactive_energy_export", in, 0x4E, Y::float32, 1.0, big},
             {"energy_total", in, 0x156, Y::float32, 1.0, big},
             {"reactive_energy_total", in, 0x158, Y::float32, 1.0, big},
         }},
        // mbmd's SDM230 map: input registers, IEEE 754 float, high word first.
        {"eastron_sdm230_mbmd",
         "eastron-sdm230",
         "volkszaehler/mbmd meters/rs485/sdm230.go @ fb8f9c22f1210740ac89064fb55610613bba3f78",
         {
             {"voltage", in, 0x0, Y::float32, 1.0, big},
             {"current", in, 0x6, Y::float32, 1.0, big},
             {"power", in, 0xC, Y::float32, 1.0, big},
             {"apparent_power", in, 0x12, Y::float32, 1.0, big},
             {"reactive_power", in, 0x18, Y::float32, 1.0, big},
             {"power_factor", in, 0x1E, Y::float32, 1.0, big},
             {"phase_angle", in, 0x24, Y::float32, 1.0, big},
             {"frequency", in, 0x46, Y::float32, 1.0, big},
             {"energy_import", in, 0x48, Y::float32, 1.0, big},
             {"energy_export", in, 0x4A, Y::float32, 1.0, big},
             {"reactive_energy_import", in, 0x4C, Y::float32, 1.0, big},
             {"reactive_energy_export", in, 0x4E, Y::float32, 1.0, big},
             {"energy_total", in, 0x156, Y::float32, 1.0, big},
             {"reactive_energy_total", in, 0x158, Y::float32, 1.0, big},
         }},
        // mbmd's first SDM72 map: input registers, IEEE 754 float, high word first.
        {"eastron_sdm72d_m_mbmd",
         "eastron-sdm72d-m",
         "volkszaehler/mbmd meters/rs485/sdm72.go @ fb8f9c22f1210740ac89064fb55610613bba3f78",
         {
             {"power", in, 0x34, Y::float32, 1.0, big},
             {"energy_import", in, 0x48, Y::float32, 1.0, big},
             {"energy_export", in, 0x4A, Y::float32, 1.0, big},
             {"energy_total", in, 0x156, Y::float32, 1.0, big},
         }},
        // mbmd's EM24 map: input registers, INT32 low word first (/10 V, W, kWh; /1000 A), INT16
        // (/1000 power factor, /10 Hz). mbmd's "Import" is 0x42, the table's "KWh(+) PAR".
        {"carlo_gavazzi_em24_mbmd",
         "carlo-gavazzi-em24",
         "volkszaehler/mbmd meters/rs485/carlogavazzi-em24.go @ "
         "fb8f9c22f1210740ac89064fb55610613bba3f78",
         {
             {"voltage_l1", in, 0x0, Y::int32, 0.1, little},
             {"voltage_l2", in, 0x2, Y::int32, 0.1, little},
             {"voltage_l3", in, 0x4, Y::int32, 0.1, little},
             {"current_l1", in, 0xC, Y::int32, 0.001, little},
             {"current_l2", in, 0xE, Y::int32, 0.001, little},
             {"current_l3", in, 0x10, Y::int32, 0.001, little},
             {"power_l1", in, 0x12, Y::int32, 0.1, little},
             {"power_l2", in, 0x14, Y::int32, 0.1, little},
             {"power_l3", in, 0x16, Y::int32, 0.1, little},
             {"power", in, 0x28, Y::int32, 0.1, little},
             {"power_factor_l1", in, 0x32, Y::int16, 0.001, little},
             {"power_factor_l2", in, 0x33, Y::int16, 0.001, little},
             {"power_factor_l3", in, 0x34, Y::int16, 0.001, little},
             {"power_factor", in, 0x35, Y::int16, 0.001, little},
             {"frequency", in, 0x37, Y::int16, 0.1, little},
             {"energy_import_partial", in, 0x42, Y::int32, 0.1, little},
             {"energy_import_l1", in, 0x46, Y::int32, 0.1, little},
             {"energy_import_l2", in, 0x48, Y::int32, 0.1, little},
             {"energy_import_l3", in, 0x4A, Y::int32, 0.1, little},
             {"energy_export", in, 0x5C, Y::int32, 0.1, little},
         }},
        // mbmd's EM/ET 330/340 map, as for the EM24: one map for both meters.
        {"carlo_gavazzi_em340_mbmd", "carlo-gavazzi-em340", kMbmdEx3x0Source, mbmd_ex3x0()},
        {"carlo_gavazzi_et340_mbmd", "carlo-gavazzi-et340", kMbmdEx3x0Source, mbmd_ex3x0()},
        // mbmd's DTSU666 map: holding registers, IEEE 754 float (/10 V, W, var; /1000 A and power
        // factor; /100 Hz; kWh unscaled).
        {"chint_dtsu666_mbmd",
         "chint-dtsu666",
         "volkszaehler/mbmd meters/rs485/dtsu666.go @ fb8f9c22f1210740ac89064fb55610613bba3f78",
         {
             {"energy_import", hold, 0x101E, Y::float32, 1.0, big},
             {"energy_import_l1", hold, 0x1020, Y::float32, 1.0, big},
             {"energy_import_l2", hold, 0x1022, Y::float32, 1.0, big},
             {"energy_import_l3", hold, 0x1024, Y::float32, 1.0, big},
             {"energy_export", hold, 0x1028, Y::float32, 1.0, big},
             {"energy_export_l1", hold, 0x102A, Y::float32, 1.0, big},
             {"energy_export_l2", hold, 0x102C, Y::float32, 1.0, big},
             {"energy_export_l3", hold, 0x102E, Y::float32, 1.0, big},
             {"voltage_l1", hold, 0x2006, Y::float32, 0.1, big},
             {"voltage_l2", hold, 0x2008, Y::float32, 0.1, big},
             {"voltage_l3", hold, 0x200A, Y::float32, 0.1, big},
             {"current_l1", hold, 0x200C, Y::float32, 0.001, big},
             {"current_l2", hold, 0x200E, Y::float32, 0.001, big},
             {"current_l3", hold, 0x2010, Y::float32, 0.001, big},
             {"power", hold, 0x2012, Y::float32, 0.1, big},
             {"power_l1", hold, 0x2014, Y::float32, 0.1, big},
             {"power_l2", hold, 0x2016, Y::float32, 0.1, big},
             {"power_l3", hold, 0x2018, Y::float32, 0.1, big},
             {"reactive_power", hold, 0x201A, Y::float32, 0.1, big},
             {"reactive_power_l1", hold, 0x201C, Y::float32, 0.1, big},
             {"reactive_power_l2", hold, 0x201E, Y::float32, 0.1, big},
             {"reactive_power_l3", hold, 0x2020, Y::float32, 0.1, big},
             {"power_factor", hold, 0x202A, Y::float32, 0.001, big},
             {"power_factor_l1", hold, 0x202C, Y::float32, 0.001, big},
             {"power_factor_l2", hold, 0x202E, Y::float32, 0.001, big},
             {"power_factor_l3", hold, 0x2030, Y::float32, 0.001, big},
             {"frequency", hold, 0x2044, Y::float32, 0.01, big},
         }},
        // mbmd's ABB A/B series map: holding registers, high word first; uint32 /10 V, /100 A,
        // int32 /100 W, uint16 /100 Hz, int16 /1000 power factor, uint64 /100 kWh.
        {"abb_a43_a44_mbmd",
         "abb-a43-a44",
         "volkszaehler/mbmd meters/rs485/abb.go @ fb8f9c22f1210740ac89064fb55610613bba3f78",
         {
             {"voltage_l1", hold, 0x5B00, Y::uint32, 0.1, big},
             {"voltage_l2", hold, 0x5B02, Y::uint32, 0.1, big},
             {"voltage_l3", hold, 0x5B04, Y::uint32, 0.1, big},
             {"current_l1", hold, 0x5B0C, Y::uint32, 0.01, big},
             {"current_l2", hold, 0x5B0E, Y::uint32, 0.01, big},
             {"current_l3", hold, 0x5B10, Y::uint32, 0.01, big},
             {"power", hold, 0x5B14, Y::int32, 0.01, big},
             {"power_l1", hold, 0x5B16, Y::int32, 0.01, big},
             {"power_l2", hold, 0x5B18, Y::int32, 0.01, big},
             {"power_l3", hold, 0x5B1A, Y::int32, 0.01, big},
             {"energy_import", hold, 0x5000, Y::uint64, 0.01, big},
             {"energy_export", hold, 0x5004, Y::uint64, 0.01, big},
             {"power_factor", hold, 0x5B3A, Y::int16, 0.001, big},
             {"power_factor_l1", hold, 0x5B3B, Y::int16, 0.001, big},
             {"power_factor_l2", hold, 0x5B3C, Y::int16, 0.001, big},
             {"power_factor_l3", hold, 0x5B3D, Y::int16, 0.001, big},
             {"frequency", hold, 0x5B2C, Y::uint16, 0.01, big},
         }},
        // mbmd's 7M.24 map, the rows this model reads too (input, T_float; its energy in Wh
        // divided by 1000 to kWh, here in the model's Wh).
        {"finder_7m24_mbmd",
         "finder-7m24",
         "volkszaehler/mbmd meters/rs485/finder7m24.go @ fb8f9c22f1210740ac89064fb55610613bba3f78",
         {
             {"voltage", in, 2500, Y::float32, 1.0, big},
             {"current", in, 2516, Y::float32, 1.0, big},
             {"voltage_thd", in, 2594, Y::float32, 1.0, big},
             {"energy_import", in, 2752, Y::float32, 1.0, big},
             {"reactive_energy_export", in, 2758, Y::float32, 1.0, big},
         }},
        // mbmd's 7M.38 map (input, T_float; energy as for the 7M.24), all but its second
        // frequency row (2584) and the counters n2 and n3 on which the sources disagree.
        {"finder_7m38_mbmd",
         "finder-7m38",
         "volkszaehler/mbmd meters/rs485/finder7m38.go @ fb8f9c22f1210740ac89064fb55610613bba3f78",
         {
             {"voltage_l1", in, 2500, Y::float32, 1.0, big},
             {"voltage_l2", in, 2502, Y::float32, 1.0, big},
             {"voltage_l3", in, 2504, Y::float32, 1.0, big},
             {"current_l1", in, 2516, Y::float32, 1.0, big},
             {"current_l2", in, 2518, Y::float32, 1.0, big},
             {"current_l3", in, 2520, Y::float32, 1.0, big},
             {"power_l1", in, 2530, Y::float32, 1.0, big},
             {"power_l2", in, 2532, Y::float32, 1.0, big},
             {"power_l3", in, 2534, Y::float32, 1.0, big},
             {"power", in, 2536, Y::float32, 1.0, big},
             {"reactive_power_l1", in, 2538, Y::float32, 1.0, big},
             {"reactive_power_l2", in, 2540, Y::float32, 1.0, big},
             {"reactive_power_l3", in, 2542, Y::float32, 1.0, big},
             {"reactive_power", in, 2544, Y::float32, 1.0, big},
             {"apparent_power_l1", in, 2546, Y::float32, 1.0, big},
             {"apparent_power_l2", in, 2548, Y::float32, 1.0, big},
             {"apparent_power_l3", in, 2550, Y::float32, 1.0, big},
             {"apparent_power", in, 2552, Y::float32, 1.0, big},
             {"power_factor_l1", in, 2554, Y::float32, 1.0, big},
             {"power_factor_l2", in, 2556, Y::float32, 1.0, big},
             {"power_factor_l3", in, 2558, Y::float32, 1.0, big},
             {"power_factor", in, 2560, Y::float32, 1.0, big},
             {"phase_angle", in, 2576, Y::float32, 1.0, big},
             {"voltage_thd_l1", in, 2594, Y::float32, 1.0, big},
             {"voltage_thd_l2", in, 2596, Y::float32, 1.0, big},
             {"voltage_thd_l3", in, 2598, Y::float32, 1.0, big},
             {"energy_import", in, 2752, Y::float32, 1.0, big},
             {"reactive_energy_export", in, 2758, Y::float32, 1.0, big},
         }},
        // modbus_connect's 7M.24 device file: input registers, float32.
        {"finder_7m24_modbus_connect",
         "finder-7m24",
         "dmatscheko/modbus_connect device_configs/finder-7m24.yaml @ "
         "a5a6e49ee80c2d6492619348e041c57f5184a83f",
         {
             {"voltage", in, 2500, Y::float32, 1.0, big},
             {"current", in, 2516, Y::float32, 1.0, big},
             {"power", in, 2530, Y::float32, 1.0, big},
             {"reactive_power", in, 2538, Y::float32, 1.0, big},
             {"apparent_power", in, 2546, Y::float32, 1.0, big},
             {"power_factor", in, 2554, Y::float32, 1.0, big},
             {"frequency", in, 2498, Y::float32, 1.0, big},
         }},
        // modbus_connect's 7M.38 device file: input registers, float32.
        {"finder_7m38_modbus_connect",
         "finder-7m38",
         "dmatscheko/modbus_connect device_configs/finder-7m38.yaml @ "
         "a5a6e49ee80c2d6492619348e041c57f5184a83f",
         {
             {"frequency", in, 2498, Y::float32, 1.0, big},
             {"voltage_l1", in, 2500, Y::float32, 1.0, big},
             {"voltage_l2", in, 2502, Y::float32, 1.0, big},
             {"voltage_l3", in, 2504, Y::float32, 1.0, big},
             {"current_l1", in, 2516, Y::float32, 1.0, big},
             {"current_l2", in, 2518, Y::float32, 1.0, big},
             {"current_l3", in, 2520, Y::float32, 1.0, big},
             {"power_l1", in, 2530, Y::float32, 1.0, big},
             {"power_l2", in, 2532, Y::float32, 1.0, big},
             {"power_l3", in, 2534, Y::float32, 1.0, big},
             {"power", in, 2536, Y::float32, 1.0, big},
             {"reactive_power_l1", in, 2538, Y::float32, 1.0, big},
             {"reactive_power_l2", in, 2540, Y::float32, 1.0, big},
             {"reactive_power_l3", in, 2542, Y::float32, 1.0, big},
             {"reactive_power", in, 2544, Y::float32, 1.0, big},
             {"apparent_power_l1", in, 2546, Y::float32, 1.0, big},
             {"apparent_power_l2", in, 2548, Y::float32, 1.0, big},
             {"apparent_power_l3", in, 2550, Y::float32, 1.0, big},
             {"apparent_power", in, 2552, Y::float32, 1.0, big},
             {"power_factor_l1", in, 2554, Y::float32, 1.0, big},
             {"power_factor_l2", in, 2556, Y::float32, 1.0, big},
             {"power_factor_l3", in, 2558, Y::float32, 1.0, big},
             {"power_factor", in, 2560, Y::float32, 1.0, big},
         }},
        // Janitza2Influx's UMG 96RM map: holding, FLOAT, high word first (janitza.cpp). Its "Q"
        // rows
        // (19028-19034) carry VA and its "S" rows var: compared by address and unit.
        {"janitza_umg96rm_janitza2influx",
         "janitza-umg96rm",
         "LeoDJ/Janitza2Influx software/src/janitzaRegDefs/UMG96RM.h @ "
         "44cc05604ee28ea4ba1de922dcb1a9e648fdccff",
         {
             {"voltage_l1", hold, 19000, Y::float32, 1.0, big},
             {"voltage_l2", hold, 19002, Y::float32, 1.0, big},
             {"voltage_l3", hold, 19004, Y::float32, 1.0, big},
             {"voltage_l1_l2", hold, 19006, Y::float32, 1.0, big},
             {"voltage_l2_l3", hold, 19008, Y::float32, 1.0, big},
             {"voltage_l3_l1", hold, 19010, Y::float32, 1.0, big},
             {"current_l1", hold, 19012, Y::float32, 1.0, big},
             {"current_l2", hold, 19014, Y::float32, 1.0, big},
             {"current_l3", hold, 19016, Y::float32, 1.0, big},
             {"current_n", hold, 19018, Y::float32, 1.0, big},
             {"power_l1", hold, 19020, Y::float32, 1.0, big},
             {"power_l2", hold, 19022, Y::float32, 1.0, big},
             {"power_l3", hold, 19024, Y::float32, 1.0, big},
             {"power", hold, 19026, Y::float32, 1.0, big},
             {"apparent_power_l1", hold, 19028, Y::float32, 1.0, big},
             {"apparent_power_l2", hold, 19030, Y::float32, 1.0, big},
             {"apparent_power_l3", hold, 19032, Y::float32, 1.0, big},
             {"apparent_power", hold, 19034, Y::float32, 1.0, big},
             {"reactive_power_l1", hold, 19036, Y::float32, 1.0, big},
             {"reactive_power_l2", hold, 19038, Y::float32, 1.0, big},
             {"reactive_power_l3", hold, 19040, Y::float32, 1.0, big},
             {"reactive_power", hold, 19042, Y::float32, 1.0, big},
             {"cos_phi_l1", hold, 19044, Y::float32, 1.0, big},
             {"cos_phi_l2", hold, 19046, Y::float32, 1.0, big},
             {"cos_phi_l3", hold, 19048, Y::float32, 1.0, big},
             {"frequency", hold, 19050, Y::float32, 1.0, big},
             {"energy_import_l1", hold, 19062, Y::float32, 1.0, big},
             {"energy_import_l2", hold, 19064, Y::float32, 1.0, big},
             {"energy_import_l3", hold, 19066, Y::float32, 1.0, big},
             {"energy_import", hold, 19068, Y::float32, 1.0, big},
             {"energy_export_l1", hold, 19070, Y::float32, 1.0, big},
             {"energy_export_l2", hold, 19072, Y::float32, 1.0, big},
             {"energy_export_l3", hold, 19074, Y::float32, 1.0, big},
             {"energy_export", hold, 19076, Y::float32, 1.0, big},
             {"apparent_energy", hold, 19084, Y::float32, 1.0, big},
             {"reactive_energy_inductive", hold, 19100, Y::float32, 1.0, big},
             {"reactive_energy_capacitive", hold, 19108, Y::float32, 1.0, big},
             {"voltage_thd_l1", hold, 19110, Y::float32, 1.0, big},
             {"voltage_thd_l2", hold, 19112, Y::float32, 1.0, big},
             {"voltage_thd_l3", hold, 19114, Y::float32, 1.0, big},
             {"current_thd_l1", hold, 19116, Y::float32, 1.0, big},
             {"current_thd_l2", hold, 19118, Y::float32, 1.0, big},
             {"current_thd_l3", hold, 19120, Y::float32, 1.0, big},
         }},
    };
    return maps;
}

std::string config_using(const std::vector<std::string>& names) {
    std::string yaml = kHead +
                       "sources:\n"
                       "  - name: bus\n"
                       "    type: modbus-tcp\n"
                       "    host: 127.0.0.1\n"
                       "    nodes:\n";
    int unit = 1;
    for (const auto& name : names) {
        yaml += "      - id: node-" + std::to_string(unit) + "\n";
        yaml += "        unit: " + std::to_string(unit) + "\n";
        yaml += "        model: " + name + "\n";
        ++unit;
    }
    return yaml;
}

// Every model of the library that has a second map, loaded by the real loader.
const Config& library() {
    static const Config config = [] {
        std::set<std::string> models;
        for (const auto& map : second_maps()) models.insert(map.model);
        const std::vector<std::string> names(models.begin(), models.end());
        TempDir dir;
        const std::string path = dir.write("config.yaml", config_using(names));
        LoadOptions options;
        options.model_dirs = {kLibraryDir};
        LoadResult result = load_config(path, options);
        std::string errors;
        for (const auto& error : result.errors) errors += error.to_string() + "\n";
        EXPECT_TRUE(result.config.has_value()) << errors;
        return result.config ? *result.config : Config{};
    }();
    return config;
}

const DeviceModel* find_model(const std::string& name) {
    for (const auto& model : library().models) {
        if (model->name == name) return &*model;
    }
    return nullptr;
}

const ModbusAttribute* find_attribute(const DeviceModel& model, const std::string& name) {
    for (const auto& attribute : model.attributes.list()) {
        if (attribute.name == name) return &attribute;
    }
    return nullptr;
}

bool multi_register(Y type) {
    return type == Y::int32 || type == Y::uint32 || type == Y::float32 || type == Y::int64 ||
           type == Y::uint64 || type == Y::float64;
}

class SecondRegisterMap : public ::testing::TestWithParam<SecondMap> {};

TEST_P(SecondRegisterMap, EveryRowAgreesWithTheModel) {
    const SecondMap& map = GetParam();
    const DeviceModel* model = find_model(map.model);
    ASSERT_NE(model, nullptr) << map.model << " is not in the library";
    ASSERT_FALSE(map.rows.empty());
    std::set<std::string> seen;
    for (const Row& row : map.rows) {
        const std::string where =
            std::string(map.model) + "." + row.attribute + " (" + map.source + ")";
        EXPECT_TRUE(seen.insert(row.attribute).second) << where << " is listed twice";
        const ModbusAttribute* attribute = find_attribute(*model, row.attribute);
        ASSERT_NE(attribute, nullptr) << where << ": the model has no such attribute";
        if (row.table_checked) {
            EXPECT_EQ(attribute->table, row.table) << where;
        }
        EXPECT_EQ(attribute->address, row.address) << where;
        EXPECT_EQ(attribute->type, row.type) << where;
        EXPECT_NEAR(attribute->scale, row.scale, std::abs(row.scale) * 1e-9) << where;
        if (multi_register(row.type)) {
            EXPECT_EQ(attribute->word_order, row.word_order) << where;
        }
    }
}

// Every model file says what was compared and with what result, or that no second map was
// found: a "# Second check" paragraph in its header.
TEST(Library, EveryModelFileRecordsItsSecondCheck) {
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(kLibraryDir)) {
        if (entry.path().extension() != ".yaml") continue;
        ++files;
        std::ifstream in(entry.path(), std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        EXPECT_NE(text.str().find("\n# Second check"), std::string::npos)
            << entry.path().filename().string() << " does not record its second check";
    }
    EXPECT_GT(files, 0);
}

std::string map_name(const ::testing::TestParamInfo<SecondMap>& info) { return info.param.key; }

INSTANTIATE_TEST_SUITE_P(Library, SecondRegisterMap, ::testing::ValuesIn(second_maps()), map_name);

}  // namespace
}  // namespace nodebridge::testing
