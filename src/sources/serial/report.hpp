#pragma once
// What a parser makes of one received line: a node id, an optional time and attributes,
// or the reason the line was rejected. ReportBuilder holds the rules every format shares:
// which key is the node id or the time, duplicate keys, and the bounds.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodebridge/sample.hpp"

namespace nodebridge::serial {

// Why a line was rejected. Each has a stable counter name (to_string).
enum class LineError {
    none,          // the line became a report
    empty,         // blank line (not counted as an error)
    malformed,     // "garbage": not the configured format, a duplicate key, over the bounds
    invalid_utf8,  // bytes that are not UTF-8
    no_node_id,    // well-formed, but no node key
    bad_node_id,   // a node id that is empty, too long, or holds spaces or control characters
};

// "ok", "empty", "garbage", "invalid_utf8", "no_node_id", "bad_node_id".
std::string_view to_string(LineError error);

struct Report {
    std::string node;
    std::optional<WallClock::time_point> time;  // set when the time key held a valid time
    bool bad_time = false;                      // the time key was present but unparseable
    std::vector<Attribute> attributes;          // in received order; units empty

    // Empties the report, keeping its capacity for the next line.
    void clear();
};

// The keys that have a special meaning in a line.
struct KeyNames {
    std::string node_key;  // empty = "node", else "id"
    std::string time_key;  // empty = none
};

// Limits on one line's content, whatever the format.
inline constexpr std::size_t kMaxNodeIdBytes = 64;
inline constexpr std::size_t kMaxKeyBytes = 128;
inline constexpr std::size_t kMaxAttributes = 256;

// Collects one line's fields into a Report. Parsers call begin(), add_*() per field, then
// finish(). Not thread-safe; one builder per parser.
class ReportBuilder {
  public:
    explicit ReportBuilder(KeyNames keys);

    void begin(Report& report);

    // Adds a field whose value is still text; the value is typed by parse_value_text().
    // Returns false (the line is malformed) for an empty or oversized key, a control byte in
    // the key, a duplicate key, or more than kMaxAttributes fields.
    bool add_text(std::string_view key, std::string_view text);

    // Adds a field whose type the format already knows (JSON). `raw` is the value as
    // written, used when the field turns out to be the node id or the time.
    bool add_value(std::string_view key, std::string_view raw, Value value);

    // Resolves the node id and the time. Returns LineError::none when the report is usable.
    LineError finish();

  private:
    enum class Special { none, node, id_fallback, time };
    Special classify(std::string_view key) const;
    bool check_key(std::string_view key) const;
    bool take_special(Special special, std::string_view raw);

    KeyNames keys_;
    Report* report_ = nullptr;
    bool have_node_ = false;
    bool have_id_ = false;  // default keys: "id" was seen (kept aside in id_text_)
    bool have_time_ = false;
    std::string id_text_;
    std::string time_text_;
};

}  // namespace nodebridge::serial
