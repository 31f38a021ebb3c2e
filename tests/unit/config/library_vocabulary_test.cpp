// One vocabulary for the library: attributes of the same meaning have the same name in every
// shipped model, whoever made the device (docs/models.md, "Attribute names"). The patterns are
// read from the ```vocabulary block of docs/models.md, so the documentation and this test
// cannot drift apart: a name no pattern matches fails here until it is written down there.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

const std::string kSourceDir = NODEBRIDGE_SOURCE_DIR;

struct Pattern {
    std::string text;
    std::regex regex;
};

// The lines of the ```vocabulary block in docs/models.md.
std::vector<Pattern> vocabulary() {
    std::ifstream in(kSourceDir + "/docs/models.md", std::ios::binary);
    std::vector<Pattern> patterns;
    std::string line;
    bool inside = false;
    while (std::getline(in, line)) {
        if (!inside) {
            inside = line == "```vocabulary";
            continue;
        }
        if (line == "```") break;
        if (!line.empty()) patterns.push_back({line, std::regex(line, std::regex::ECMAScript)});
    }
    return patterns;
}

bool in_vocabulary(const std::vector<Pattern>& patterns, const std::string& name) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const Pattern& p) { return std::regex_match(name, p.regex); });
}

struct Named {
    std::string file;
    std::string model;
    std::string attribute;
    std::string quantity;  // empty when the model gives none
};

// Every attribute name (and every received name) of every shipped model, read from the files.
std::vector<Named> library_names() {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(kSourceDir + "/models")) {
        if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    std::vector<Named> names;
    for (const auto& file : files) {
        const YAML::Node root = YAML::LoadFile(file);
        const std::string base = std::filesystem::path(file).filename().string();
        for (const auto& model : root["models"]) {
            const std::string name = model.first.as<std::string>();
            for (const auto& attribute : model.second["attributes"]) {
                const YAML::Node q = attribute.second["quantity"];
                names.push_back({base, name, attribute.first.as<std::string>(),
                                 q ? q.as<std::string>() : std::string()});
            }
            for (const auto& received : model.second["received"]) {
                const YAML::Node n = received.second["name"];
                const YAML::Node q = received.second["quantity"];
                names.push_back({base, name,
                                 n ? n.as<std::string>() : received.first.as<std::string>(),
                                 q ? q.as<std::string>() : std::string()});
            }
        }
    }
    return names;
}

TEST(Library, TheVocabularyIsWrittenDown) {
    const auto patterns = vocabulary();
    ASSERT_GE(patterns.size(), 5u) << "docs/models.md has no ```vocabulary block";
    // The names a dashboard relies on first.
    for (const char* name :
         {"voltage_l1", "voltage", "current_l3", "power", "power_l2", "apparent_power",
          "reactive_power", "power_factor", "frequency", "energy_import", "energy_export",
          "reactive_energy_import", "voltage_l1_l2", "current_n", "temperature", "humidity"}) {
        EXPECT_TRUE(in_vocabulary(patterns, name)) << name;
    }
}

// The synonyms one maker's document suggests and another's does not: the vocabulary has one
// name for each meaning, so these are refused.
TEST(Library, TheVocabularyRefusesSynonyms) {
    const auto patterns = vocabulary();
    ASSERT_FALSE(patterns.empty());
    for (const char* name :
         {"power_total", "apparent_power_total", "reactive_power_total", "power_factor_total",
          "phase_angle_total", "active_power", "total_power", "voltage_l1n", "u_l1", "pf",
          "energy_import_total", "import_energy", "kwh_import", "temp", "rh", "freq",
          "voltage_l1_n", "power_sum"}) {
        EXPECT_FALSE(in_vocabulary(patterns, name)) << name << " should not be in the vocabulary";
    }
}

TEST(Library, EveryAttributeNameIsInTheVocabulary) {
    const auto patterns = vocabulary();
    ASSERT_FALSE(patterns.empty());
    const auto names = library_names();
    ASSERT_FALSE(names.empty());
    for (const auto& n : names) {
        EXPECT_TRUE(in_vocabulary(patterns, n.attribute))
            << n.file << ": " << n.model << "." << n.attribute
            << " is not in the vocabulary of docs/models.md (\"Attribute names\")";
    }
}

// A name says what is measured, so its quantity follows from it: the same name never means a
// voltage in one model and a percentage in another. The first rule that matches applies.
TEST(Library, EveryNameHasTheQuantityItsWordsSay) {
    const std::vector<std::pair<std::regex, std::string>> rules = {
        {std::regex(".*_thd(_l[123])?"), "percentage"},
        {std::regex("(input_|output_)?load(_l[123])?"), "percentage"},
        {std::regex("(input_|output_|battery_)?voltage.*"), "voltage"},
        {std::regex("(input_|output_|battery_)?current.*"), "current"},
        {std::regex("(power_factor|cos_phi).*"), "power_factor"},
        {std::regex("apparent_power.*"), "apparent_power"},
        {std::regex("reactive_power.*"), "reactive_power"},
        {std::regex("(input_|output_)?power.*"), "power"},
        {std::regex("phase_angle.*"), "phase_angle"},
        {std::regex("(input_|output_)?frequency.*"), "frequency"},
        {std::regex("apparent_energy.*"), "apparent_energy"},
        {std::regex("reactive_energy.*"), "reactive_energy"},
        {std::regex("energy.*"), "energy"},
        {std::regex(".*temperature|dew_point"), "temperature"},
        {std::regex("humidity"), "humidity"},
        {std::regex("pressure"), "pressure"},
        {std::regex("carbon_dioxide"), "carbon_dioxide"},
        {std::regex("battery_level"), "battery"},
        {std::regex("run_hours|battery_runtime_remaining|battery_seconds_on"), "duration"},
    };
    for (const auto& n : library_names()) {
        for (const auto& [pattern, quantity] : rules) {
            if (!std::regex_match(n.attribute, pattern)) continue;
            EXPECT_EQ(n.quantity, quantity) << n.file << ": " << n.model << "." << n.attribute;
            break;
        }
    }
}

}  // namespace
