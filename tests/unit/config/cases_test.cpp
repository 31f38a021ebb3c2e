// The data-driven config cases: every folder under tests/cases/ holds config.yaml (and any
// files it includes) and expect.txt, holding either the word `valid` or the expected error
// lines, with paths relative to the case folder. A folder's `models/` subfolder, when there
// is one, is loaded as a model directory. Adding a case is adding a folder.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nodebridge/config.hpp"

namespace nodebridge {
namespace {

namespace fs = std::filesystem;

const fs::path kCases = fs::path(NODEBRIDGE_SOURCE_DIR) / "tests" / "cases";
const fs::path kShipped = fs::path(NODEBRIDGE_SOURCE_DIR) / "config";
// The shipped model library, which examples may name (installed as /usr/share/nodebridge/models).
const LoadOptions kWithLibrary{{(fs::path(NODEBRIDGE_SOURCE_DIR) / "models").string()}};

std::vector<std::string> read_lines(const fs::path& file) {
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) lines.push_back(line);
    }
    return lines;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += "  " + line + "\n";
    return out;
}

TEST(ConfigCases, EveryCaseGivesExactlyItsExpectedErrors) {
    std::vector<fs::path> cases;
    for (const auto& entry : fs::directory_iterator(kCases)) {
        if (entry.is_directory()) cases.push_back(entry.path());
    }
    std::sort(cases.begin(), cases.end());
    ASSERT_GE(cases.size(), 20u) << "the case folders were not found under " << kCases;

    for (const auto& dir : cases) {
        SCOPED_TRACE("case " + dir.filename().string());
        ASSERT_TRUE(fs::exists(dir / "config.yaml"));
        ASSERT_TRUE(fs::exists(dir / "expect.txt"));
        const std::vector<std::string> expected = read_lines(dir / "expect.txt");
        LoadOptions options;
        if (fs::is_directory(dir / "models"))
            options.model_dirs.push_back((dir / "models").string());
        LoadResult result = load_config((dir / "config.yaml").string(), options);
        const std::string prefix = dir.string() + "/";
        std::vector<std::string> actual;
        for (const auto& error : result.errors) {
            std::string line = error.to_string();
            for (std::size_t at = line.find(prefix); at != std::string::npos;
                 at = line.find(prefix)) {
                line.erase(at, prefix.size());
            }
            actual.push_back(line);
        }
        if (expected == std::vector<std::string>{"valid"}) {
            EXPECT_TRUE(result.config.has_value()) << "errors:\n" << joined(actual);
            EXPECT_TRUE(actual.empty());
        } else {
            EXPECT_FALSE(result.config.has_value());
            EXPECT_EQ(actual, expected) << "expected:\n"
                                        << joined(expected) << "actual:\n"
                                        << joined(actual);
        }
    }
}

TEST(ShippedConfigs, TheExampleLoadsAsWritten) {
    LoadResult result = load_config((kShipped / "examples" / "modbus.yaml").string());
    ASSERT_TRUE(result.errors.empty()) << result.errors.front().to_string();
    const Config& config = *result.config;
    EXPECT_EQ(config.gateway, "gw-01");
    EXPECT_EQ(config.mqtt.keepalive, Millis(30000));
    EXPECT_EQ(config.sources.size(), 2u);
    EXPECT_EQ(config.mappings.size(), 3u);
    const auto& meters = std::get<ModbusSourceConfig>(config.sources[1].settings);
    EXPECT_EQ(meters.nodes.at(0).attributes.at(1).unit, "°C");
    EXPECT_EQ(meters.nodes.at(0).attributes.at(1).round, 1);
}

TEST(ShippedConfigs, EveryExampleLoadsWithoutErrors) {
    std::vector<fs::path> examples;
    for (const auto& entry : fs::directory_iterator(kShipped / "examples")) {
        if (entry.path().extension() == ".yaml") examples.push_back(entry.path());
    }
    EXPECT_GE(examples.size(), 6u);
    for (const auto& example : examples) {
        LoadResult result = load_config(example.string(), kWithLibrary);
        EXPECT_TRUE(result.errors.empty())
            << example.filename() << ": " << result.errors.front().to_string();
    }
}

TEST(ShippedConfigs, OneSerialNodesExamplePerFormat) {
    const std::vector<std::pair<std::string, LineFormat>> formats{
        {"serial-kv.yaml", LineFormat::kv},
        {"serial-json.yaml", LineFormat::json},
        {"serial-csv.yaml", LineFormat::csv},
        {"serial-regex.yaml", LineFormat::regex}};
    for (const auto& [file, format] : formats) {
        SCOPED_TRACE(file);
        LoadResult result = load_config((kShipped / "examples" / file).string());
        ASSERT_TRUE(result.config.has_value());
        ASSERT_EQ(result.config->sources.size(), 1u);
        const SourceConfig& source = result.config->sources[0];
        EXPECT_EQ(source.type, "serial-nodes");
        EXPECT_EQ(std::get<SerialNodesSourceConfig>(source.settings).format, format);
        ASSERT_FALSE(result.config->mappings.empty());
        EXPECT_NE(result.config->mappings[0].availability_topic, "");
    }
}

TEST(ShippedConfigs, TheDemoHasModbusTcpRtuWirelessAndLibraryModelNodes) {
    LoadResult result = load_config((kShipped / "examples" / "demo.yaml").string(), kWithLibrary);
    ASSERT_TRUE(result.errors.empty()) << result.errors.front().to_string();
    std::vector<std::string> types;
    for (const SourceConfig& source : result.config->sources) types.push_back(source.type);
    EXPECT_EQ(types,
              (std::vector<std::string>{"modbus-tcp", "modbus-rtu", "serial-nodes", "modbus-tcp"}));
    // The meters: one unit range of a shipped model, which scripts/demo's simulator serves.
    const auto& meters = std::get<ModbusSourceConfig>(result.config->sources[3].settings);
    EXPECT_EQ(std::get<ModbusTcpEndpoint>(meters.link).port, 1503);
    ASSERT_EQ(meters.nodes.size(), 3u);
    for (const ModbusNode& node : meters.nodes) {
        EXPECT_TRUE(node.from_range) << node.id;
        ASSERT_TRUE(node.model) << node.id;
        EXPECT_EQ(node.model->name, "eastron-sdm120");
        EXPECT_EQ(node.model->where.file,
                  (fs::path(NODEBRIDGE_SOURCE_DIR) / "models" / "eastron-sdm120.yaml").string());
    }
    EXPECT_EQ(meters.nodes[2].id, "sdm120-3");
    // scripts/demo rewrites these with sed: they must stay as written.
    EXPECT_EQ(result.config->mqtt.port, 1883);
    EXPECT_EQ(std::get<ModbusTcpEndpoint>(
                  std::get<ModbusSourceConfig>(result.config->sources[0].settings).link)
                  .port,
              1502);
    EXPECT_EQ(
        std::get<SerialLine>(std::get<ModbusSourceConfig>(result.config->sources[1].settings).link)
            .device,
        "/dev/ttyUSB0");
    EXPECT_EQ(std::get<SerialNodesSourceConfig>(result.config->sources[2].settings).line.device,
              "/dev/ttyACM0");
}

TEST(ShippedConfigs, TheDefaultConfigIsValidOutOfTheBox) {
    LoadResult result = load_config((kShipped / "nodebridge.yaml").string());
    ASSERT_TRUE(result.errors.empty()) << result.errors.front().to_string();
    EXPECT_EQ(result.config->gateway, "gw-01");
    EXPECT_EQ(result.config->mqtt.host, "localhost");
    EXPECT_EQ(result.config->mqtt.port, 1883);
    EXPECT_EQ(result.config->mqtt.health.topic, "nodebridge/gw-01/status");
    EXPECT_TRUE(result.config->sources.empty());
}

}  // namespace
}  // namespace nodebridge
