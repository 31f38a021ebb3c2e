// Models, unit ranges and attribute meaning (src/config/model_reader.cpp): merging a model
// with a node's overrides and `without`, range expansion, the precedence of model dirs and
// config files, and the errors each can give. The error cases that need no model dir are
// data under tests/cases/.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_fixture.hpp"
#include "sections.hpp"

namespace nodebridge {
namespace {

using ::testing::ElementsAre;
using testing::kHead;
using testing::load_in;
using testing::load_text;
using testing::TempDir;

// A three-phase meter model, as a model file would hold it.
const std::string kMeterModels = R"(models:
  meter:
    manufacturer: Acme
    model: M3
    description: three-phase meter
    datasheet: { title: M3 registers, version: "1.2", url: "https://example.com/m3.pdf" }
    max_registers: 60
    request_gap: 20ms
    attributes:
      voltage: { table: input, address: 0, type: float32, unit: V, quantity: voltage }
      current: { table: input, address: 2, type: float32, unit: A, quantity: current }
      energy:
        table: input
        address: 10
        type: uint32
        scale: 0.01
        unit: kWh
        quantity: energy
        counter: true
        homeassistant: { name: Total energy, icon: "mdi:flash", enabled: false }
)";

// Loads config.yaml of `dir` with the model dirs `model_dirs` (relative to `dir`); every path
// of `dir` in the error lines (also those inside messages) is made relative.
testing::Loaded load_with(const TempDir& dir, const std::vector<std::string>& model_dirs) {
    LoadOptions options;
    for (const auto& sub : model_dirs) options.model_dirs.push_back(dir.path() + "/" + sub);
    testing::Loaded loaded = load_in(dir, "config.yaml", options);
    const std::string prefix = dir.path() + "/";
    for (auto& line : loaded.errors) {
        for (auto at = line.find(prefix); at != std::string::npos; at = line.find(prefix)) {
            line.erase(at, prefix.size());
        }
    }
    return loaded;
}

std::string tcp_source(const std::string& nodes) {
    return "sources:\n  - name: bus\n    type: modbus-tcp\n    host: h\n    nodes:\n" + nodes;
}

const ModbusSourceConfig& modbus(const Config& config, std::size_t i = 0) {
    return std::get<ModbusSourceConfig>(config.sources.at(i).settings);
}

std::vector<std::string> names(const ModbusAttributeTable& table) {
    std::vector<std::string> out;
    for (const auto& attribute : table) out.push_back(attribute.name);
    return out;
}

TEST(Models, ANodeWithoutOverridesSharesTheModelsTable) {
    TempDir dir;
    dir.write("models/meter.yaml", kMeterModels);
    dir.write("config.yaml", kHead + tcp_source("      - { id: a, model: meter }\n"
                                                "      - { id: b, unit: 2, model: meter }\n"));
    auto loaded = load_with(dir, {"models"});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    const Config& config = *loaded.config;
    ASSERT_EQ(config.models.size(), 1u);
    const DeviceModel& model = *config.models[0];
    EXPECT_EQ(model.name, "meter");
    EXPECT_EQ(model.manufacturer, "Acme");
    EXPECT_EQ(model.model, "M3");
    EXPECT_EQ(model.datasheet.version, "1.2");
    EXPECT_EQ(model.max_registers, 60);
    EXPECT_EQ(model.request_gap, Millis(20));
    EXPECT_FALSE(model.max_gap.has_value());
    EXPECT_EQ(model.where.file, dir.path() + "/models/meter.yaml");
    EXPECT_EQ(model.where.line, 2);

    const auto& nodes = modbus(config).nodes;
    ASSERT_EQ(nodes.size(), 2u);
    EXPECT_TRUE(nodes[0].attributes.shares_with(model.attributes));
    EXPECT_TRUE(nodes[1].attributes.shares_with(model.attributes));
    EXPECT_EQ(nodes[0].model->name, "meter");
    EXPECT_EQ(names(nodes[0].attributes),
              (std::vector<std::string>{"voltage", "current", "energy"}));
    const ModbusAttribute& energy = nodes[0].attributes[2];
    EXPECT_EQ(energy.meaning.quantity, "energy");
    EXPECT_TRUE(energy.meaning.counter);
    ASSERT_TRUE(energy.meaning.homeassistant.has_value());
    EXPECT_EQ(energy.meaning.homeassistant->name, "Total energy");
    EXPECT_EQ(energy.meaning.homeassistant->icon, "mdi:flash");
    EXPECT_EQ(energy.meaning.homeassistant->enabled, false);
    EXPECT_EQ(config.files.front(), dir.path() + "/models/meter.yaml");
}

TEST(Models, OwnAttributesOverrideAndAddAndWithoutDrops) {
    TempDir dir;
    dir.write("models/meter.yaml", kMeterModels);
    dir.write("config.yaml", kHead + tcp_source(R"(      - id: a
        model: meter
        without: [current]
        attributes:
          voltage: { table: input, address: 0, type: float32, unit: V, round: 1 }
          status: { table: holding, address: 100 }
)"));
    auto loaded = load_with(dir, {"models"});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    const Config& config = *loaded.config;
    const ModbusNode& node = modbus(config).nodes.at(0);
    EXPECT_FALSE(node.attributes.shares_with(config.models[0]->attributes));
    EXPECT_EQ(names(node.attributes), (std::vector<std::string>{"voltage", "energy", "status"}));
    EXPECT_EQ(node.attributes[0].round, 1);              // the node's own voltage
    EXPECT_EQ(node.attributes[0].meaning.quantity, "");  // replaced whole, not merged
    EXPECT_EQ(config.models[0]->attributes.size(), 3u);  // the model is unchanged
    EXPECT_FALSE(config.models[0]->attributes[0].round.has_value());
}

TEST(Models, WithoutAloneDropsAttributes) {
    TempDir dir;
    dir.write("models/meter.yaml", kMeterModels);
    dir.write("config.yaml",
              kHead + tcp_source("      - { id: a, model: meter, without: [voltage, energy] }\n"));
    auto loaded = load_with(dir, {"models"});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    EXPECT_EQ(names(modbus(*loaded.config).nodes.at(0).attributes),
              std::vector<std::string>{"current"});
}

TEST(Models, MergeErrorsPointAtTheNodeAndNameTheModelsFile) {
    TempDir dir;
    dir.write("models/meter.yaml", kMeterModels);
    dir.write("config.yaml", kHead + tcp_source(R"(      - id: a
        model: meter
        without: [curent, power]
        attributes:
          extra: { table: input, address: 3 }
          more: { table: input, address: 11 }
      - { id: b, model: metr }
      - { id: c, attributes: { x: { address: 1 } }, without: [x] }
)"));
    auto loaded = load_with(dir, {"models"});
    EXPECT_FALSE(loaded.config.has_value());
    EXPECT_THAT(
        loaded.errors,
        ElementsAre(
            "config.yaml:9:19: without: model 'meter' (at models/meter.yaml:2:3) has no "
            "attribute 'curent' (did you mean 'current'?)",
            "config.yaml:9:27: without: model 'meter' (at models/meter.yaml:2:3) has no "
            "attribute 'power'",
            "config.yaml:11:11: attribute 'extra' (input 3) overlaps 'current' (input 2..3) of "
            "model 'meter' (at models/meter.yaml:11:7) in node 'a'",
            "config.yaml:12:11: attribute 'more' (input 11) overlaps 'energy' (input 10..11) of "
            "model 'meter' (at models/meter.yaml:12:7) in node 'a'",
            "config.yaml:13:25: model: unknown model 'metr' (did you mean 'meter'?)",
            "config.yaml:14:53: without: only applies to a node with a model"));
}

TEST(Models, ALaterDefinitionReplacesAnEarlierOneAndSaysWhich) {
    TempDir dir;
    const std::string one_attribute = "    attributes: { v: { address: 0 } }\n";
    dir.write("library/a.yaml", "models:\n  meter:\n    manufacturer: Library\n" + one_attribute);
    dir.write("library/b.yaml", "models:\n  other:\n    manufacturer: Library\n" + one_attribute);
    dir.write("site/meter.yaml", "models:\n  meter:\n    manufacturer: Site\n" + one_attribute);
    dir.write("config.yaml", kHead + "include: [part.yaml]\n" +
                                 "models:\n  other:\n    manufacturer: Config\n" + one_attribute +
                                 tcp_source("      - { id: a, model: meter }\n"));
    dir.write("part.yaml", "models:\n  meter:\n    manufacturer: Included\n" + one_attribute);
    // Dir order, then the config files in load order.
    auto loaded = load_with(dir, {"library", "site"});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    const Config& config = *loaded.config;
    ASSERT_EQ(config.models.size(), 2u);
    const DeviceModel& meter = *config.models[0];
    const DeviceModel& other = *config.models[1];
    EXPECT_EQ(meter.manufacturer, "Included");
    EXPECT_EQ(meter.where.file, dir.path() + "/part.yaml");
    ASSERT_EQ(meter.replaced.size(), 2u);
    EXPECT_EQ(meter.replaced[0].file, dir.path() + "/library/a.yaml");
    EXPECT_EQ(meter.replaced[1].file, dir.path() + "/site/meter.yaml");
    EXPECT_EQ(other.manufacturer, "Config");
    ASSERT_EQ(other.replaced.size(), 1u);
    EXPECT_EQ(other.replaced[0].file, dir.path() + "/library/b.yaml");
    EXPECT_EQ(modbus(config).nodes.at(0).model->manufacturer, "Included");

    // The site dir given first loses to the library.
    loaded = load_with(dir, {"site", "library"});
    ASSERT_TRUE(loaded.config.has_value());
    EXPECT_EQ(loaded.config->models[0]->replaced[0].file, dir.path() + "/site/meter.yaml");
    EXPECT_EQ(loaded.config->models[0]->replaced[1].file, dir.path() + "/library/a.yaml");
    EXPECT_EQ(
        loaded.config->files,
        (std::vector<std::string>{dir.path() + "/site/meter.yaml", dir.path() + "/library/a.yaml",
                                  dir.path() + "/library/b.yaml", dir.path() + "/config.yaml",
                                  dir.path() + "/part.yaml"}));
}

TEST(Models, AModelDefinedAfterTheNodeUsingItIsFound) {
    auto loaded = load_text(kHead + tcp_source("      - { id: a, model: late }\n") +
                            "models:\n  late:\n    attributes: { v: { address: 0 } }\n");
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    EXPECT_EQ(modbus(*loaded.config).nodes.at(0).attributes.at(0).name, "v");
}

// `counter: net`: a running total that can also fall; it shows back as it was written.
TEST(Models, ANetCounterIsATotalThatCanFall) {
    auto loaded = load_text(kHead + tcp_source("      - { id: a, model: m }\n") +
                            "models:\n  m:\n    attributes:\n"
                            "      net: { address: 0, type: int32, unit: kWh, quantity: energy, "
                            "counter: net }\n"
                            "      up: { address: 2, type: uint32, unit: kWh, quantity: energy, "
                            "counter: true }\n");
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    const auto& attributes = modbus(*loaded.config).nodes.at(0).attributes;
    EXPECT_TRUE(attributes.at(0).meaning.net);
    EXPECT_FALSE(attributes.at(0).meaning.counter);
    EXPECT_TRUE(attributes.at(1).meaning.counter);
    EXPECT_FALSE(attributes.at(1).meaning.net);
    EXPECT_NE(show_model(*loaded.config->models.at(0)).find("counter: net"), std::string::npos);
}

// `states:` codes (decimal, negative or hexadecimal) and their names, in file order; they
// show back as written.
TEST(Models, StatesNameTheCodesOfACodedReading) {
    auto loaded = load_text(kHead + tcp_source("      - { id: a, model: m }\n") +
                            "models:\n  m:\n    attributes:\n"
                            "      mode: { address: 0, type: int16, states: { 0: normal, -1: "
                            "fault, 0x10: manual bypass } }\n");
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    const auto& states = modbus(*loaded.config).nodes.at(0).attributes.at(0).meaning.states;
    using States = std::vector<std::pair<std::int64_t, std::string>>;
    EXPECT_EQ(states, (States{{0, "normal"}, {-1, "fault"}, {16, "manual bypass"}}));
    const std::string shown = show_model(*loaded.config->models.at(0));
    EXPECT_NE(shown.find("states: {0: normal, -1: fault, 16: manual bypass}"), std::string::npos)
        << shown;
}

TEST(Models, ABrokenModelFileFailsTheLoad) {
    TempDir dir;
    dir.write("models/bad.yaml",
              "models:\n  bad:\n    attributes: { v: { adress: 0 } }\n"
              "  empty: {}\nsources: []\n");
    dir.write("models/syntax.yaml", "models: [\n");
    dir.write("models/README.txt", "not a model file: ignored\n");
    dir.write("config.yaml", kHead);
    auto loaded = load_with(dir, {"models"});
    EXPECT_FALSE(loaded.config.has_value());
    EXPECT_THAT(
        loaded.errors,
        ElementsAre("models/bad.yaml:3:22: missing required key 'address' in attribute 'v'",
                    "models/bad.yaml:3:24: unknown key 'adress' in attribute 'v' (did you "
                    "mean 'address'?)",
                    "models/bad.yaml:4:10: model 'empty' needs `attributes:` (Modbus "
                    "registers) or `received:` (a serial-nodes schema)",
                    "models/bad.yaml:5:1: unknown key 'sources' in the model file",
                    "models/syntax.yaml:2:1: YAML syntax error: end of sequence flow not found"));
}

TEST(Models, AMissingModelDirHoldsNoModels) {
    TempDir dir;
    dir.write("config.yaml", kHead);
    auto loaded = load_with(dir, {"none"});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    EXPECT_TRUE(loaded.config->models.empty());
}

TEST(Ranges, OneEntryStandsForManyOrdinaryNodes) {
    TempDir dir;
    dir.write("models/meter.yaml", kMeterModels);
    dir.write(
        "config.yaml",
        kHead + tcp_source(R"(      - { id: "pdu-{unit:03}", units: 1-3, model: meter, poll: 5s }
      - { id: "m{unit}", units: [7, "10-11", 20], model: meter }
      - { id: plain, unit: 30, model: meter }
)"));
    auto loaded = load_with(dir, {"models"});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    const auto& nodes = modbus(*loaded.config).nodes;
    std::vector<std::string> ids;
    std::vector<int> units;
    for (const auto& node : nodes) {
        ids.push_back(node.id);
        units.push_back(node.unit);
        EXPECT_TRUE(node.attributes.shares_with(loaded.config->models[0]->attributes));
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"pdu-001", "pdu-002", "pdu-003", "m7", "m10", "m11",
                                             "m20", "plain"}));
    EXPECT_EQ(units, (std::vector<int>{1, 2, 3, 7, 10, 11, 20, 30}));
    EXPECT_TRUE(nodes[0].from_range);
    EXPECT_FALSE(nodes[7].from_range);
    EXPECT_EQ(nodes[2].poll, Millis(5000));
    EXPECT_EQ(nodes[2].where.line, nodes[0].where.line);
}

TEST(Ranges, ARangeWithItsOwnAttributesStillSharesOneTable) {
    auto loaded = load_text(kHead + tcp_source(R"(      - id: "n{unit}"
        units: 1-4
        attributes: { v: { address: 0 } }
)"));
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    const auto& nodes = modbus(*loaded.config).nodes;
    ASSERT_EQ(nodes.size(), 4u);
    EXPECT_TRUE(nodes[3].attributes.shares_with(nodes[0].attributes));
}

TEST(Ranges, UnitIdTemplates) {
    std::string error;
    EXPECT_EQ(config_detail::expand_unit_id("pdu-{unit}", 7, error), "pdu-7");
    EXPECT_EQ(config_detail::expand_unit_id("{unit:03}/{unit}", 7, error), "007/7");
    EXPECT_EQ(config_detail::expand_unit_id("x{unit:02}", 123, error), "x123");
    EXPECT_EQ(config_detail::expand_unit_id("pdu", 7, error), std::nullopt);
    EXPECT_THAT(error, ::testing::HasSubstr("needs {unit}"));
    EXPECT_EQ(config_detail::expand_unit_id("pdu-{unit:3}", 7, error), std::nullopt);
    EXPECT_EQ(config_detail::expand_unit_id("pdu-{unit", 7, error), std::nullopt);
    EXPECT_EQ(config_detail::expand_unit_id("{units}", 7, error), std::nullopt);
}

TEST(SerialModels, ASourceModelAndPerNodeModelsGiveTheSchema) {
    TempDir dir;
    dir.write("models/env.yaml", R"(models:
  env:
    received:
      t: { name: temperature, unit: "°C", quantity: temperature }
      h: { name: humidity, unit: "%", quantity: humidity }
  door:
    received:
      o: { name: open, homeassistant: { device_class: door } }
)");
    dir.write("config.yaml", kHead + R"(sources:
  - name: radio
    type: serial-nodes
    device: /dev/ttyACM0
    model: env
    models:
      - { nodes: "door-*", model: door }
    attributes:
      h: { name: rh, unit: "%" }
      rssi: { ignore: true }
)");
    auto loaded = load_with(dir, {"models"});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    const auto& source = std::get<SerialNodesSourceConfig>(loaded.config->sources.at(0).settings);
    EXPECT_EQ(source.model->name, "env");
    ASSERT_EQ(source.attributes.size(), 3u);
    EXPECT_EQ(source.attributes[0].name, "temperature");
    EXPECT_EQ(source.attributes[0].meaning.quantity, "temperature");
    EXPECT_EQ(source.attributes[1].name, "rh");  // the source's own replaces the model's
    EXPECT_TRUE(source.attributes[2].ignore);
    ASSERT_EQ(source.node_models.size(), 1u);
    const NodeSchema& door = source.node_models[0];
    EXPECT_EQ(door.nodes, "door-*");
    EXPECT_EQ(door.model->name, "door");
    ASSERT_EQ(door.attributes.size(), 3u);  // o, then the source's own h and rssi
    EXPECT_EQ(door.attributes[0].meaning.homeassistant->device_class, "door");
}

TEST(SerialModels, ErrorsNameTheModel) {
    auto loaded = load_text(kHead + R"(models:
  meter:
    attributes: { v: { address: 0 } }
sources:
  - name: radio
    type: serial-nodes
    device: /dev/ttyACM0
    model: meter
    models:
      - { nodes: "a*", model: mtr }
      - { model: meter }
      - notamap
)");
    EXPECT_THAT(
        loaded.errors,
        ElementsAre("config.yaml:9:12: model: model 'meter' (at 3:3) has no `received:` "
                    "schema for a serial-nodes source",
                    "config.yaml:11:31: model: unknown model 'mtr'",
                    "config.yaml:12:9: missing required key 'nodes' in models entry #2",
                    "config.yaml:13:9: expected a map for models entry #3, got \"notamap\""));
}

TEST(ModelText, CheckConfigCountsRangesModelsAndSaysWhichDefinitionWon) {
    TempDir dir;
    dir.write("library/meter.yaml", kMeterModels);
    dir.write("site/meter.yaml", kMeterModels);
    dir.write("config.yaml",
              kHead + tcp_source(R"(      - { id: "m{unit}", units: 1-20, model: meter }
      - { id: own, unit: 30, attributes: { v: { address: 0 } } }
)"));
    auto loaded = load_with(dir, {"library", "site"});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    const std::string text = describe(*loaded.config);
    EXPECT_THAT(text,
                ::testing::HasSubstr("21 nodes (m1 .. own; 20 from unit ranges), 61 attributes\n"
                                     "  models: meter (20 nodes)\n"));
    EXPECT_THAT(text, ::testing::HasSubstr("1 model known, 1 defined more than once (the last "
                                           "wins)\nmodel meter: " +
                                           dir.path() + "/site/meter.yaml:2:3 wins over " +
                                           dir.path() + "/library/meter.yaml:2:3\n"));
}

TEST(ModelText, ListAndShowModels) {
    TempDir dir;
    dir.write("models/meter.yaml", kMeterModels);
    LoadOptions options{{dir.path() + "/models"}};
    LoadResult result = load_models(options);
    ASSERT_TRUE(result.errors.empty()) << result.errors.front().to_string();
    EXPECT_EQ(list_models(result.config->models),
              "MODEL  MANUFACTURER  DEVICE  ATTRIBUTES  FILE\n"
              "meter  Acme          M3      3           " +
                  dir.path() + "/models/meter.yaml\n");

    // What --show-model prints loads back as the same model.
    const std::string shown = show_model(*result.config->models[0]);
    EXPECT_EQ(shown.rfind("# meter from " + dir.path() + "/models/meter.yaml:2:3\n", 0), 0u);
    dir.write("again/meter.yaml", shown);
    LoadResult again = load_models({{dir.path() + "/again"}});
    ASSERT_TRUE(again.errors.empty()) << again.errors.front().to_string();
    DeviceModel copy = *again.config->models[0];
    const DeviceModel& original = *result.config->models[0];
    EXPECT_EQ(copy.attributes, original.attributes);  // Position compares equal everywhere
    EXPECT_EQ(copy.datasheet, original.datasheet);
    EXPECT_EQ(copy.manufacturer, original.manufacturer);
    EXPECT_EQ(copy.max_registers, original.max_registers);
    EXPECT_EQ(copy.request_gap, original.request_gap);
    EXPECT_EQ(copy.attributes[2].meaning, original.attributes[2].meaning);
}

// `identify:` (docs/models.md, "Recognising a device"): the strings and registers a model is
// recognised by, loaded as written, shown back by --show-model and loaded again the same.
TEST(ModelIdentity, IsReadAsWrittenAndShowsBack) {
    TempDir dir;
    dir.write("models/meter.yaml", R"(models:
  meter:
    identify:
      vendor: ACME
      product_code: PM-10
      revision: "2."
      registers:
        - { table: input, address: 0x000B, values: [71, 0x48] }
        - { table: holding, address: 0xFC02, type: int32, word_order: little, min: -5, max: 9 }
    attributes:
      voltage: { table: input, address: 0x0A, type: int32 }
)");
    LoadResult result = load_models({{dir.path() + "/models"}});
    ASSERT_TRUE(result.errors.empty()) << result.errors.front().to_string();
    const ModelIdentity& identity = result.config->models.at(0)->identify;
    EXPECT_EQ(identity.vendor, "ACME");
    EXPECT_EQ(identity.product_code, "PM-10");
    EXPECT_EQ(identity.revision, "2.");
    ASSERT_EQ(identity.registers.size(), 2u);
    const IdentifyRegister& code = identity.registers[0];
    EXPECT_EQ(code.table, ModbusTable::input);
    EXPECT_EQ(code.address, 0x000B);
    EXPECT_EQ(code.type, ModbusType::uint16);
    EXPECT_TRUE(code.accepts(71));
    EXPECT_TRUE(code.accepts(72));
    EXPECT_FALSE(code.accepts(73));
    const IdentifyRegister& range = identity.registers[1];
    EXPECT_EQ(range.table, ModbusTable::holding);
    EXPECT_EQ(range.type, ModbusType::int32);
    EXPECT_EQ(range.word_order, WordOrder::little);
    EXPECT_TRUE(range.accepts(-5));
    EXPECT_TRUE(range.accepts(9));
    EXPECT_FALSE(range.accepts(10));
    // An identification register may share an address with an attribute (a Carlo Gavazzi
    // meter's code sits in a voltage's high word): no overlap error above.

    dir.write("again/meter.yaml", show_model(*result.config->models.at(0)));
    LoadResult again = load_models({{dir.path() + "/again"}});
    ASSERT_TRUE(again.errors.empty()) << again.errors.front().to_string();
    EXPECT_EQ(again.config->models.at(0)->identify, identity);
}

}  // namespace
}  // namespace nodebridge
