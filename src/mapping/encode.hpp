#pragma once
// Payload encoders: value text, JSON fragments and timestamps, all appending to a caller's
// string so the hot path reuses one buffer per message. The public forms of the first two
// (append_value_text, append_value_json, format_timestamp) live in nodebridge/mapping.hpp.

#include <string>
#include <string_view>

#include "nodebridge/number_text.hpp"
#include "nodebridge/sample.hpp"

namespace nodebridge::mapping {

// Appends `text` as a quoted JSON string: '"' and '\' escaped, control characters (below
// U+0020) as \u00XX, and every invalid UTF-8 sequence (stray continuation bytes, overlong
// forms, surrogates, code points above U+10FFFF, truncated sequences) replaced by U+FFFD,
// one per maximal invalid subpart. The result is always valid JSON.
void append_json_string(std::string_view text, std::string& out);

// Appends a double as append_number_text() writes it ("230.5", "0.0001", "1e+21"). NaN and
// infinities become "null" when `json`, else "nan", "inf", "-inf".
void append_number(double value, bool json, std::string& out);

// Length of "2026-11-24T12:00:00.123Z".
inline constexpr std::size_t kTimestampLength = 24;

// Writes the UTC timestamp of `time`, truncated to milliseconds, into `buffer`.
void write_timestamp(WallClock::time_point time, char (&buffer)[kTimestampLength]);

}  // namespace nodebridge::mapping
