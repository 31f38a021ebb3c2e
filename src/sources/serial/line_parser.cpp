#include "sources/serial/line_parser.hpp"

#include "sources/serial/csv_parser.hpp"
#include "sources/serial/json_parser.hpp"
#include "sources/serial/kv_parser.hpp"
#include "sources/serial/regex_parser.hpp"
#include "sources/serial/value_text.hpp"

namespace nodebridge::serial {

LineParser::LineParser(KeyNames keys) : builder_(std::move(keys)) {}

LineError LineParser::parse(std::string_view line, Report& report) {
    report.clear();
    const std::size_t first = line.find_first_not_of(" \t\r\v\f");
    if (first == std::string_view::npos) return LineError::empty;
    if (!is_valid_utf8(line)) return LineError::invalid_utf8;
    builder_.begin(report);
    const LineError result = parse_fields(line, builder_);
    if (result != LineError::none) report.clear();
    return result;
}

std::unique_ptr<LineParser> make_line_parser(const SerialNodesSourceConfig& config,
                                             std::string& error) {
    KeyNames keys{config.node_key, config.time_key};
    switch (config.format) {
        case LineFormat::kv:
            return std::make_unique<KvParser>(std::move(keys));
        case LineFormat::json:
            return std::make_unique<JsonParser>(std::move(keys));
        case LineFormat::csv:
            return CsvParser::make(config.columns, std::move(keys), error);
        case LineFormat::regex:
            return RegexParser::make(config.pattern, std::move(keys), error);
    }
    error = "unknown line format";
    return nullptr;
}

}  // namespace nodebridge::serial
