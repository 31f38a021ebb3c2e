#include "sources/serial/csv_parser.hpp"

#include "parser_test_support.hpp"

namespace nodebridge::serial {
namespace {

using testing::attribute;
using testing::names;
using testing::parser_for;

SerialNodesSourceConfig csv_config(std::vector<std::string> columns) {
    SerialNodesSourceConfig config;
    config.format = LineFormat::csv;
    config.columns = std::move(columns);
    return config;
}

TEST(CsvParser, MatchesFieldsToColumns) {
    auto parser = parser_for(csv_config({"node", "voltage", "current", "power"}));
    Report report;
    ASSERT_EQ(parser->parse("0A1B2C, 229.8 ,1.92,441", report), LineError::none);
    EXPECT_EQ(report.node, "0A1B2C");
    EXPECT_EQ(names(report), "voltage,current,power");
    EXPECT_EQ(*attribute(report, "voltage"), Value(229.8));
    EXPECT_EQ(*attribute(report, "power"), Value(std::int64_t{441}));
}

TEST(CsvParser, ReadsQuotedFieldsAndSkipsEmptyOnes) {
    auto parser = parser_for(csv_config({"node", "label", "v", "w"}));
    Report report;
    ASSERT_EQ(parser->parse(R"(n1,"a, ""b""" , ,"7")", report), LineError::none);
    EXPECT_EQ(names(report), "label,w");
    EXPECT_EQ(*attribute(report, "label"), Value(std::string(R"(a, "b")")));
    EXPECT_EQ(*attribute(report, "w"), Value(std::int64_t{7}));
}

TEST(CsvParser, RejectsWrongFieldCountsAndBadQuotes) {
    auto parser = parser_for(csv_config({"node", "v"}));
    Report report;
    for (const char* line : {"n1", "n1,1,2", R"(n1,"open)", R"(n1,"x"y)", R"(n1,a"b)"}) {
        EXPECT_EQ(parser->parse(line, report), LineError::malformed) << line;
    }
    EXPECT_EQ(parser->parse(",5", report), LineError::no_node_id);
}

TEST(CsvParser, RefusesUnusableColumns) {
    std::string error;
    EXPECT_EQ(make_line_parser(csv_config({}), error), nullptr);
    EXPECT_NE(error.find("columns"), std::string::npos);
    EXPECT_EQ(make_line_parser(csv_config({"node", "v", "v"}), error), nullptr);
    EXPECT_NE(error.find("twice"), std::string::npos);
}

}  // namespace
}  // namespace nodebridge::serial
