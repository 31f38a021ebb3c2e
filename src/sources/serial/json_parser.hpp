#pragma once
// `format: json` — one JSON object per line, as radio decoders such as rtl_433 emit:
// {"time":"2026-11-24 12:00:00","model":"Acurite-Tower","id":1234,"temperature_C":21.5}.
//
// Strict RFC 8259 (no comments, no trailing commas, no NaN, no numbers beyond the range
// of a double), nesting at most 16 deep.
// Nested objects are flattened with '.': {"env":{"temp":21.5}} gives `env.temp`. Arrays are
// indexed the same way: {"rows":[7,8]} gives `rows.0` and `rows.1`. null values are
// skipped. Strings stay text (a JSON "42" is the text "42"), integers that fit int64 are
// integers, other numbers are numbers, true/false are bools. The node and time keys may be
// strings or numbers ({"id":1234} is node "1234"); they are matched on the flattened name.

#include <string>

#include "sources/serial/line_parser.hpp"

namespace nodebridge::serial {

class JsonParser final : public LineParser {
  public:
    explicit JsonParser(KeyNames keys) : LineParser(std::move(keys)) {}

    static constexpr int kMaxDepth = 16;

  protected:
    LineError parse_fields(std::string_view line, ReportBuilder& builder) override;

  private:
    bool parse_value(int depth);
    bool parse_object(int depth);
    bool parse_array(int depth);
    bool parse_string(std::string& out);
    bool parse_number(std::string_view& token, Value& value);
    void skip_whitespace();
    bool push_key(std::string_view key);  // appends ".key" (or "key" at the top) to path_

    const char* p_ = nullptr;
    const char* end_ = nullptr;
    ReportBuilder* builder_ = nullptr;
    std::string path_;  // flattened name of the value being parsed
    std::string text_;  // scratch for string values
    std::string key_;   // scratch for object keys
};

}  // namespace nodebridge::serial
