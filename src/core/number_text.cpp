#include "nodebridge/number_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace nodebridge {

namespace {
// Positional notation for 1e-7 <= |value| < 1e21, i.e. for decimal exponents -7..20.
constexpr int kLowestPositional = -7;
constexpr int kHighestPositional = 20;
// A double's shortest round-trip form has at most 17 significant digits.
constexpr int kMaxDigits = 17;
// 2^53: every integer up to here is exactly a double, every double from here on an integer.
constexpr double kExactIntegers = 9007199254740992.0;
// Positional notation ends here.
constexpr double kPositionalEnd = 1e21;
}  // namespace

void append_number_text(double value, std::string& out) {
    if (std::isnan(value)) {
        out += "nan";
        return;
    }
    if (std::isinf(value)) {
        out += value < 0 ? "-inf" : "inf";
        return;
    }
    if (value == 0) {  // -0 too
        out += '0';
        return;
    }
    // The shortest text that reads back as `value`: std::to_chars picks the shorter of fixed
    // ("230.5") and exponent ("1e-04") notation. The buffer is not NUL-terminated.
    char buffer[32];
    char* end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    const double magnitude = std::fabs(value);
    const bool exponent_form = std::find(buffer, end, 'e') != end;
    if (magnitude < kPositionalEnd) {
        if (!exponent_form) {  // fixed already: "230.5", "0.001", "9223372036854775808"
            out.append(buffer, end);
            return;
        }
        if (magnitude >= kExactIntegers) {
            // Every double from 2^53 up is an integer. Fixed notation writes its exact digits
            // (9223372036854775808): as short as JavaScript's zero-padded shortest digits
            // (9223372036854776000), and the number the register or the config holds.
            out.append(
                buffer,
                std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed).ptr);
            return;
        }
    } else if (!exponent_form) {  // a tie in length at 1e21 and up: exponent form wanted
        end =
            std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific).ptr;
    }
    // Now "-d.ddde+XX" ("4.999e+01", "1e-04", "5e-324").
    const char* p = buffer;

    // Longest result: "-0.000000" and 17 digits (26), or "-" and 21 digits (22).
    char text[32];
    char* w = text;
    if (*p == '-') {
        *w++ = '-';
        ++p;
    }
    char digits[kMaxDigits];
    int count = 0;
    for (; *p != 'e'; ++p) {
        if (*p != '.') digits[count++] = *p;
    }
    ++p;  // 'e'
    const bool negative_exponent = *p++ == '-';
    int exponent = 0;
    for (; p != end; ++p) exponent = exponent * 10 + (*p - '0');
    if (negative_exponent) exponent = -exponent;

    const auto put_digits = [&](int from, int to) {
        for (int i = from; i < to; ++i) *w++ = digits[i];
    };
    if (exponent < kLowestPositional || exponent > kHighestPositional) {
        // JavaScript's form: "1e+21", "1.5e-8", no padding of the exponent.
        *w++ = digits[0];
        if (count > 1) {
            *w++ = '.';
            put_digits(1, count);
        }
        *w++ = 'e';
        *w++ = negative_exponent ? '-' : '+';
        out.append(text, w);
        char number[8];
        out.append(number, std::to_chars(number, number + sizeof number,
                                         negative_exponent ? -exponent : exponent)
                               .ptr);
        return;
    }
    const int integer_digits = exponent + 1;  // digits before the point
    if (integer_digits <= 0) {                // "0.000ddd"
        *w++ = '0';
        *w++ = '.';
        for (int i = integer_digits; i < 0; ++i) *w++ = '0';
        put_digits(0, count);
    } else if (integer_digits >= count) {  // "ddd000"
        put_digits(0, count);
        for (int i = count; i < integer_digits; ++i) *w++ = '0';
    } else {  // "dd.ddd"
        put_digits(0, integer_digits);
        *w++ = '.';
        put_digits(integer_digits, count);
    }
    out.append(text, w);
}

std::string number_text(double value) {
    std::string out;
    append_number_text(value, out);
    return out;
}

}  // namespace nodebridge
