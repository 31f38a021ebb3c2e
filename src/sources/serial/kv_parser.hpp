#pragma once
// `format: kv` — "node=0A1B2C voltage=229.8 current=1.92 pf=0.97 rssi=-71".
//
// Fields are key=value, separated by any run of spaces, tabs, commas or semicolons. A value
// may be double-quoted to hold separators; inside quotes \" \\ \n \r \t are escapes. Quoting
// only protects separators: "42" still becomes the integer 42. A token without '=', an
// empty key, an unterminated quote or an unknown escape makes the line malformed. An empty
// value (`a=`) is empty text.

#include "sources/serial/line_parser.hpp"

namespace nodebridge::serial {

class KvParser final : public LineParser {
  public:
    explicit KvParser(KeyNames keys) : LineParser(std::move(keys)) {}

  protected:
    LineError parse_fields(std::string_view line, ReportBuilder& builder) override;

  private:
    std::string unescaped_;  // scratch for quoted values with escapes
};

}  // namespace nodebridge::serial
