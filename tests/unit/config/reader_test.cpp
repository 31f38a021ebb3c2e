// The YAML reading layer: positions, types, duplicate and unknown keys, did-you-mean.

#include "reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_fixture.hpp"

namespace nodebridge {
namespace {

using config_detail::closest_match;
using config_detail::edit_distance;
using ::testing::ElementsAre;
using testing::load_text;

TEST(EditDistance, CountsInsertionsDeletionsSubstitutionsAndTranspositions) {
    EXPECT_EQ(edit_distance("host", "host"), 0u);
    EXPECT_EQ(edit_distance("hots", "host"), 1u);
    EXPECT_EQ(edit_distance("hst", "host"), 1u);
    EXPECT_EQ(edit_distance("hoost", "host"), 1u);
    EXPECT_EQ(edit_distance("post", "host"), 1u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(ClosestMatch, SuggestsOnlyLikelyTypos) {
    const std::vector<std::string> keys = {"host", "port", "timeout", "nodes", "max_gap"};
    EXPECT_EQ(closest_match("hots", keys), "host");
    EXPECT_EQ(closest_match("timout", keys), "timeout");
    EXPECT_EQ(closest_match("Port", keys), "port");
    EXPECT_EQ(closest_match("maxgap", keys), "max_gap");
    EXPECT_EQ(closest_match("colour", keys), std::nullopt);
    EXPECT_EQ(closest_match("x", keys), std::nullopt);
    EXPECT_EQ(closest_match("h", {"id"}), std::nullopt);
}

TEST(ConfigError, FormatsFileLineColumnMessage) {
    EXPECT_EQ((ConfigError{{"a.yaml", 3, 7}, "boom"}.to_string()), "a.yaml:3:7: boom");
    EXPECT_EQ((ConfigError{{"a.yaml", 0, 0}, "cannot open"}.to_string()), "a.yaml: cannot open");
}

TEST(Reader, PositionsAreOneBasedAndPointAtTheOffendingValue) {
    auto loaded = load_text("gateway: gw\nmqtt:\n  port: high\n");
    EXPECT_THAT(
        loaded.errors,
        ElementsAre("config.yaml:3:9: port: expected a whole number (1..65535), got \"high\""));
}

TEST(Reader, UnknownKeysGetADidYouMeanHint) {
    auto loaded = load_text("gateway: gw\nmqtt:\n  hots: broker\n  colour: red\n");
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:3:3: unknown key 'hots' in mqtt (did you mean 'host'?)",
                            "config.yaml:4:3: unknown key 'colour' in mqtt"));
}

TEST(Reader, DuplicateKeysNameTheFirstOccurrence) {
    auto loaded = load_text("gateway: gw\nmqtt:\n  port: 1\n  port: 2\n");
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:4:3: duplicate key 'port' in mqtt (first at 3:3)"));
}

TEST(Reader, WrongTypesSayWhatWasExpectedAndWhatWasFound) {
    auto loaded = load_text(
        "gateway: gw\n"
        "mqtt:\n"
        "  host: [a, b]\n"
        "  port: \"1883\"\n"
        "  keepalive: 30\n"
        "  health: { retain: yes, qos: 1.5 }\n");
    EXPECT_THAT(
        loaded.errors,
        ElementsAre(
            "config.yaml:3:9: host: expected text, got a list",
            "config.yaml:4:9: port: expected a whole number (1..65535), got \"1883\" in quotes "
            "(write it without them)",
            "config.yaml:5:14: keepalive: expected a duration such as 250ms, 1s, 5m or 1h, got "
            "\"30\"",
            "config.yaml:6:21: retain: expected true or false, got \"yes\"",
            "config.yaml:6:31: qos: expected a whole number (0..2), got \"1.5\""));
}

TEST(Reader, EmptyValuesAreReportedAtTheirKey) {
    auto loaded = load_text("gateway: gw\nmqtt:\n  host:\n  port: 1883\n");
    EXPECT_THAT(loaded.errors, ElementsAre("config.yaml:3:3: host: expected text, got nothing"));
}

TEST(Reader, WholeNumbersMayBeHexadecimal) {
    auto loaded = load_text("gateway: gw\nmqtt:\n  port: 0x75B\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    EXPECT_EQ(loaded.config->mqtt.port, 1883);
}

TEST(Reader, OutOfRangeNumbersNameTheRange) {
    auto loaded = load_text("gateway: gw\nmqtt:\n  port: 99999999999999999999999\n");
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:3:9: port: 99999999999999999999999 is out of range "
                            "(1..65535)"));
}

TEST(Reader, ControlCharactersInKeysAreNotEchoed) {
    auto loaded = load_text("gateway: gw\nmqtt:\n  \"a\\x1b[2Jb\": 1\n");
    EXPECT_THAT(loaded.errors, ElementsAre("config.yaml:3:3: unknown key 'a?[2Jb' in mqtt"));
}

TEST(Reader, ChoicesListTheAllowedWords) {
    auto loaded = load_text(
        "gateway: gw\n"
        "mappings:\n"
        "  - topic: t/{attribute}\n"
        "    payload: jsno\n");
    EXPECT_THAT(loaded.errors, ElementsAre("config.yaml:4:14: payload: unknown value 'jsno' (did "
                                           "you mean 'json'?), expected value or json"));
}

}  // namespace
}  // namespace nodebridge
