// Durations as written in the config: a positive whole number and a unit (ms, s, m, h).

#include <charconv>
#include <cstdint>

#include "reader.hpp"

namespace nodebridge {
namespace {

// Longer durations are surely mistakes; the bound also keeps every sum free of overflow.
constexpr std::int64_t kMaxDurationMs = 366LL * 24 * 3600 * 1000;

}  // namespace

std::optional<Millis> parse_duration(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0 || digits > 12) return std::nullopt;
    std::int64_t count = 0;
    std::from_chars(text.data(), text.data() + digits, count);
    const std::string_view unit = text.substr(digits);
    std::int64_t factor = 0;
    if (unit == "ms") {
        factor = 1;
    } else if (unit == "s") {
        factor = 1000;
    } else if (unit == "m") {
        factor = 60 * 1000;
    } else if (unit == "h") {
        factor = 3600 * 1000;
    } else {
        return std::nullopt;
    }
    if (count <= 0 || count > kMaxDurationMs / factor) return std::nullopt;
    return Millis(count * factor);
}

namespace config_detail {

std::string format_duration(Millis duration) {
    const auto ms = duration.count();
    if (ms != 0 && ms % (3600 * 1000) == 0) return std::to_string(ms / (3600 * 1000)) + "h";
    if (ms != 0 && ms % (60 * 1000) == 0) return std::to_string(ms / (60 * 1000)) + "m";
    if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

}  // namespace config_detail
}  // namespace nodebridge
