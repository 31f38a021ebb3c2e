#pragma once
// Turning received text into typed values, timestamps and checked strings.

#include <optional>
#include <string_view>

#include "nodebridge/sample.hpp"

namespace nodebridge::serial {

// The value a received token stands for: an integer when it is a whole number that fits
// int64 ("42", "-7", "+3"), a number when it parses as a finite decimal or exponent form
// ("229.8", "1e-3", or a whole number beyond int64), a bool for exactly "true" / "false",
// and the text itself otherwise (including "nan", "inf", hex and the empty string).
Value parse_value_text(std::string_view text);

// Parses a timestamp: epoch seconds, possibly fractional ("1732536000", "1732536000.25"),
// or ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM|+HHMM]" (a space may stand for
// the 'T'; a time without zone is taken as UTC). Returns nullopt for anything else,
// including dates out of range (years 1970..9999) and epoch values outside that range.
std::optional<WallClock::time_point> parse_timestamp(std::string_view text);

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above
// U+10FFFF). Fast for ASCII.
bool is_valid_utf8(std::string_view text);

}  // namespace nodebridge::serial
