#include "encode.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "nodebridge/mapping.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono;

std::string text_of(const Value& value) {
    std::string out;
    append_value_text(value, out);
    return out;
}

std::string json_of(const Value& value) {
    std::string out;
    append_value_json(value, out);
    return out;
}

std::string json_string(std::string_view text) {
    std::string out;
    mapping::append_json_string(text, out);
    return out;
}

TEST(ValueText, NumbersInShortestRoundTripForm) {
    EXPECT_EQ(text_of(230.5), "230.5");
    EXPECT_EQ(text_of(0.1), "0.1");
    EXPECT_EQ(text_of(0.1 + 0.2), "0.30000000000000004");
    EXPECT_EQ(text_of(-12.25), "-12.25");
    EXPECT_EQ(text_of(230.0), "230");
    EXPECT_EQ(text_of(1e-7), "0.0000001");
    EXPECT_EQ(text_of(9.99e-8), "9.99e-8");
    EXPECT_EQ(text_of(1e20), "100000000000000000000");
    EXPECT_EQ(text_of(1e21), "1e+21");
    EXPECT_EQ(text_of(5e-324), "5e-324");
    EXPECT_EQ(text_of(1.7976931348623157e308), "1.7976931348623157e+308");
    EXPECT_EQ(text_of(-0.0), "0");
    EXPECT_EQ(text_of(static_cast<double>(static_cast<float>(230.1))), "230.10000610351562");
}

TEST(ValueJson, NumbersAsInValuePayloads) {
    // The same text as a `value` payload: an energy counter reads 0.0001, not 1e-04.
    for (double value : {0.0001, 1e-7, 9.99e-8, 1e20, 1e21, -2.5, 0.1, 123456789012.0, -0.0}) {
        EXPECT_EQ(json_of(value), text_of(value)) << text_of(value);
    }
    EXPECT_EQ(json_of(0.0001), "0.0001");
}

TEST(ValueText, ShortestFormReadsBackExactly) {
    for (double value : {230.5, 1.0 / 3.0, 2.0 / 3.0 * 1e-200, 123456789.123456789, -9.87e15}) {
        const std::string text = text_of(value);
        double back = 0;
        std::from_chars(text.data(), text.data() + text.size(), back);
        EXPECT_EQ(back, value) << text;
    }
}

TEST(ValueText, IntegersAsIntegers) {
    EXPECT_EQ(text_of(std::int64_t{0}), "0");
    EXPECT_EQ(text_of(std::int64_t{-42}), "-42");
    EXPECT_EQ(text_of(std::numeric_limits<std::int64_t>::max()), "9223372036854775807");
    EXPECT_EQ(text_of(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
    EXPECT_EQ(json_of(std::int64_t{4294967295}), "4294967295");
}

TEST(ValueText, NonFiniteNumbers) {
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_EQ(text_of(std::nan("")), "nan");
    EXPECT_EQ(text_of(-std::nan("")), "nan");
    EXPECT_EQ(text_of(inf), "inf");
    EXPECT_EQ(text_of(-inf), "-inf");
    EXPECT_EQ(json_of(std::nan("")), "null");
    EXPECT_EQ(json_of(inf), "null");
    EXPECT_EQ(json_of(-inf), "null");
}

TEST(ValueText, BoolsAndText) {
    EXPECT_EQ(text_of(true), "true");
    EXPECT_EQ(text_of(false), "false");
    EXPECT_EQ(json_of(true), "true");
    EXPECT_EQ(text_of(std::string("on \"x\"")), "on \"x\"");
    EXPECT_EQ(json_of(std::string("on \"x\"")), "\"on \\\"x\\\"\"");
    EXPECT_EQ(json_of(std::string("")), "\"\"");
}

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
    EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(json_string("line\nnext\ttab\r"), "\"line\\u000anext\\u0009tab\\u000d\"");
    EXPECT_EQ(json_string(std::string_view("\0\x1f", 2)), "\"\\u0000\\u001f\"");
    EXPECT_EQ(json_string("\x7f/"), "\"\x7f/\"");  // DEL and '/' need no escape
}

TEST(JsonString, KeepsValidUtf8) {
    EXPECT_EQ(json_string("°C"), "\"°C\"");
    EXPECT_EQ(json_string("\xE2\x82\xAC"), "\"\xE2\x82\xAC\"");          // U+20AC
    EXPECT_EQ(json_string("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");  // U+1F600
    EXPECT_EQ(json_string("\xF4\x8F\xBF\xBF"), "\"\xF4\x8F\xBF\xBF\"");  // U+10FFFF
}

TEST(JsonString, ReplacesInvalidUtf8WithReplacementCharacter) {
    const std::string fffd = "\xEF\xBF\xBD";
    EXPECT_EQ(json_string("a\x80z"), "\"a" + fffd + "z\"");                    // stray continuation
    EXPECT_EQ(json_string("\xC0\xAF"), "\"" + fffd + fffd + "\"");             // overlong '/'
    EXPECT_EQ(json_string("\xED\xA0\x80"), "\"" + fffd + fffd + fffd + "\"");  // surrogate
    EXPECT_EQ(json_string("\xF4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");
    EXPECT_EQ(json_string("\xE2\x82"), "\"" + fffd + "\"");    // truncated at end
    EXPECT_EQ(json_string("\xE2\x82z"), "\"" + fffd + "z\"");  // truncated inside
    EXPECT_EQ(json_string("\xFF"), "\"" + fffd + "\"");
}

// An independent strict check: well-formed UTF-8 (RFC 3629), no raw control character, no
// unescaped quote, escapes well formed, quoted at both ends.
bool is_valid_json_string(std::string_view s) {
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
    std::size_t i = 1;
    while (i + 1 < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == '"') return false;
        if (c == '\\') {
            if (i + 2 >= s.size()) return false;
            if (s[i + 1] == '"' || s[i + 1] == '\\') {
                i += 2;
                continue;
            }
            if (s[i + 1] != 'u' || i + 6 >= s.size()) return false;
            i += 6;
            continue;
        }
        if (c < 0x80) {
            ++i;
            continue;
        }
        const std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
        if (length == 0 || i + length >= s.size()) return false;
        std::uint32_t code = c & (0x7F >> length);
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(s[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            code = code << 6 | (next & 0x3F);
        }
        const std::uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
        if (code < minimum[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            return false;
        }
        i += length;
    }
    return i + 1 == s.size();
}

TEST(JsonString, AnyBytesGiveValidJson) {
    // Every byte followed by a sample of second and third bytes covers every lead byte,
    // truncation and bad continuation.
    for (int a = 0; a < 256; ++a) {
        for (int b = 0; b < 256; b += 3) {
            for (int c : {0x00, 0x22, 0x41, 0x80, 0x9F, 0xA0, 0xBF, 0xC3, 0xF0}) {
                const char raw[] = {static_cast<char>(a), static_cast<char>(b),
                                    static_cast<char>(c)};
                const std::string out = json_string(std::string_view(raw, 3));
                ASSERT_TRUE(is_valid_json_string(out)) << a << " " << b << " " << c;
            }
        }
    }
}

TEST(Timestamp, MillisecondsInUtc) {
    const auto time = sys_days{2026y / November / 24} + 12h + 0min + 0s + 123ms;
    EXPECT_EQ(format_timestamp(time), "2026-11-24T12:00:00.123Z");
    EXPECT_EQ(format_timestamp(sys_days{1970y / January / 1}), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(format_timestamp(sys_days{2024y / February / 29} + 23h + 59min + 59s + 999ms),
              "2024-02-29T23:59:59.999Z");
}

TEST(Timestamp, TruncatesBelowMilliseconds) {
    const auto time = sys_days{2026y / November / 24} + 1s + 999999us;
    EXPECT_EQ(format_timestamp(time), "2026-11-24T00:00:01.999Z");
}

TEST(Timestamp, BeforeTheEpochCountsBackwards) {
    const auto time = sys_days{1970y / January / 1} - 1ms;
    EXPECT_EQ(format_timestamp(time), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace nodebridge
