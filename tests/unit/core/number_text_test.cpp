#include "nodebridge/number_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

namespace nodebridge {
namespace {

TEST(NumberText, PositionalFrom1eMinus7) {
    EXPECT_EQ(number_text(1e-7), "0.0000001");
    EXPECT_EQ(number_text(-1e-7), "-0.0000001");
    EXPECT_EQ(number_text(1.5e-7), "0.00000015");
    EXPECT_EQ(number_text(0.0001), "0.0001");  // an energy counter, not "1e-04"
    EXPECT_EQ(number_text(1e-6), "0.000001");
}

TEST(NumberText, ExponentBelow1eMinus7) {
    EXPECT_EQ(number_text(9.99e-8), "9.99e-8");
    EXPECT_EQ(number_text(-9.99e-8), "-9.99e-8");
    EXPECT_EQ(number_text(1e-8), "1e-8");
    EXPECT_EQ(number_text(5e-324), "5e-324");  // the smallest subnormal
    EXPECT_EQ(number_text(-5e-324), "-5e-324");
    EXPECT_EQ(number_text(1e-310), "1e-310");  // subnormal
    EXPECT_EQ(number_text(std::numeric_limits<double>::denorm_min()), "5e-324");
    EXPECT_EQ(number_text(std::numeric_limits<double>::min()), "2.2250738585072014e-308");
    EXPECT_EQ(number_text(1.2345e-100), "1.2345e-100");
}

TEST(NumberText, PositionalBelow1e21) {
    EXPECT_EQ(number_text(1e20), "100000000000000000000");
    EXPECT_EQ(number_text(123456789012), "123456789012");
    EXPECT_EQ(number_text(-123456789012), "-123456789012");
    EXPECT_EQ(number_text(9.99e20), "999000000000000000000");
    EXPECT_EQ(number_text(1.5e20), "150000000000000000000");
}

TEST(NumberText, ExponentFrom1e21) {
    EXPECT_EQ(number_text(1e21), "1e+21");
    EXPECT_EQ(number_text(-1e21), "-1e+21");
    EXPECT_EQ(number_text(1.5e21), "1.5e+21");
    EXPECT_EQ(number_text(1e300), "1e+300");
    EXPECT_EQ(number_text(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
    EXPECT_EQ(number_text(std::numeric_limits<double>::lowest()), "-1.7976931348623157e+308");
    EXPECT_EQ(number_text(1.2345678901234567e21), "1.2345678901234568e+21");
}

TEST(NumberText, LongestPositionalTexts) {
    // 17 significant digits at both ends of the positional range; from 2^53 up a double is an
    // integer and prints as its exact digits (JavaScript: 123456789012345670000, as long).
    EXPECT_EQ(number_text(-1.2345678901234567e-7), "-0.00000012345678901234566");
    EXPECT_EQ(number_text(1.2345678901234567e20), "123456789012345667584");
    EXPECT_EQ(number_text(9.999999999999999e20), "999999999999999868928");
    EXPECT_EQ(number_text(0.00012345678901234567), "0.00012345678901234567");
}

TEST(NumberText, IntegersFrom2To53UpPrintExactly) {
    EXPECT_EQ(number_text(9007199254740992.0), "9007199254740992");  // 2^53
    EXPECT_EQ(number_text(9007199254740994.0), "9007199254740994");
    EXPECT_EQ(number_text(9223372036854775808.0), "9223372036854775808");  // 2^63, int64's end
    EXPECT_EQ(number_text(-9223372036854775808.0), "-9223372036854775808");
    EXPECT_EQ(number_text(18446744073709551616.0), "18446744073709551616");  // 2^64
    EXPECT_EQ(number_text(1e16), "10000000000000000");
}

TEST(NumberText, EverydayValues) {
    EXPECT_EQ(number_text(0.1), "0.1");
    EXPECT_EQ(number_text(0.1 + 0.2), "0.30000000000000004");  // shortest, yet exact
    EXPECT_EQ(number_text(230.5), "230.5");
    EXPECT_EQ(number_text(-2.5), "-2.5");
    EXPECT_EQ(number_text(-12.3), "-12.3");
    EXPECT_EQ(number_text(49.98), "49.98");
    EXPECT_EQ(number_text(49.99), "49.99");  // a mains frequency, once printed as 4.99879e+13
    EXPECT_EQ(number_text(-49.99), "-49.99");
    EXPECT_EQ(number_text(0.5), "0.5");
    EXPECT_EQ(number_text(1.25), "1.25");
    EXPECT_EQ(number_text(12345.678), "12345.678");
    EXPECT_EQ(number_text(1.0 / 3.0), "0.3333333333333333");
}

TEST(NumberText, IntegersHaveNoPointOrExponent) {
    EXPECT_EQ(number_text(1), "1");
    EXPECT_EQ(number_text(-1), "-1");
    EXPECT_EQ(number_text(10), "10");
    EXPECT_EQ(number_text(70000), "70000");
    EXPECT_EQ(number_text(1e15), "1000000000000000");
    EXPECT_EQ(number_text(9007199254740993.0), "9007199254740992");  // 2^53 + 1 rounds down
    EXPECT_EQ(number_text(-4294967296.0), "-4294967296");
}

TEST(NumberText, ZeroHasNoSign) {
    EXPECT_EQ(number_text(0.0), "0");
    EXPECT_EQ(number_text(-0.0), "0");
}

TEST(NumberText, NotFiniteNumbers) {
    EXPECT_EQ(number_text(std::numeric_limits<double>::quiet_NaN()), "nan");
    EXPECT_EQ(number_text(std::numeric_limits<double>::infinity()), "inf");
    EXPECT_EQ(number_text(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(NumberText, AppendsToWhatIsThere) {
    std::string out = "v=";
    append_number_text(0.5, out);
    EXPECT_EQ(out, "v=0.5");
}

// Lays out the shortest scientific digits the way the positional rule says, independently of
// number_text's own code: the digits come from printf's %.Ne with the smallest N that reads
// back; from 2^53 up, printf's %.0f (the exact integer).
std::string positional_reference(double value) {
    char buffer[64];
    if (std::fabs(value) >= 9007199254740992.0) {
        std::snprintf(buffer, sizeof buffer, "%.0f", value);
        return buffer;
    }
    for (int precision = 0; precision <= 16; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*e", precision, value);
        if (std::strtod(buffer, nullptr) == value) break;
    }
    std::string text = buffer;
    std::string sign;
    if (text[0] == '-') {
        sign = "-";
        text.erase(0, 1);
    }
    const std::size_t e = text.find('e');
    const int exponent = std::atoi(text.c_str() + e + 1);
    std::string digits;
    for (std::size_t i = 0; i < e; ++i) {
        if (text[i] != '.') digits += text[i];
    }
    if (exponent < 0)
        return sign + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    const auto integer_digits = static_cast<std::size_t>(exponent) + 1;
    if (integer_digits >= digits.size())
        return sign + digits + std::string(integer_digits - digits.size(), '0');
    return sign + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

TEST(NumberText, PositionalRangeMatchesAnIndependentLayout) {
    std::mt19937_64 random(49);
    std::uniform_real_distribution<double> mantissa(1.0, 10.0);
    for (int exponent = -7; exponent <= 20; ++exponent) {
        for (int i = 0; i < 2'000; ++i) {
            const double value = (i % 2 ? -1 : 1) * mantissa(random) * std::pow(10.0, exponent);
            const double magnitude = std::fabs(value);
            if (magnitude < 1e-7 || magnitude >= 1e21) continue;  // pow rounding at the ends
            const std::string text = number_text(value);
            ASSERT_EQ(text, positional_reference(value));
            ASSERT_EQ(std::strtod(text.c_str(), nullptr), value) << text;
        }
    }
}

TEST(NumberText, EveryTextReadsBackAsTheSameDouble) {
    std::mt19937_64 random(14);
    for (int i = 0; i < 50'000; ++i) {
        double value = 0;
        const std::uint64_t bits = random();
        std::memcpy(&value, &bits, sizeof value);
        if (!std::isfinite(value)) continue;
        const std::string text = number_text(value);
        ASSERT_EQ(std::strtod(text.c_str(), nullptr), value) << text;
        // Positional exactly inside [1e-7, 1e21), and never longer than needed there.
        const double magnitude = std::fabs(value);
        const bool positional = magnitude >= 1e-7 && magnitude < 1e21;
        EXPECT_EQ(text.find('e') == std::string::npos, positional || value == 0) << text;
    }
}

}  // namespace
}  // namespace nodebridge
