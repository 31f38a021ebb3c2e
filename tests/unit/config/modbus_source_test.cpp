// modbus-tcp and modbus-rtu sources: endpoints, nodes, attributes and register ranges.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_fixture.hpp"

namespace nodebridge {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::kHead;
using testing::load_text;

// A modbus-tcp source with one node whose attributes are `attributes` (YAML lines indented
// by 10 spaces).
std::string tcp_node(const std::string& attributes, const std::string& node_extra = "") {
    return kHead +
           "sources:\n"
           "  - name: bus\n"
           "    type: modbus-tcp\n"
           "    host: 127.0.0.1\n"
           "    nodes:\n"
           "      - id: n1\n" +
           node_extra + "        attributes:\n" + attributes;
}

const ModbusSourceConfig& modbus(const Config& config, std::size_t i = 0) {
    return std::get<ModbusSourceConfig>(config.sources.at(i).settings);
}

TEST(ModbusAttribute, WidthFollowsTheType) {
    ModbusAttribute a;
    a.type = ModbusType::boolean;
    EXPECT_EQ(a.width(), 1);
    a.type = ModbusType::int16;
    EXPECT_EQ(a.width(), 1);
    a.type = ModbusType::uint32;
    EXPECT_EQ(a.width(), 2);
    a.type = ModbusType::float32;
    EXPECT_EQ(a.width(), 2);
    a.type = ModbusType::int64;
    EXPECT_EQ(a.width(), 4);
    a.type = ModbusType::float64;
    EXPECT_EQ(a.width(), 4);
    a.type = ModbusType::string;
    a.length = 8;
    EXPECT_EQ(a.width(), 8);
}

TEST(ModbusSource, AttributePollOverridesTheNodesAndSetsItsAvailability) {
    auto loaded =
        load_text(tcp_node("          power: { address: 0 }\n"
                           "          energy: { address: 2, poll: 1m }\n"
                           "          state: { address: 4, poll: 10s }\n",
                           "        poll: 2s\n"));
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const ModbusNode& node = modbus(*loaded.config).nodes.at(0);
    EXPECT_FALSE(node.attributes.at(0).poll);
    EXPECT_EQ(node.attributes.at(1).poll, Millis(60000));
    EXPECT_EQ(read_interval(node, node.attributes.at(0)), Millis(2000));
    EXPECT_EQ(read_interval(node, node.attributes.at(1)), Millis(60000));
    EXPECT_EQ(fastest_interval(node), Millis(2000));

    // Every attribute slower than the node: the fastest of them counts.
    auto slow =
        load_text(tcp_node("          energy: { address: 2, poll: 1m }\n"
                           "          state: { address: 4, poll: 10s }\n",
                           "        offline_after: 15s\n"));
    ASSERT_TRUE(slow.config) << ::testing::PrintToString(slow.errors);
    EXPECT_EQ(fastest_interval(modbus(*slow.config).nodes.at(0)), Millis(10000));
}

TEST(ModbusSource, APollAloneGivesAModelAttributeAnIntervalOfItsOwn) {
    auto loaded = load_text(kHead +
                            "models:\n"
                            "  meter:\n"
                            "    attributes:\n"
                            "      power: { table: input, address: 0, type: float32, unit: W }\n"
                            "      energy: { table: input, address: 2, type: float32, unit: kWh,"
                            " counter: true }\n"
                            "sources:\n"
                            "  - name: bus\n"
                            "    type: modbus-tcp\n"
                            "    host: 127.0.0.1\n"
                            "    nodes:\n"
                            "      - id: n1\n"
                            "        model: meter\n"
                            "        attributes:\n"
                            "          energy: { poll: 1m }\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const ModbusNode& node = modbus(*loaded.config).nodes.at(0);
    ASSERT_EQ(node.attributes.size(), 2u);
    EXPECT_FALSE(node.attributes.at(0).poll);
    const ModbusAttribute& energy = node.attributes.at(1);
    EXPECT_EQ(energy.name, "energy");
    EXPECT_EQ(energy.poll, Millis(60000));
    // Everything else is the model's.
    EXPECT_EQ(energy.table, ModbusTable::input);
    EXPECT_EQ(energy.address, 2);
    EXPECT_EQ(energy.type, ModbusType::float32);
    EXPECT_EQ(energy.unit, "kWh");
    EXPECT_TRUE(energy.meaning.counter);
}

TEST(ModbusSource, FillsDefaults) {
    auto loaded = load_text(tcp_node("          v: { address: 3 }\n"));
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const auto& source = loaded.config->sources.at(0);
    EXPECT_EQ(source.name, "bus");
    EXPECT_EQ(source.type, "modbus-tcp");
    EXPECT_EQ(source.where.line, 3);
    const auto& settings = modbus(*loaded.config);
    EXPECT_EQ(std::get<ModbusTcpEndpoint>(settings.link).port, 502);
    EXPECT_EQ(settings.timeout, Millis(1000));
    EXPECT_EQ(settings.max_gap, 0);
    const auto& node = settings.nodes.at(0);
    EXPECT_EQ(node.unit, 1);
    EXPECT_EQ(node.poll, Millis(1000));
    const auto& v = node.attributes.at(0);
    EXPECT_EQ(v.name, "v");
    EXPECT_EQ(v.table, ModbusTable::holding);
    EXPECT_EQ(v.type, ModbusType::uint16);
    EXPECT_EQ(v.address, 3);
    EXPECT_EQ(v.word_order, WordOrder::big);
    EXPECT_FALSE(v.byte_swap);
    EXPECT_EQ(v.scale, 1.0);
    EXPECT_EQ(v.round, std::nullopt);
    EXPECT_EQ(v.where.line, 9);
    EXPECT_EQ(v.where.column, 11);
}

// RTU frames to a serial device server: the line behind it needs t3.5 before each request,
// so request_gap defaults to 5 ms there (and stays 0 for Modbus TCP); a given one is kept.
TEST(ModbusSource, RtuFramingOverTcpHasARequestGapByDefault) {
    const std::string framed = "    framing: rtu\n    nodes:\n";
    std::string text = tcp_node("          v: { address: 3 }\n");
    text.replace(text.find("    nodes:\n"), 11, framed);
    auto loaded = load_text(text);
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    EXPECT_EQ(std::get<ModbusTcpEndpoint>(modbus(*loaded.config).link).framing, TcpFraming::rtu);
    EXPECT_EQ(modbus(*loaded.config).request_gap, Millis(5));

    text.replace(text.find(framed), framed.size(),
                 "    framing: rtu\n    request_gap: 20ms\n    nodes:\n");
    loaded = load_text(text);
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    EXPECT_EQ(modbus(*loaded.config).request_gap, Millis(20));

    loaded = load_text(tcp_node("          v: { address: 3 }\n"));
    ASSERT_TRUE(loaded.config);
    EXPECT_EQ(modbus(*loaded.config).request_gap, Millis(0));
}

TEST(ModbusSource, OfflineAfterIsUnsetByDefaultAndReadOnSourceAndNode) {
    auto defaults = load_text(tcp_node("          v: { address: 3 }\n"));
    ASSERT_TRUE(defaults.config) << ::testing::PrintToString(defaults.errors);
    EXPECT_EQ(modbus(*defaults.config).offline_after, std::nullopt);
    EXPECT_EQ(modbus(*defaults.config).nodes.at(0).offline_after, std::nullopt);

    auto loaded =
        load_text(kHead +
                  "sources:\n"
                  "  - name: bus\n"
                  "    type: modbus-tcp\n"
                  "    host: 127.0.0.1\n"
                  "    offline_after: 1m\n"
                  "    nodes:\n"
                  "      - { id: a, offline_after: 5s, attributes: { v: { address: 0 } } }\n"
                  "      - { id: b, attributes: { v: { address: 0 } } }\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    EXPECT_EQ(modbus(*loaded.config).offline_after, Millis(60000));
    EXPECT_EQ(modbus(*loaded.config).nodes.at(0).offline_after, Millis(5000));
    EXPECT_EQ(modbus(*loaded.config).nodes.at(1).offline_after, std::nullopt);
}

TEST(ModbusSource, ReadsEveryAttributeKey) {
    auto loaded = load_text(
        tcp_node("          t: { table: input, address: 0x10, type: int64, word_order: little,"
                 " byte_swap: true, scale: 0.5, offset: -3, round: 2, unit: degC }\n"
                 "          s: { table: holding, address: 20, type: string, length: 4 }\n"
                 "          b: { table: discrete, address: 7 }\n"));
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const auto& attrs = modbus(*loaded.config).nodes.at(0).attributes;
    ASSERT_EQ(attrs.size(), 3u);
    EXPECT_EQ(attrs[0].table, ModbusTable::input);
    EXPECT_EQ(attrs[0].address, 16);
    EXPECT_EQ(attrs[0].type, ModbusType::int64);
    EXPECT_EQ(attrs[0].word_order, WordOrder::little);
    EXPECT_TRUE(attrs[0].byte_swap);
    EXPECT_EQ(attrs[0].scale, 0.5);
    EXPECT_EQ(attrs[0].offset, -3.0);
    EXPECT_EQ(attrs[0].round, 2);
    EXPECT_EQ(attrs[0].unit, "degC");
    EXPECT_EQ(attrs[1].type, ModbusType::string);
    EXPECT_EQ(attrs[1].length, 4);
    EXPECT_EQ(attrs[2].type, ModbusType::boolean) << "bits default to bool";
}

TEST(ModbusSource, CoilsAndDiscreteInputsAreBoolOnly) {
    auto loaded =
        load_text(tcp_node("          k: { table: coil, address: 0, type: int16 }\n"
                           "          d: { table: discrete, address: 0, type: float32 }\n"));
    EXPECT_THAT(
        loaded.errors,
        ElementsAre("config.yaml:9:47: type: a coil attribute must have type bool, got int16",
                    "config.yaml:10:51: type: a discrete attribute must have type bool, got "
                    "float32"));
}

TEST(ModbusSource, LengthIsRequiredForAndOnlyForStrings) {
    auto loaded =
        load_text(tcp_node("          s: { address: 0, type: string }\n"
                           "          u: { address: 10, length: 2 }\n"));
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:9:14: missing required key 'length' in attribute 's' "
                            "(registers of the string)",
                            "config.yaml:10:29: length: only applies to type string"));
}

TEST(ModbusSource, RangesMustEndByRegister65535) {
    auto loaded =
        load_text(tcp_node("          ok: { address: 65532, type: float64 }\n"
                           "          bad: { address: 65533, type: float64 }\n"
                           "          far: { address: 65536 }\n"));
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:10:27: address: float64 at 65533 needs 4 registers and "
                            "runs past 65535",
                            "config.yaml:11:27: address: 65536 is out of range (0..65535)"));
}

TEST(ModbusSource, OverlapsInOneTableNameBothAttributes) {
    auto loaded =
        load_text(tcp_node("          a: { table: input, address: 0, type: float32 }\n"
                           "          b: { table: holding, address: 1 }\n"
                           "          c: { table: input, address: 1 }\n"
                           "          d: { table: input, address: 2, type: float64 }\n"
                           "          e: { table: input, address: 5, type: uint32 }\n"));
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:11:11: attribute 'c' (input 1) overlaps 'a' (input "
                            "0..1) in node 'n1'",
                            "config.yaml:13:11: attribute 'e' (input 5..6) overlaps 'd' (input "
                            "2..5) in node 'n1'"));
}

TEST(ModbusSource, AdjacentRangesAndOtherNodesDoNotOverlap) {
    auto loaded =
        load_text(tcp_node("          a: { table: input, address: 0, type: float32 }\n"
                           "          b: { table: input, address: 2, type: float32 }\n"
                           "          c: { table: coil, address: 0 }\n"
                           "          d: { table: discrete, address: 0 }\n"));
    EXPECT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
}

TEST(ModbusSource, ScaleAndRoundApplyOnlyToNumbers) {
    auto loaded =
        load_text(tcp_node("          b: { table: coil, address: 0, scale: 2 }\n"
                           "          n: { address: 0, scale: 0 }\n"));
    EXPECT_THAT(loaded.errors, ElementsAre("config.yaml:9:41: scale: does not apply to type bool",
                                           "config.yaml:10:35: scale: must not be 0"));
}

TEST(ModbusSource, UnitIdsAreCheckedPerTransport) {
    auto tcp = load_text(tcp_node("          v: { address: 0 }\n", "        unit: 255\n"));
    EXPECT_TRUE(tcp.config) << ::testing::PrintToString(tcp.errors);
    auto tcp_bad = load_text(tcp_node("          v: { address: 0 }\n", "        unit: 248\n"));
    EXPECT_THAT(tcp_bad.errors,
                ElementsAre("config.yaml:8:15: unit: 248 is not a valid unit id (0..247, or 255)"));
    auto rtu = load_text(kHead +
                         "sources:\n"
                         "  - name: line\n"
                         "    type: modbus-rtu\n"
                         "    device: /dev/ttyUSB0\n"
                         "    nodes:\n"
                         "      - { id: n1, unit: 255, attributes: { v: { address: 0 } } }\n"
                         "      - { id: n2, unit: -1, attributes: { v: { address: 0 } } }\n");
    EXPECT_THAT(rtu.errors,
                ElementsAre("config.yaml:7:25: unit: 255 is not a valid unit id (0..247)",
                            "config.yaml:8:25: unit: -1 is out of range (0..255)"));
}

TEST(ModbusSource, RtuReadsTheSerialLine) {
    auto loaded =
        load_text(kHead +
                  "sources:\n"
                  "  - name: line\n"
                  "    type: modbus-rtu\n"
                  "    device: /dev/ttyUSB0\n"
                  "    baud: 19200\n"
                  "    parity: even\n"
                  "    data_bits: 7\n"
                  "    stop_bits: 2\n"
                  "    flow_control: rtscts\n"
                  "    max_gap: 4\n"
                  "    nodes:\n"
                  "      - { id: m, unit: 7, poll: 250ms, attributes: { f: { address: 0 } } }\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const auto& settings = modbus(*loaded.config);
    const auto& line = std::get<SerialLine>(settings.link);
    EXPECT_EQ(line.device, "/dev/ttyUSB0");
    EXPECT_EQ(line.baud, 19200);
    EXPECT_EQ(line.parity, Parity::even);
    EXPECT_EQ(line.data_bits, 7);
    EXPECT_EQ(line.stop_bits, 2);
    EXPECT_EQ(line.flow_control, FlowControl::rtscts);
    EXPECT_EQ(settings.max_gap, 4);
    EXPECT_EQ(settings.nodes.at(0).poll, Millis(250));
}

TEST(ModbusSource, RejectsBadSerialSettings) {
    auto loaded = load_text(kHead +
                            "sources:\n"
                            "  - name: line\n"
                            "    type: modbus-rtu\n"
                            "    device: /dev/ttyUSB0\n"
                            "    baud: 12345\n"
                            "    parity: mark\n"
                            "    data_bits: 9\n"
                            "    nodes: [{ id: m, attributes: { f: { address: 0 } } }]\n");
    EXPECT_THAT(
        loaded.errors,
        ElementsAre(
            "config.yaml:6:11: baud: 12345 is not a rate the serial port supports (e.g. 9600, "
            "19200, 115200)",
            "config.yaml:7:13: parity: unknown value 'mark', expected none, even or odd",
            "config.yaml:8:16: data_bits: 9 is out of range (5..8)"));
}

TEST(ModbusSource, DuplicateNodeIdsWithinOneSource) {
    auto loaded = load_text(kHead +
                            "sources:\n"
                            "  - name: bus\n"
                            "    type: modbus-tcp\n"
                            "    host: h\n"
                            "    nodes:\n"
                            "      - { id: a, attributes: { v: { address: 0 } } }\n"
                            "      - { id: a, unit: 2, attributes: { v: { address: 0 } } }\n");
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:8:9: duplicate node id 'a' in source 'bus' (first at "
                            "7:9)"));
}

TEST(ModbusSource, MissingKeysAreReportedAtTheirMap) {
    auto loaded = load_text(kHead +
                            "sources:\n"
                            "  - name: bus\n"
                            "    type: modbus-tcp\n"
                            "    nodes:\n"
                            "      - unit: 1\n"
                            "        attributes: { v: { table: input } }\n");
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:3:5: missing required key 'host' in source 'bus'",
                            "config.yaml:6:9: missing required key 'id' in node #1",
                            "config.yaml:7:26: missing required key 'address' in attribute 'v'"));
}

TEST(ModbusSource, UnknownTypeIsOneErrorNotACascade) {
    auto loaded = load_text(kHead +
                            "sources:\n"
                            "  - name: bus\n"
                            "    type: modbus-tpc\n"
                            "    hots: h\n"
                            "    nodes: 3\n");
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:4:11: type: unknown source type 'modbus-tpc' (did you "
                            "mean 'modbus-tcp'?), expected modbus-tcp, modbus-rtu or "
                            "serial-nodes"));
}

TEST(ModbusSource, SourcesNeedNodes) {
    auto loaded = load_text(kHead +
                            "sources:\n"
                            "  - { name: bus, type: modbus-tcp, host: h, nodes: [] }\n");
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:3:52: nodes: a source needs at least one node"));
}

}  // namespace
}  // namespace nodebridge
