#include "sources/serial/attribute_schema.hpp"

#include <gtest/gtest.h>

namespace nodebridge::serial {
namespace {

TEST(AttributeSchema, RenamesScalesRoundsAndDropsKeys) {
    std::vector<ReceivedAttribute> entries(3);
    entries[0].key = "t";
    entries[0].name = "temperature";
    entries[0].scale = 0.1;
    entries[0].round = 1;
    entries[0].unit = "°C";
    entries[1].key = "rssi";
    entries[1].ignore = true;
    entries[2].key = "e";
    entries[2].unit = "kWh";
    AttributeSchema schema(entries);

    std::vector<Attribute> attributes{{"t", std::int64_t{215}, ""},
                                      {"rssi", std::int64_t{-71}, ""},
                                      {"e", std::int64_t{12}, ""},
                                      {"label", std::string("hall"), ""}};
    schema.apply(attributes);
    ASSERT_EQ(attributes.size(), 3u);
    EXPECT_EQ(attributes[0], (Attribute{"temperature", 21.5, "°C"}));
    EXPECT_EQ(attributes[1], (Attribute{"e", std::int64_t{12}, "kWh"}));  // stays an integer
    EXPECT_EQ(attributes[2], (Attribute{"label", std::string("hall"), ""}));
}

TEST(AttributeSchema, AppliesOffsetAndLeavesTextAndBoolsAlone) {
    std::vector<ReceivedAttribute> entries(2);
    entries[0].key = "v";
    entries[0].offset = -1.5;
    entries[1].key = "s";
    entries[1].scale = 10;
    AttributeSchema schema(entries);
    std::vector<Attribute> attributes{{"v", 2.0, ""}, {"s", std::string("x"), ""}};
    schema.apply(attributes);
    EXPECT_EQ(attributes[0].value, Value(0.5));
    EXPECT_EQ(attributes[1].value, Value(std::string("x")));
}

TEST(NodeSchemas, TheFirstMatchingModelsEntryWinsElseTheSources) {
    SerialNodesSourceConfig settings;
    settings.attributes.resize(1);
    settings.attributes[0].key = "t";
    settings.attributes[0].name = "temperature";
    settings.node_models.resize(2);
    settings.node_models[0].nodes = "door-*";
    settings.node_models[0].attributes.resize(1);
    settings.node_models[0].attributes[0].key = "t";
    settings.node_models[0].attributes[0].name = "open";
    settings.node_models[1].nodes = "d*";
    settings.node_models[1].attributes.resize(1);
    settings.node_models[1].attributes[0].key = "t";
    settings.node_models[1].attributes[0].ignore = true;
    NodeSchemas schemas(settings);

    auto renamed = [&](const std::string& node) {
        std::vector<Attribute> attributes{{"t", std::int64_t{1}, ""}};
        schemas.for_node(node).apply(attributes);
        return attributes.empty() ? std::string("(dropped)") : attributes[0].name;
    };
    EXPECT_EQ(renamed("door-1"), "open");
    EXPECT_EQ(renamed("dock"), "(dropped)");
    EXPECT_EQ(renamed("env-1"), "temperature");
}

}  // namespace
}  // namespace nodebridge::serial
