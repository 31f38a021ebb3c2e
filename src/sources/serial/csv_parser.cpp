#include "sources/serial/csv_parser.hpp"

#include <algorithm>

namespace nodebridge::serial {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::unique_ptr<CsvParser> CsvParser::make(std::vector<std::string> columns, KeyNames keys,
                                           std::string& error) {
    if (columns.empty()) {
        error = "csv format needs `columns`";
        return nullptr;
    }
    if (columns.size() > kMaxAttributes) {
        error = "csv format allows at most " + std::to_string(kMaxAttributes) + " columns";
        return nullptr;
    }
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].empty()) {
            error = "csv column " + std::to_string(i + 1) + " has an empty name";
            return nullptr;
        }
        if (std::find(columns.begin(), columns.begin() + static_cast<std::ptrdiff_t>(i),
                      columns[i]) != columns.begin() + static_cast<std::ptrdiff_t>(i)) {
            error = "csv column \"" + columns[i] + "\" appears twice";
            return nullptr;
        }
    }
    return std::make_unique<CsvParser>(std::move(columns), std::move(keys));
}

CsvParser::CsvParser(std::vector<std::string> columns, KeyNames keys)
    : LineParser(std::move(keys)), columns_(std::move(columns)) {}

LineError CsvParser::parse_fields(std::string_view line, ReportBuilder& builder) {
    const char* p = line.data();
    const char* const end = p + line.size();
    std::size_t column = 0;
    for (;;) {
        if (column >= columns_.size()) return LineError::malformed;  // too many fields
        while (p < end && is_blank(*p)) ++p;
        std::string_view field;
        if (p < end && *p == '"') {
            ++p;
            const char* const start = p;
            bool doubled = false;
            for (;;) {
                if (p == end) return LineError::malformed;  // unterminated quote
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        doubled = true;
                        p += 2;
                        continue;
                    }
                    break;
                }
                ++p;
            }
            field = std::string_view(start, static_cast<std::size_t>(p - start));
            ++p;  // closing quote
            while (p < end && is_blank(*p)) ++p;
            if (p < end && *p != ',') return LineError::malformed;
            if (doubled) {
                unquoted_.clear();
                for (std::size_t i = 0; i < field.size(); ++i) {
                    unquoted_ += field[i];
                    if (field[i] == '"') ++i;
                }
                field = unquoted_;
            }
        } else {
            const char* const start = p;
            while (p < end && *p != ',') {
                if (*p == '"') return LineError::malformed;
                ++p;
            }
            const char* last = p;
            while (last > start && is_blank(last[-1])) --last;
            field = std::string_view(start, static_cast<std::size_t>(last - start));
        }
        if (!field.empty() && !builder.add_text(columns_[column], field)) {
            return LineError::malformed;
        }
        ++column;
        if (p == end) break;
        ++p;  // ','
    }
    if (column != columns_.size()) return LineError::malformed;
    return builder.finish();
}

}  // namespace nodebridge::serial
