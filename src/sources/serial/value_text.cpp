#include "sources/serial/value_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace nodebridge::serial {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// True when `text` is a decimal number: [+-] digits [. digits] [e [+-] digits], with at
// least one digit before or after the point. Keeps from_chars away from "inf", "nan", hex.
bool looks_numeric(std::string_view text, bool& is_integer) {
    std::size_t i = 0;
    const std::size_t n = text.size();
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    std::size_t digits = 0;
    while (i < n && is_digit(text[i])) ++i, ++digits;
    is_integer = true;
    if (i < n && text[i] == '.') {
        is_integer = false;
        ++i;
        while (i < n && is_digit(text[i])) ++i, ++digits;
    }
    if (digits == 0) return false;
    if (i < n && (text[i] == 'e' || text[i] == 'E')) {
        is_integer = false;
        ++i;
        if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
        std::size_t exponent_digits = 0;
        while (i < n && is_digit(text[i])) ++i, ++exponent_digits;
        if (exponent_digits == 0) return false;
    }
    return i == n;
}

// Parses exactly `count` digits at `text[pos]`.
bool take_digits(std::string_view text, std::size_t& pos, int count, int& out) {
    if (pos + count > text.size()) return false;
    int value = 0;
    for (int k = 0; k < count; ++k) {
        const char c = text[pos + k];
        if (!is_digit(c)) return false;
        value = value * 10 + (c - '0');
    }
    pos += count;
    out = value;
    return true;
}

bool take_char(std::string_view text, std::size_t& pos, char expected) {
    if (pos < text.size() && text[pos] == expected) {
        ++pos;
        return true;
    }
    return false;
}

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

int days_in_month(int y, int m) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : kDays[m - 1];
}

constexpr double kMaxEpochSeconds = 253402300799.0;  // 9999-12-31T23:59:59Z

std::optional<WallClock::time_point> parse_iso8601(std::string_view text) {
    std::size_t pos = 0;
    int year, month, day, hour, minute, second;
    if (!take_digits(text, pos, 4, year) || !take_char(text, pos, '-') ||
        !take_digits(text, pos, 2, month) || !take_char(text, pos, '-') ||
        !take_digits(text, pos, 2, day)) {
        return std::nullopt;
    }
    if (!take_char(text, pos, 'T') && !take_char(text, pos, 't') && !take_char(text, pos, ' ')) {
        return std::nullopt;
    }
    if (!take_digits(text, pos, 2, hour) || !take_char(text, pos, ':') ||
        !take_digits(text, pos, 2, minute) || !take_char(text, pos, ':') ||
        !take_digits(text, pos, 2, second)) {
        return std::nullopt;
    }
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
        hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    std::int64_t nanos = 0;
    if (take_char(text, pos, '.') || take_char(text, pos, ',')) {
        std::int64_t scale = 100'000'000;
        std::size_t fraction_digits = 0;
        while (pos < text.size() && is_digit(text[pos])) {
            if (fraction_digits < 9) nanos += (text[pos] - '0') * scale;
            scale /= 10;
            ++fraction_digits;
            ++pos;
            if (fraction_digits > 18) return std::nullopt;
        }
        if (fraction_digits == 0) return std::nullopt;
    }
    std::int64_t offset_seconds = 0;
    if (pos < text.size()) {
        const char sign = text[pos];
        if (sign == 'Z' || sign == 'z') {
            ++pos;
        } else if (sign == '+' || sign == '-') {
            ++pos;
            int offset_hours, offset_minutes = 0;
            if (!take_digits(text, pos, 2, offset_hours)) return std::nullopt;
            if (pos < text.size()) {
                take_char(text, pos, ':');
                if (!take_digits(text, pos, 2, offset_minutes)) return std::nullopt;
            }
            if (offset_hours > 23 || offset_minutes > 59) return std::nullopt;
            offset_seconds = (offset_hours * 3600 + offset_minutes * 60) * (sign == '-' ? -1 : 1);
        } else {
            return std::nullopt;
        }
    }
    if (pos != text.size()) return std::nullopt;
    const std::int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 +
                                 minute * 60 + second - offset_seconds;
    if (seconds < 0) return std::nullopt;
    return WallClock::time_point(std::chrono::duration_cast<WallClock::duration>(
        std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos)));
}

}  // namespace

Value parse_value_text(std::string_view text) {
    bool is_integer = false;
    if (!text.empty() && looks_numeric(text, is_integer)) {
        const char* first = text.data();
        const char* last = text.data() + text.size();
        if (*first == '+') ++first;
        if (is_integer) {
            std::int64_t integer = 0;
            const auto result = std::from_chars(first, last, integer);
            if (result.ec == std::errc() && result.ptr == last) return integer;
        }
        double number = 0;
        const auto result = std::from_chars(first, last, number);
        if (result.ec == std::errc() && result.ptr == last && std::isfinite(number)) return number;
        return std::string(text);
    }
    if (text == "true") return true;
    if (text == "false") return false;
    return std::string(text);
}

std::optional<WallClock::time_point> parse_timestamp(std::string_view text) {
    bool is_integer = false;
    if (!text.empty() && looks_numeric(text, is_integer)) {
        const char* first = text.data();
        const char* last = text.data() + text.size();
        if (*first == '+') ++first;
        double seconds = 0;
        const auto result = std::from_chars(first, last, seconds);
        if (result.ec != std::errc() || result.ptr != last || !std::isfinite(seconds) ||
            seconds < 0 || seconds > kMaxEpochSeconds) {
            return std::nullopt;
        }
        if (is_integer) {
            std::int64_t whole = 0;
            std::from_chars(first, last, whole);
            return WallClock::time_point(
                std::chrono::duration_cast<WallClock::duration>(std::chrono::seconds(whole)));
        }
        const double whole = std::floor(seconds);
        const auto nanos = static_cast<std::int64_t>(std::llround((seconds - whole) * 1e9));
        return WallClock::time_point(std::chrono::duration_cast<WallClock::duration>(
            std::chrono::seconds(static_cast<std::int64_t>(whole)) +
            std::chrono::nanoseconds(nanos)));
    }
    return parse_iso8601(text);
}

bool is_valid_utf8(std::string_view text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    while (p < end) {
        // Skip ASCII eight bytes at a time.
        while (end - p >= 8) {
            std::uint64_t word;
            std::memcpy(&word, p, 8);
            if (word & 0x8080808080808080ULL) break;
            p += 8;
        }
        if (p >= end) break;
        const unsigned char c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int extra;
        std::uint32_t code;
        std::uint32_t min;
        if ((c & 0xE0) == 0xC0) {
            extra = 1, code = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2, code = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3, code = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (end - p <= extra) return false;
        for (int k = 1; k <= extra; ++k) {
            if ((p[k] & 0xC0) != 0x80) return false;
            code = (code << 6) | (p[k] & 0x3F);
        }
        if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
        p += extra + 1;
    }
    return true;
}

}  // namespace nodebridge::serial
