#include "sources/serial/kv_parser.hpp"

namespace nodebridge::serial {
namespace {

bool is_separator(char c) { return c == ' ' || c == '\t' || c == ',' || c == ';'; }

}  // namespace

LineError KvParser::parse_fields(std::string_view line, ReportBuilder& builder) {
    const char* p = line.data();
    const char* const end = p + line.size();
    for (;;) {
        while (p < end && is_separator(*p)) ++p;
        if (p == end) break;

        const char* const key_start = p;
        while (p < end && *p != '=' && !is_separator(*p) && *p != '"') ++p;
        if (p == end || *p != '=' || p == key_start) return LineError::malformed;
        const std::string_view key(key_start, static_cast<std::size_t>(p - key_start));
        ++p;  // '='

        std::string_view value;
        if (p < end && *p == '"') {
            ++p;
            const char* const value_start = p;
            bool escaped = false;
            while (p < end && *p != '"') {
                if (*p == '\\') {
                    escaped = true;
                    ++p;
                    if (p == end) return LineError::malformed;
                }
                ++p;
            }
            if (p == end) return LineError::malformed;  // unterminated quote
            value = std::string_view(value_start, static_cast<std::size_t>(p - value_start));
            ++p;  // closing quote
            if (p < end && !is_separator(*p)) return LineError::malformed;
            if (escaped) {
                unescaped_.clear();
                for (std::size_t i = 0; i < value.size(); ++i) {
                    char c = value[i];
                    if (c == '\\') {
                        switch (value[++i]) {
                            case '"':
                                c = '"';
                                break;
                            case '\\':
                                c = '\\';
                                break;
                            case 'n':
                                c = '\n';
                                break;
                            case 'r':
                                c = '\r';
                                break;
                            case 't':
                                c = '\t';
                                break;
                            default:
                                return LineError::malformed;
                        }
                    }
                    unescaped_ += c;
                }
                value = unescaped_;
            }
        } else {
            const char* const value_start = p;
            while (p < end && !is_separator(*p)) {
                if (*p == '"' || *p == '=') return LineError::malformed;
                ++p;
            }
            value = std::string_view(value_start, static_cast<std::size_t>(p - value_start));
        }
        if (!builder.add_text(key, value)) return LineError::malformed;
    }
    return builder.finish();
}

}  // namespace nodebridge::serial
