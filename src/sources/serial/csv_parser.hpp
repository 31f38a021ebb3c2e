#pragma once
// `format: csv` with `columns: [node, voltage, current, power]`.
//
// Fields are separated by ',' and matched to the columns by position; a line must have
// exactly as many fields as there are columns. A field may be double-quoted (RFC 4180:
// "" inside quotes is one quote) to hold commas. Spaces around a field are trimmed. An
// empty field means "no reading": that column is left out of the report. Values are typed
// like kv values ("42" is an integer even when quoted).

#include <memory>
#include <string>
#include <vector>

#include "sources/serial/line_parser.hpp"

namespace nodebridge::serial {

class CsvParser final : public LineParser {
  public:
    // Returns nullptr and sets `error` when `columns` is empty, holds an empty or duplicate
    // name, or more than kMaxAttributes names.
    static std::unique_ptr<CsvParser> make(std::vector<std::string> columns, KeyNames keys,
                                           std::string& error);

    CsvParser(std::vector<std::string> columns, KeyNames keys);

  protected:
    LineError parse_fields(std::string_view line, ReportBuilder& builder) override;

  private:
    std::vector<std::string> columns_;
    std::string unquoted_;  // scratch for quoted fields with "" inside
};

}  // namespace nodebridge::serial
