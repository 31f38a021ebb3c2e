#include "encode.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <type_traits>

#include "nodebridge/mapping.hpp"

namespace nodebridge {
namespace mapping {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at text[i], or 0 when it is invalid. Sets `consumed` to
// the bytes that belong to the invalid maximal subpart (at least 1) when it is.
std::size_t utf8_sequence(std::string_view text, std::size_t i, std::size_t& consumed) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    std::size_t length = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) lo = 0xA0;  // no overlong forms
        if (lead == 0xED) hi = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) lo = 0x90;  // no overlong forms
        if (lead == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
        consumed = 1;
        return 0;
    }
    for (std::size_t k = 1; k < length; ++k) {
        const bool in_range = i + k < text.size() && byte(i + k) >= (k == 1 ? lo : 0x80) &&
                              byte(i + k) <= (k == 1 ? hi : 0xBF);
        if (!in_range) {
            consumed = k;
            return 0;
        }
    }
    return length;
}

}  // namespace

void append_json_string(std::string_view text, std::string& out) {
    out += '"';
    std::size_t i = 0;
    while (i < text.size()) {
        // Copy the longest run that needs no escaping in one append.
        std::size_t run = i;
        while (run < text.size()) {
            const auto c = static_cast<unsigned char>(text[run]);
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
            ++run;
        }
        out.append(text.data() + i, run - i);
        i = run;
        if (i == text.size()) break;
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
        } else if (c < 0x20) {
            const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
            out.append(escape, sizeof escape);
            ++i;
        } else {
            std::size_t consumed = 0;
            const std::size_t length = utf8_sequence(text, i, consumed);
            if (length == 0) {
                out += kReplacement;
                i += consumed;
            } else {
                out.append(text.data() + i, length);
                i += length;
            }
        }
    }
    out += '"';
}

void append_number(double value, bool json, std::string& out) {
    if (std::isnan(value)) {
        out += json ? "null" : "nan";
        return;
    }
    if (std::isinf(value) && json) {
        out += "null";
        return;
    }
    append_number_text(value, out);
}

void write_timestamp(WallClock::time_point time, char (&buffer)[kTimestampLength]) {
    using namespace std::chrono;
    const auto millis = floor<milliseconds>(time);
    const auto day = floor<days>(millis);
    const year_month_day date{day};
    const hh_mm_ss clock{millis - day};
    const auto put = [&](std::size_t at, unsigned value, std::size_t width) {
        for (std::size_t k = width; k-- > 0;) {
            buffer[at + k] = static_cast<char>('0' + value % 10);
            value /= 10;
        }
    };
    const int year = static_cast<int>(date.year());
    put(0, static_cast<unsigned>(year < 0 ? 0 : year > 9999 ? 9999 : year), 4);
    buffer[4] = '-';
    put(5, static_cast<unsigned>(date.month()), 2);
    buffer[7] = '-';
    put(8, static_cast<unsigned>(date.day()), 2);
    buffer[10] = 'T';
    put(11, static_cast<unsigned>(clock.hours().count()), 2);
    buffer[13] = ':';
    put(14, static_cast<unsigned>(clock.minutes().count()), 2);
    buffer[16] = ':';
    put(17, static_cast<unsigned>(clock.seconds().count()), 2);
    buffer[19] = '.';
    put(20, static_cast<unsigned>(clock.subseconds().count()), 3);
    buffer[23] = 'Z';
}

}  // namespace mapping

void append_value_text(const Value& value, std::string& out) {
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, double>) {
                mapping::append_number(v, false, out);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                char buffer[24];
                const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
                out.append(buffer, result.ptr);
            } else if constexpr (std::is_same_v<T, bool>) {
                out += v ? "true" : "false";
            } else {
                out += v;
            }
        },
        value);
}

void append_value_json(const Value& value, std::string& out) {
    if (const auto* text = std::get_if<std::string>(&value)) {
        mapping::append_json_string(*text, out);
    } else if (const auto* number = std::get_if<double>(&value)) {
        mapping::append_number(*number, true, out);
    } else {
        append_value_text(value, out);
    }
}

std::string format_timestamp(WallClock::time_point time) {
    char buffer[mapping::kTimestampLength];
    mapping::write_timestamp(time, buffer);
    return std::string(buffer, sizeof buffer);
}

}  // namespace nodebridge
