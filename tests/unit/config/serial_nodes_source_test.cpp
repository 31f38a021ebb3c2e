// serial-nodes sources: line settings, formats, the attribute schema, polling.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_fixture.hpp"
#include "sections.hpp"

namespace nodebridge {
namespace {

using ::testing::ElementsAre;
using testing::kHead;
using testing::load_text;

std::string serial(const std::string& extra) {
    return kHead +
           "sources:\n"
           "  - name: radio\n"
           "    type: serial-nodes\n"
           "    device: /dev/ttyACM0\n" +
           extra;
}

const SerialNodesSourceConfig& settings(const Config& config) {
    return std::get<SerialNodesSourceConfig>(config.sources.at(0).settings);
}

TEST(SerialNodesSource, FillsDefaults) {
    auto loaded = load_text(serial(""));
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const auto& s = settings(*loaded.config);
    EXPECT_EQ(s.line.device, "/dev/ttyACM0");
    EXPECT_EQ(s.line.baud, 9600);
    EXPECT_EQ(s.max_line, 1024u);
    EXPECT_EQ(s.format, LineFormat::kv);
    EXPECT_TRUE(s.node_key.empty());
    EXPECT_FALSE(s.poll.has_value());
    EXPECT_FALSE(s.offline_after.has_value());
}

TEST(SerialNodesSource, ReadsEveryKey) {
    auto loaded = load_text(
        serial("    baud: 115200\n"
               "    max_line: 512\n"
               "    format: json\n"
               "    node_key: id\n"
               "    time_key: time\n"
               "    offline_after: 2m\n"
               "    poll: { send: 'READ\\r\\n\\x01', every: 5s }\n"
               "    attributes:\n"
               "      temp: { name: temperature, scale: 0.1, offset: 1, round: 1, unit: \"°C\" }\n"
               "      rssi: { ignore: true }\n"));
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const auto& s = settings(*loaded.config);
    EXPECT_EQ(s.line.baud, 115200);
    EXPECT_EQ(s.max_line, 512u);
    EXPECT_EQ(s.format, LineFormat::json);
    EXPECT_EQ(s.node_key, "id");
    EXPECT_EQ(s.time_key, "time");
    EXPECT_EQ(s.offline_after, Millis(120000));
    ASSERT_TRUE(s.poll);
    EXPECT_EQ(s.poll->send, std::string("READ\r\n\x01"));
    EXPECT_EQ(s.poll->every, Millis(5000));
    ASSERT_EQ(s.attributes.size(), 2u);
    EXPECT_EQ(s.attributes[0].key, "temp");
    EXPECT_EQ(s.attributes[0].name, "temperature");
    EXPECT_EQ(s.attributes[0].scale, 0.1);
    EXPECT_EQ(s.attributes[0].offset, 1.0);
    EXPECT_EQ(s.attributes[0].round, 1);
    EXPECT_EQ(s.attributes[0].unit, "°C");
    EXPECT_EQ(s.attributes[1].name, "rssi") << "the name defaults to the key";
    EXPECT_TRUE(s.attributes[1].ignore);
}

TEST(SerialNodesSource, CsvNeedsColumnsWithTheNodeKey) {
    auto missing = load_text(serial("    format: csv\n"));
    EXPECT_THAT(missing.errors, ElementsAre("config.yaml:3:5: missing required key 'columns' in "
                                            "source 'radio' (format csv)"));
    auto no_key = load_text(serial("    format: csv\n    columns: [voltage, current]\n"));
    EXPECT_THAT(no_key.errors, ElementsAre("config.yaml:7:14: columns: must name the node id "
                                           "column 'node' (or 'id')"));
    auto custom = load_text(serial("    format: csv\n    node_key: mac\n    columns: [id, v]\n"));
    EXPECT_THAT(custom.errors,
                ElementsAre("config.yaml:8:14: columns: must name the node id column 'mac'"));
    auto ok = load_text(serial("    format: csv\n    columns: [id, voltage]\n"));
    ASSERT_TRUE(ok.config) << ::testing::PrintToString(ok.errors);
    EXPECT_THAT(settings(*ok.config).columns, ElementsAre("id", "voltage"));
}

TEST(SerialNodesSource, RegexNeedsANodeGroup) {
    auto missing = load_text(serial("    format: regex\n"));
    EXPECT_THAT(missing.errors, ElementsAre("config.yaml:3:5: missing required key 'pattern' in "
                                            "source 'radio' (format regex)"));
    auto empty = load_text(serial("    format: regex\n    pattern: ''\n"));
    EXPECT_THAT(empty.errors, ElementsAre("config.yaml:7:14: pattern: must not be empty"));
    auto no_group = load_text(serial("    format: regex\n    pattern: '(?<id>\\w+) (?<v>\\d+)'\n"));
    EXPECT_THAT(no_group.errors, ElementsAre("config.yaml:7:14: pattern: needs a named group for "
                                             "the node id, (?<node>...)"));
    for (const char* pattern : {"'(?<node>\\w+)'", "'(?P<node>\\w+)'"}) {
        auto ok =
            load_text(serial(std::string("    format: regex\n    pattern: ") + pattern + "\n"));
        EXPECT_TRUE(ok.config) << pattern << ::testing::PrintToString(ok.errors);
    }
}

TEST(SerialNodesSource, FormatSpecificKeysAreRejectedElsewhere) {
    auto loaded = load_text(serial("    columns: [node]\n    pattern: '(?<node>x)'\n"));
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:6:5: columns: only applies to format csv",
                            "config.yaml:7:5: pattern: only applies to format regex"));
}

TEST(SerialNodesSource, PollNeedsAValidSendAndEvery) {
    auto loaded = load_text(serial("    poll: { send: 'A\\qB' }\n"));
    EXPECT_THAT(
        loaded.errors,
        ElementsAre("config.yaml:6:11: missing required key 'every' in poll of source 'radio'",
                    "config.yaml:6:19: send: unknown escape '\\q' (use \\r \\n \\t \\0 \\\\ \\\" "
                    "\\' or \\xNN)"));
}

TEST(SerialNodesSource, TwoKeysMayNotPublishTheSameName) {
    auto loaded =
        load_text(serial("    attributes:\n"
                         "      t1: { name: temp }\n"
                         "      t2: { name: temp }\n"
                         "      temp: { ignore: true }\n"));
    EXPECT_THAT(loaded.errors, ElementsAre("config.yaml:8:7: attribute 't2' publishes as 'temp', "
                                           "as does 't1' (at 7:7)"));
}

TEST(SerialNodesSource, ModbusKeysAreUnknownHere) {
    auto loaded = load_text(serial("    nodes: []\n    timeout: 1s\n"));
    EXPECT_THAT(
        loaded.errors,
        ElementsAre(
            "config.yaml:6:5: unknown key 'nodes' in source 'radio' (did you mean 'model'?)",
            "config.yaml:7:5: unknown key 'timeout' in source 'radio'"));
}

TEST(DecodeEscapes, DecodesTheDocumentedEscapes) {
    std::string error;
    EXPECT_EQ(config_detail::decode_escapes("a\\r\\n\\t\\\\\\x41\\x7e\\0", error),
              std::string("a\r\n\t\\A~\0", 8));
    EXPECT_EQ(config_detail::decode_escapes("plain", error), "plain");
    EXPECT_EQ(config_detail::decode_escapes("bad\\x4", error), std::nullopt);
    EXPECT_EQ(error, "\\x needs two hex digits");
    EXPECT_EQ(config_detail::decode_escapes("end\\", error), std::nullopt);
    EXPECT_EQ(config_detail::decode_escapes("\\z", error), std::nullopt);
}

}  // namespace
}  // namespace nodebridge
