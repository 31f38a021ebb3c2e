#pragma once
// Numbers as people read them: the shortest text that reads back as the same double, in
// positional notation for magnitudes from 1e-7 up to (not including) 1e21, in exponent
// notation outside that range. One function for every place a number leaves the program:
// `value` and `json` payloads, log lines and error messages.
//
//   0.1 -> "0.1"          123456789012 -> "123456789012"   1e20 -> "100000000000000000000"
//   1e21 -> "1e+21"       1.5e300 -> "1.5e+300"             0.0001 -> "0.0001"
//   1e-7 -> "0.0000001"   9.99e-8 -> "9.99e-8"              -2.5 -> "-2.5"   -0 -> "0"
//
// The upper bound and the exponent form ("e+21", "e-8": no padding of the exponent) are those
// of JavaScript's Number.prototype.toString (ECMA-262, Number::toString), and so of most JSON
// producers; the positional range reaches one decade lower (JavaScript switches at 1e-6), so
// small counters such as 0.0000005 kWh read without an exponent. Zero is "0" whatever its
// sign, as in JavaScript. From 2^53 up every double is an integer; it prints as its exact
// digits (2^63 -> "9223372036854775808", where JavaScript writes the equally long
// "9223372036854776000"), so a message echoes the number a register or config holds.

#include <string>

namespace nodebridge {

// Appends the text of a finite `value` as described above. NaN and infinities are appended
// as "nan", "inf" and "-inf"; JSON writers handle those themselves.
void append_number_text(double value, std::string& out);

// The same, as a string.
std::string number_text(double value);

}  // namespace nodebridge
