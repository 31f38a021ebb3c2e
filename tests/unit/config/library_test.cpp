// The shipped library (models/*.yaml): every file loads with the real loader, names its
// datasheet, follows the naming convention of docs/models.md, and gives every node built
// from one of its models that model's attributes. A broken shipped file fails here.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config_fixture.hpp"
#include "nodebridge/config.hpp"

namespace nodebridge::testing {
namespace {

const std::string kLibraryDir = std::string(NODEBRIDGE_SOURCE_DIR) + "/models";

std::vector<std::string> library_files() {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(kLibraryDir)) {
        if (entry.path().extension() == ".yaml") files.push_back(entry.path().filename().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The names under `models:` in one library file, read independently of the loader.
std::vector<std::string> model_names(const std::string& path) {
    std::vector<std::string> names;
    const YAML::Node root = YAML::LoadFile(path);
    for (const auto& item : root["models"]) names.push_back(item.first.as<std::string>());
    return names;
}

// A config with one Modbus TCP source and one node per model of `names`.
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

const DeviceModel* find_model(const Config& config, const std::string& name) {
    for (const auto& model : config.models) {
        if (model->name == name) return &*model;
    }
    return nullptr;
}

bool is_known_quantity(const std::string& quantity) {
    const auto& known = known_quantities();
    return std::find(known.begin(), known.end(), quantity) != known.end();
}

class LibraryFile : public ::testing::TestWithParam<std::string> {};

TEST(Library, NoModelNameIsDefinedTwice) {
    std::set<std::string> seen;
    for (const auto& file : library_files()) {
        for (const auto& name : model_names(kLibraryDir + "/" + file)) {
            EXPECT_TRUE(seen.insert(name).second) << name << " is defined again in " << file;
        }
    }
}

TEST_P(LibraryFile, LoadsAndEveryModelGivesItsNodesItsAttributes) {
    const std::string path = kLibraryDir + "/" + GetParam();
    const auto names = model_names(path);
    ASSERT_FALSE(names.empty()) << path << " defines no model";

    TempDir dir;
    const std::string config_path = dir.write("config.yaml", config_using(names));
    LoadOptions options;
    options.model_dirs = {kLibraryDir};
    const LoadResult result = load_config(config_path, options);
    std::string errors;
    for (const auto& error : result.errors) errors += error.to_string() + "\n";
    ASSERT_TRUE(result.config.has_value()) << errors;
    EXPECT_TRUE(result.errors.empty()) << errors;

    const auto& source = std::get<ModbusSourceConfig>(result.config->sources.at(0).settings);
    ASSERT_EQ(source.nodes.size(), names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        const DeviceModel* model = find_model(*result.config, names[i]);
        ASSERT_NE(model, nullptr) << names[i];
        const ModbusNode& node = source.nodes[i];
        ASSERT_TRUE(node.model) << node.id;
        EXPECT_EQ(node.model->name, names[i]);
        EXPECT_EQ(node.attributes.list(), model->attributes.list()) << names[i];
    }
}

TEST_P(LibraryFile, CitesItsDatasheetAndFollowsTheConventions) {
    const std::string file = GetParam();
    const std::string path = kLibraryDir + "/" + file;
    const std::string text = read_text(path);
    // The header says where the register map was taken from and which table was checked.
    EXPECT_NE(text.find("\n# Register map: "), std::string::npos)
        << file << ": the header comment has no \"# Register map: \" line";
    EXPECT_EQ(text.rfind("# ", 0), 0u) << file << ": starts without a comment on the device";

    // File names are <manufacturer>-<device>.yaml, lower case.
    const std::string stem = std::filesystem::path(file).stem().string();
    EXPECT_TRUE(std::regex_match(stem, std::regex("[a-z0-9]+(-[a-z0-9]+)+"))) << file;

    TempDir dir;
    const auto names = model_names(path);
    const std::string config_path = dir.write("config.yaml", config_using(names));
    LoadOptions options;
    options.model_dirs = {kLibraryDir};
    const LoadResult result = load_config(config_path, options);
    ASSERT_TRUE(result.config.has_value());

    const std::regex snake("[a-z][a-z0-9]*(_[a-z0-9]+)*");
    for (const auto& name : names) {
        const DeviceModel* model = find_model(*result.config, name);
        ASSERT_NE(model, nullptr) << name;
        EXPECT_EQ(name.rfind(stem.substr(0, stem.find('-')) + "-", 0), 0u)
            << name << " does not start with its manufacturer as in " << file;
        EXPECT_FALSE(model->manufacturer.empty()) << name;
        EXPECT_FALSE(model->model.empty()) << name;
        EXPECT_FALSE(model->description.empty()) << name;
        EXPECT_FALSE(model->datasheet.title.empty()) << name;
        EXPECT_FALSE(model->datasheet.version.empty()) << name;
        EXPECT_EQ(model->datasheet.url.rfind("https://", 0), 0u)
            << name << ": datasheet url " << model->datasheet.url;
        EXPECT_FALSE(model->attributes.list().empty()) << name;
        for (const auto& attribute : model->attributes.list()) {
            const std::string where = name + "." + attribute.name;
            EXPECT_TRUE(std::regex_match(attribute.name, snake)) << where;
            EXPECT_FALSE(attribute.writable) << where << ": library models only read";
            if (!attribute.meaning.quantity.empty()) {
                EXPECT_TRUE(is_known_quantity(attribute.meaning.quantity)) << where;
            }
            if (attribute.meaning.counter) {
                EXPECT_NE(attribute.meaning.quantity, "") << where << ": a counter of what?";
            }
            // Every quantity with a unit of its own says it; power factors have none.
            const std::string& q = attribute.meaning.quantity;
            if (!q.empty() && q != "power_factor") {
                EXPECT_FALSE(attribute.unit.empty()) << where << " has no unit";
            }
        }
    }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = std::filesystem::path(info.param).stem().string();
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

INSTANTIATE_TEST_SUITE_P(Shipped, LibraryFile, ::testing::ValuesIn(library_files()), test_name);

}  // namespace
}  // namespace nodebridge::testing
