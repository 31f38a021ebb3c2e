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
#include <fstream>
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
};

// A second register map of one model.
struct SecondMap {
    const char* model;
    const char* source;  // where the rows come from: repository + path + commit, or document
    std::vector<Row> rows;
};

constexpr T in = T::input;
constexpr T hold = T::holding;
constexpr W big = W::big;
constexpr W little = W::little;

const std::vector<SecondMap>& second_maps() {
    static const std::vector<SecondMap> maps = {
        // Comet System, "ModbusTCP registers for Tx5xx/Tx6xx" (modbus/modbus.txt of the
        // Tx5xx/Tx6xx SDK), v3.2, 2017-11-24, "Measured values": temperature 0x0031,
        // relative humidity 0x0032, dew point 0x0035, all "Int*10", read with 0x03. The
        // numbers are one-based register numbers (see comet-t3610.yaml: Comet's T33xx manual,
        // note X, "register 0x31 is physically sent as value 0x30"), so one less on the wire.
        {"comet-t3610",
         "Comet System, Tx5xx/Tx6xx SDK modbus/modbus.txt v3.2 (2017-11-24), Measured values",
         {
             {"temperature", hold, 0x31 - 1, Y::int16, 0.1, big},
             {"humidity", hold, 0x32 - 1, Y::int16, 0.1, big},
             {"dew_point", hold, 0x35 - 1, Y::int16, 0.1, big},
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
        std::vector<std::string> names;
        for (const auto& map : second_maps()) names.emplace_back(map.model);
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
        EXPECT_EQ(attribute->table, row.table) << where;
        EXPECT_EQ(attribute->address, row.address) << where;
        EXPECT_EQ(attribute->type, row.type) << where;
        EXPECT_NEAR(attribute->scale, row.scale, std::abs(row.scale) * 1e-9) << where;
        if (multi_register(row.type)) {
            EXPECT_EQ(attribute->word_order, row.word_order) << where;
        }
    }
}

// The model file says what was compared: a "# Second check" paragraph in its header.
TEST_P(SecondRegisterMap, TheModelFileRecordsTheComparison) {
    const SecondMap& map = GetParam();
    const DeviceModel* model = find_model(map.model);
    ASSERT_NE(model, nullptr);
    std::ifstream in(model->where.file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    EXPECT_NE(text.str().find("\n# Second check"), std::string::npos)
        << model->where.file << " does not record its second check";
}

std::string map_name(const ::testing::TestParamInfo<SecondMap>& info) {
    std::string name = info.param.model;
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

INSTANTIATE_TEST_SUITE_P(Library, SecondRegisterMap, ::testing::ValuesIn(second_maps()), map_name);

}  // namespace
}  // namespace nodebridge::testing
