// Which models a unit is (src/cli/identify.cpp) and the YAML block scan prints
// (src/cli/paste_yaml.cpp), driven with made-up answers.

#include "identify.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "paste_yaml.hpp"

namespace nodebridge::cli {
namespace {

ModelRef model(const std::string& name, ModelIdentity identity) {
    DeviceModel m;
    m.name = name;
    m.identify = std::move(identity);
    return ModelRef(std::make_shared<const DeviceModel>(std::move(m)));
}

IdentifyRegister input_code(std::uint16_t address, std::vector<std::int64_t> values) {
    IdentifyRegister reg;
    reg.table = ModbusTable::input;
    reg.address = address;
    for (auto v : values) reg.ranges.emplace_back(v, v);
    return reg;
}

struct Device {
    std::map<std::uint16_t, std::vector<std::uint16_t>> input;  // address -> words
    int reads = 0;
    ReadRegister reader() {
        return [this](const IdentifyRegister& reg) {
            ++reads;
            RegisterAnswer answer;
            auto it = input.find(reg.address);
            if (reg.table != ModbusTable::input || it == input.end()) {
                answer.error = "illegal data address (exception 2)";
            } else {
                answer.words = it->second;
            }
            return answer;
        };
    }
};

TEST(Identify, OnlyModelsWhoseEveryCheckHoldsBestFirst) {
    const std::vector<ModelRef> models = {
        model("em24", {.registers = {input_code(0x0B, {71, 72, 73})}}),
        model("em340", {.registers = {input_code(0x0B, {331, 332, 341})}}),
        model("em24-pfb", {.registers = {input_code(0x0B, {71}), input_code(0x302, {1})}}),
        model("no-identify", {}),
    };
    Device device;
    device.input = {{0x0B, {71}}, {0x302, {1}}};
    const auto found = match_models(models, std::nullopt, device.reader());
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].model->name, "em24-pfb");  // two checks held
    EXPECT_EQ(found[0].checks, 2);
    EXPECT_EQ(found[1].model->name, "em24");
    EXPECT_EQ(found[1].evidence, (std::vector<std::string>{"input 0x000B = 71 (fits 71, 72, 73)"}));
    // Each register read once, however many models name it.
    EXPECT_EQ(device.reads, 2);
}

TEST(Identify, AnUnansweredRegisterOrStringIsNoMatch) {
    const std::vector<ModelRef> models = {
        model("sdm120", {.registers = {[] {
                             IdentifyRegister reg;
                             reg.table = ModbusTable::holding;
                             reg.address = 0xFC02;
                             reg.ranges = {{0x20, 0x20}};
                             return reg;
                         }()}}),
        model("acme", {.vendor = "ACME"}),
    };
    Device device;
    EXPECT_TRUE(match_models(models, std::nullopt, device.reader()).empty());
    modbus::device_id::Reply id;
    id.objects = {{0x00, "ACME"}, {0x01, "X"}, {0x02, "1.0"}};
    const auto found = match_models(models, id, device.reader());
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].model->name, "acme");
    id.objects[0].second = "ACME Corp";  // equal, not a prefix
    EXPECT_TRUE(match_models(models, id, device.reader()).empty());
}

TEST(Identify, RegisterValuesFollowTypeAndWordOrder) {
    IdentifyRegister reg;
    reg.type = ModbusType::int32;
    EXPECT_EQ(register_value(reg, {0xFFFF, 0xFFFE}), -2);
    reg.word_order = WordOrder::little;
    EXPECT_EQ(register_value(reg, {0x2345, 0x0001}), 0x12345);
    EXPECT_EQ(register_value(reg, {0x0001}), std::nullopt);  // too few words
    reg.type = ModbusType::int16;
    EXPECT_EQ(register_value(reg, {0x8000}), -32768);
}

TEST(PasteYaml, OneNodeEntryPerModelWithItsUnitsAndANoteForTheUnknown) {
    const std::string yaml =
        paste_yaml("bus", {"type: modbus-tcp", "host: h", "port: 502"},
                   {{1, "em24"}, {2, "em24"}, {3, "em24"}, {7, "sdm120"}, {9, ""}});
    EXPECT_EQ(yaml,
              "sources:\n"
              "  - name: bus\n"
              "    type: modbus-tcp\n"
              "    host: h\n"
              "    port: 502\n"
              "    nodes:\n"
              "      - id: \"bus-{unit}\"\n"
              "        units: [1-3]\n"
              "        model: em24\n"
              "      - id: \"bus-{unit}\"\n"
              "        units: [7]\n"
              "        model: sdm120\n"
              "    # unit 9: no library model fits; add a node with its own attributes "
              "(docs/configuration.md)\n"
              "mappings:\n"
              "  - name: bus-readings\n"
              "    match: { source: bus }\n"
              "    topic: site/{gateway}/{node}\n"
              "    payload: json\n");
    EXPECT_EQ(source_name_for("192.168.1.20"), "modbus-192-168-1-20");
}

}  // namespace
}  // namespace nodebridge::cli
