#pragma once
// The interface every receiver format implements, and the factory that builds the one a
// source is configured with.

#include <memory>
#include <string>
#include <string_view>

#include "nodebridge/config.hpp"
#include "sources/serial/report.hpp"

namespace nodebridge::serial {

class LineParser {
  public:
    explicit LineParser(KeyNames keys);
    virtual ~LineParser() = default;
    LineParser(const LineParser&) = delete;
    LineParser& operator=(const LineParser&) = delete;

    // Parses one line (without its terminator) into `report`, reusing its storage. Returns
    // LineError::none on success; otherwise `report` holds nothing useful. A line that is
    // blank or only whitespace is LineError::empty; bytes that are not UTF-8 are
    // LineError::invalid_utf8, checked before the format sees them. Never throws on input.
    LineError parse(std::string_view line, Report& report);

  protected:
    // The format's part: called with a non-blank, valid UTF-8 line after builder().begin().
    // Returns LineError::malformed or the builder's finish() result.
    virtual LineError parse_fields(std::string_view line, ReportBuilder& builder) = 0;

  private:
    ReportBuilder builder_;
};

// Builds the parser for `config.format` (kv, json, csv or regex) with its node and time
// keys. Returns nullptr and sets `error` (one sentence) when the config cannot work: csv
// without columns, a regex that does not compile or lacks the node group.
std::unique_ptr<LineParser> make_line_parser(const SerialNodesSourceConfig& config,
                                             std::string& error);

}  // namespace nodebridge::serial
