#define PCRE2_CODE_UNIT_WIDTH 8
#include "sources/serial/regex_parser.hpp"

#include <pcre2.h>

#include <algorithm>

namespace nodebridge::serial {

RegexParser::RegexParser(KeyNames keys) : LineParser(std::move(keys)) {}

RegexParser::~RegexParser() {
    pcre2_match_context_free(match_context_);
    pcre2_match_data_free(match_data_);
    pcre2_code_free(code_);
}

std::unique_ptr<RegexParser> RegexParser::make(const std::string& pattern, KeyNames keys,
                                               std::string& error) {
    const std::string node_key = keys.node_key;
    std::unique_ptr<RegexParser> parser(new RegexParser(std::move(keys)));
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    parser->code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                  PCRE2_UTF, &error_code, &error_offset, nullptr);
    if (parser->code_ == nullptr) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error_code, message, sizeof message);
        error = "regex does not compile at offset " + std::to_string(error_offset) + ": " +
                reinterpret_cast<const char*>(message);
        return nullptr;
    }

    std::uint32_t name_count = 0;
    std::uint32_t entry_size = 0;
    PCRE2_SPTR table = nullptr;
    pcre2_pattern_info(parser->code_, PCRE2_INFO_NAMECOUNT, &name_count);
    pcre2_pattern_info(parser->code_, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
    pcre2_pattern_info(parser->code_, PCRE2_INFO_NAMETABLE, &table);
    bool has_node = false;
    for (std::uint32_t i = 0; i < name_count; ++i) {
        const PCRE2_SPTR entry = table + static_cast<std::size_t>(i) * entry_size;
        const std::uint32_t number = (static_cast<std::uint32_t>(entry[0]) << 8) | entry[1];
        std::string name(reinterpret_cast<const char*>(entry + 2));
        if (node_key.empty() ? (name == "node" || name == "id") : name == node_key) {
            has_node = true;
        }
        parser->groups_.emplace_back(std::move(name), number);
    }
    // The name table is sorted by name; report attributes in pattern order instead.
    std::sort(parser->groups_.begin(), parser->groups_.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    if (!has_node) {
        error = "regex needs a named group for the node id: (?<" +
                (node_key.empty() ? std::string("node") : node_key) + ">...)";
        return nullptr;
    }

    parser->jit_ = pcre2_jit_compile(parser->code_, PCRE2_JIT_COMPLETE) == 0;
    parser->match_data_ = pcre2_match_data_create_from_pattern(parser->code_, nullptr);
    parser->match_context_ = pcre2_match_context_create(nullptr);
    if (parser->match_data_ == nullptr || parser->match_context_ == nullptr) {
        error = "out of memory compiling the regex";
        return nullptr;
    }
    pcre2_set_match_limit(parser->match_context_, kMatchLimit);
    pcre2_set_depth_limit(parser->match_context_, kDepthLimit);
    return parser;
}

LineError RegexParser::parse_fields(std::string_view line, ReportBuilder& builder) {
    // The line was checked for UTF-8 already.
    const int matched = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(line.data()), line.size(),
                                    0, PCRE2_NO_UTF_CHECK, match_data_, match_context_);
    if (matched <= 0) return LineError::malformed;  // no match, or a limit was hit
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match_data_);
    for (const auto& [name, number] : groups_) {
        if (static_cast<int>(number) >= matched) continue;
        const PCRE2_SIZE start = ovector[2 * number];
        const PCRE2_SIZE end = ovector[2 * number + 1];
        if (start == PCRE2_UNSET || end < start) continue;
        if (!builder.add_text(name, line.substr(start, end - start))) return LineError::malformed;
    }
    return builder.finish();
}

}  // namespace nodebridge::serial
