// load_config(): files, syntax errors, includes and globs, cycles, and error order.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "config_fixture.hpp"

namespace nodebridge {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::load_in;
using testing::load_text;
using ::testing::StartsWith;
using testing::TempDir;

std::string source(const std::string& name) {
    return "  - { name: " + name +
           ", type: modbus-tcp, host: h, nodes: [{ id: n, attributes: { v: { address: 0 } } }] }\n";
}

std::vector<std::string> source_names(const Config& config) {
    std::vector<std::string> names;
    for (const auto& s : config.sources) names.push_back(s.name);
    return names;
}

TEST(LoadConfig, MissingFileIsOneError) {
    TempDir dir;
    auto loaded = load_in(dir, "absent.yaml");
    EXPECT_FALSE(loaded.config);
    ASSERT_EQ(loaded.errors.size(), 1u);
    EXPECT_THAT(loaded.errors[0], StartsWith("absent.yaml: cannot open: "));
}

TEST(LoadConfig, ADirectoryIsNotAConfig) {
    TempDir dir;
    std::filesystem::create_directory(dir.path() + "/d.yaml");
    EXPECT_THAT(load_in(dir, "d.yaml").errors, ElementsAre("d.yaml: not a regular file"));
}

TEST(LoadConfig, SyntaxErrorsArePositioned) {
    auto loaded = load_text("gateway: gw\nmqtt: { host: a\nsources: []\n");
    ASSERT_EQ(loaded.errors.size(), 1u);
    EXPECT_THAT(loaded.errors[0], StartsWith("config.yaml:"));
    EXPECT_THAT(loaded.errors[0], HasSubstr(": YAML syntax error: "));
    auto indent = load_text("gateway: gw\n mqtt: 1\n");
    EXPECT_THAT(indent.errors,
                ElementsAre("config.yaml:2:6: YAML syntax error: illegal map value"));
}

TEST(LoadConfig, NeverThrowsOnHostileInput) {
    std::string junk;
    for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919) % 256);
    EXPECT_FALSE(load_text(junk).config);
    EXPECT_FALSE(load_text(std::string(100000, '[')).config);
    EXPECT_FALSE(load_text("- a\n- b\n").config);
    EXPECT_FALSE(load_text("").config);
}

TEST(LoadConfig, AliasesCannotMultiplyTheWorkWithoutBound) {
    // 1500 nodes share one map of 1000 attributes through an alias: 1.5 million
    // attributes from a small file. The loader stops at its budget with one error.
    std::string yaml = "gateway: g\nshared: &attrs\n";
    for (int i = 0; i < 1000; ++i) {
        yaml += "  a" + std::to_string(i) + ": { address: " + std::to_string(i) + " }\n";
    }
    yaml += "sources:\n  - name: bus\n    type: modbus-tcp\n    host: h\n    nodes:\n";
    for (int i = 0; i < 1500; ++i) {
        yaml += "      - { id: n" + std::to_string(i) + ", attributes: *attrs }\n";
    }
    auto loaded = load_text(yaml);
    EXPECT_FALSE(loaded.config);
    int too_large = 0;
    for (const auto& error : loaded.errors) {
        if (error.find("the configuration is too large") != std::string::npos) ++too_large;
    }
    EXPECT_EQ(too_large, 1) << ::testing::PrintToString(loaded.errors.size());
}

TEST(LoadConfig, ErrorsAreBoundedWithACountOfTheRest) {
    std::string yaml = "gateway: g\nmqtt:\n";
    for (int i = 0; i < 1500; ++i) yaml += "  unknown" + std::to_string(i) + ": 1\n";
    auto loaded = load_text(yaml);
    ASSERT_EQ(loaded.errors.size(), 1001u);
    EXPECT_EQ(loaded.errors.front(), "config.yaml:3:3: unknown key 'unknown0' in mqtt");
    EXPECT_EQ(loaded.errors.back(), "config.yaml: 500 more errors not shown");
}

TEST(LoadConfig, OnlyOneDocumentPerFile) {
    auto loaded = load_text("gateway: g\n---\ngateway: h\n");
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:3:1: a config file holds one YAML document"));
}

TEST(LoadConfig, CollectsEveryErrorInFileOrder) {
    auto loaded = load_text(
        "mappings:\n"
        "  - { topic: 'a/{node}', qos: 9 }\n"
        "mqtt: { port: 0 }\n"
        "sources:\n"
        "  - { name: s, type: modbus-tcp, hots: h, nodes: [] }\n");
    EXPECT_THAT(
        loaded.errors,
        ElementsAre("config.yaml:1:1: missing required key 'gateway' in the config file",
                    "config.yaml:2:31: qos: 9 is out of range (0..2)",
                    "config.yaml:3:15: port: 0 is out of range (1..65535)",
                    "config.yaml:5:5: missing required key 'host' in source 's'",
                    "config.yaml:5:34: unknown key 'hots' in source 's' (did you mean 'hosts'?)",
                    "config.yaml:5:50: nodes: a source needs at least one node"));
}

TEST(Includes, AppendSourcesAndMappingsInOrderAndListFiles) {
    TempDir dir;
    dir.write("config.yaml",
              "gateway: g\n"
              "include: [rooms/b.yaml, 'families/*.yaml']\n"
              "sources:\n" +
                  source("main") + "mappings: [{ name: m0, topic: 'x/{node}' }]\n");
    dir.write("rooms/b.yaml", "sources:\n" + source("b") + "include: [nested.yaml]\n");
    dir.write("rooms/nested.yaml", "mappings: [{ name: m1, topic: 'y/{node}' }]\n");
    dir.write("families/2.yaml", "sources:\n" + source("f2"));
    dir.write("families/1.yaml", "sources:\n" + source("f1"));
    dir.write("families/ignored.txt", "not yaml: [");
    auto loaded = load_in(dir);
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    EXPECT_THAT(source_names(*loaded.config), ElementsAre("main", "b", "f1", "f2"));
    ASSERT_EQ(loaded.config->mappings.size(), 2u);
    EXPECT_EQ(loaded.config->mappings[1].name, "m1");
    const std::string base = dir.path() + "/";
    EXPECT_THAT(loaded.config->files,
                ElementsAre(base + "config.yaml", base + "rooms/b.yaml", base + "rooms/nested.yaml",
                            base + "families/1.yaml", base + "families/2.yaml"));
    EXPECT_EQ(loaded.config->sources[1].where.file, base + "rooms/b.yaml");
}

TEST(Includes, AGlobMatchingNothingIsFineALiteralMissingFileIsNot) {
    TempDir dir;
    dir.write("config.yaml", "gateway: g\ninclude: ['conf.d/*.yaml', missing.yaml]\n");
    EXPECT_THAT(load_in(dir).errors, ElementsAre("config.yaml:2:28: include: '" + dir.path() +
                                                 "/missing.yaml' does not exist"));
}

TEST(Includes, ErrorsCarryTheIncludedFilesPath) {
    TempDir dir;
    dir.write("config.yaml", "gateway: g\ninclude: [more.yaml]\nmqtt: { port: 0 }\n");
    dir.write("more.yaml", "gateway: h\nsources:\n  - { name: x, type: modbus-tcp }\n");
    EXPECT_THAT(load_in(dir).errors,
                ElementsAre("config.yaml:3:15: port: 0 is out of range (1..65535)",
                            "more.yaml:1:1: gateway: can only be set in the main config file",
                            "more.yaml:3:5: missing required key 'host' in source 'x'",
                            "more.yaml:3:5: missing required key 'nodes' in source 'x'"));
}

TEST(Includes, SyntaxErrorsInIncludedFilesAreReportedThere) {
    TempDir dir;
    dir.write("config.yaml", "gateway: g\ninclude: [more.yaml]\n");
    dir.write("more.yaml", "sources: [\n");
    auto errors = load_in(dir).errors;
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_THAT(errors[0], StartsWith("more.yaml:"));
}

TEST(Includes, CyclesAreErrors) {
    TempDir dir;
    dir.write("config.yaml", "gateway: g\ninclude: [a.yaml]\n");
    dir.write("a.yaml", "include: [b.yaml]\n");
    dir.write("b.yaml", "include: [a.yaml]\n");
    const std::string base = dir.path() + "/";
    EXPECT_THAT(load_in(dir).errors,
                ElementsAre("b.yaml:1:11: include cycle: " + base + "a.yaml -> " + base +
                            "b.yaml -> " + base + "a.yaml"));
}

TEST(Includes, IncludingTheMainFileIsACycle) {
    TempDir dir;
    dir.write("config.yaml", "gateway: g\ninclude: ['*.yaml']\n");
    EXPECT_THAT(load_in(dir).errors, ElementsAre("config.yaml:2:11: include cycle: " + dir.path() +
                                                 "/config.yaml -> " + dir.path() + "/config.yaml"));
}

TEST(Includes, AFileIncludedTwiceIsAnError) {
    TempDir dir;
    dir.write("config.yaml", "gateway: g\ninclude: [a.yaml, ./a.yaml]\n");
    dir.write("a.yaml", "sources:\n" + source("a"));
    EXPECT_THAT(load_in(dir).errors, ElementsAre("config.yaml:2:19: include: '" + dir.path() +
                                                 "/a.yaml' is already loaded (included at 2:11)"));
}

TEST(Includes, DuplicateSourceNamesAcrossFiles) {
    TempDir dir;
    dir.write("config.yaml", "gateway: g\ninclude: [a.yaml]\nsources:\n" + source("s"));
    dir.write("a.yaml", "sources:\n" + source("s"));
    EXPECT_THAT(load_in(dir).errors,
                ElementsAre("a.yaml:2:5: duplicate source name 's' (first defined at " +
                            dir.path() + "/config.yaml:4:5)"));
}

TEST(Includes, EmptyIncludedFileAddsNothing) {
    TempDir dir;
    dir.write("config.yaml", "gateway: g\ninclude: [empty.yaml]\n");
    dir.write("empty.yaml", "# nothing yet\n");
    auto loaded = load_in(dir);
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    EXPECT_EQ(loaded.config->files.size(), 2u);
}

}  // namespace
}  // namespace nodebridge
