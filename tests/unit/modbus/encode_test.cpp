#include "encode.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "decode.hpp"

namespace nodebridge::modbus {
namespace {

ModbusAttribute attr(ModbusType type, WordOrder order = WordOrder::big, bool swap = false,
                     ModbusTable table = ModbusTable::holding) {
    ModbusAttribute a;
    a.name = "x";
    a.table = table;
    a.type = type;
    a.word_order = order;
    a.byte_swap = swap;
    a.writable = true;
    return a;
}

// The registers, or a test failure with the error.
std::vector<std::uint16_t> regs(const ModbusAttribute& a, const Value& value) {
    auto result = encode_value(a, value);
    if (const auto* error = std::get_if<std::string>(&result)) {
        ADD_FAILURE() << "unexpected error: " << *error;
        return {};
    }
    const WriteData& data = std::get<WriteData>(result);
    EXPECT_EQ(data.table, a.table);
    return data.registers;
}

// The error, or a test failure when the value was encoded.
std::string error(const ModbusAttribute& a, const Value& value) {
    auto result = encode_value(a, value);
    if (const auto* text = std::get_if<std::string>(&result)) return *text;
    ADD_FAILURE() << "expected an error";
    return {};
}

using Words = std::vector<std::uint16_t>;

TEST(EncodeRegisters, Int16AndUint16) {
    EXPECT_EQ(regs(attr(ModbusType::int16), 2.0), Words{2});
    EXPECT_EQ(regs(attr(ModbusType::int16), -2.0), Words{0xFFFE});
    EXPECT_EQ(regs(attr(ModbusType::int16), std::int64_t{-32768}), Words{0x8000});
    EXPECT_EQ(regs(attr(ModbusType::uint16), 65534.0), Words{0xFFFE});
    EXPECT_EQ(regs(attr(ModbusType::uint16, WordOrder::big, true), 0x1234.0p0), Words{0x3412});
}

TEST(EncodeRegisters, Int32AndUint32WordOrder) {
    EXPECT_EQ(regs(attr(ModbusType::uint32), std::int64_t{0x00010002}), (Words{0x0001, 0x0002}));
    EXPECT_EQ(regs(attr(ModbusType::uint32, WordOrder::little), std::int64_t{0x00020001}),
              (Words{0x0001, 0x0002}));
    EXPECT_EQ(regs(attr(ModbusType::int32), -1.0), (Words{0xFFFF, 0xFFFF}));
    EXPECT_EQ(regs(attr(ModbusType::uint32), 4294967295.0), (Words{0xFFFF, 0xFFFF}));
    EXPECT_EQ(regs(attr(ModbusType::int32, WordOrder::little), -2147483648.0),
              (Words{0x0000, 0x8000}));
    EXPECT_EQ(regs(attr(ModbusType::uint32, WordOrder::little, true), std::int64_t{0x01020304}),
              (Words{0x0403, 0x0201}));
}

TEST(EncodeRegisters, Int64AndUint64) {
    EXPECT_EQ(regs(attr(ModbusType::int64), std::int64_t{0x0102030405060708LL}),
              (Words{0x0102, 0x0304, 0x0506, 0x0708}));
    EXPECT_EQ(regs(attr(ModbusType::int64, WordOrder::little), std::int64_t{0x0102030405060708LL}),
              (Words{0x0708, 0x0506, 0x0304, 0x0102}));
    EXPECT_EQ(regs(attr(ModbusType::int64), std::int64_t{-2}),
              (Words{0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE}));
    // Exact as an int64; 2^63 - 1 is not representable as a double.
    EXPECT_EQ(regs(attr(ModbusType::uint64), std::numeric_limits<std::int64_t>::max()),
              (Words{0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF}));
    EXPECT_EQ(regs(attr(ModbusType::uint64), 18446744073709549568.0),  // 2^64 - 2048
              (Words{0xFFFF, 0xFFFF, 0xFFFF, 0xF800}));
    EXPECT_EQ(regs(attr(ModbusType::int64), -9223372036854775808.0),
              (Words{0x8000, 0x0000, 0x0000, 0x0000}));
}

TEST(EncodeRegisters, FloatsAndTheirWordOrder) {
    EXPECT_EQ(regs(attr(ModbusType::float32), 1.0), (Words{0x3F80, 0x0000}));
    EXPECT_EQ(regs(attr(ModbusType::float32, WordOrder::little), 1.0), (Words{0x0000, 0x3F80}));
    EXPECT_EQ(regs(attr(ModbusType::float32, WordOrder::big, true), -2.0), (Words{0x00C0, 0x0000}));
    EXPECT_EQ(regs(attr(ModbusType::float64), 1.0), (Words{0x3FF0, 0, 0, 0}));
    EXPECT_EQ(regs(attr(ModbusType::float64, WordOrder::little), 1.0), (Words{0, 0, 0, 0x3FF0}));
    EXPECT_EQ(regs(attr(ModbusType::float32), std::int64_t{3}), (Words{0x4040, 0x0000}));
}

TEST(EncodeRegisters, UndoesScaleAndOffsetAndRoundsToNearest) {
    auto temperature = attr(ModbusType::int16);
    temperature.scale = 0.1;
    EXPECT_EQ(regs(temperature, 21.5), Words{215});
    EXPECT_EQ(regs(temperature, -21.5), Words{static_cast<std::uint16_t>(-215)});
    EXPECT_EQ(regs(temperature, 21.54), Words{215});
    EXPECT_EQ(regs(temperature, 21.56), Words{216});
    EXPECT_EQ(regs(temperature, 0.05), Words{1});  // halves away from zero
    auto offset = attr(ModbusType::uint16);
    offset.scale = 0.5;
    offset.offset = -40;
    EXPECT_EQ(regs(offset, -40.0), Words{0});
    EXPECT_EQ(regs(offset, 10.0), Words{100});
    auto energy = attr(ModbusType::uint32);
    energy.scale = 0.001;
    EXPECT_EQ(regs(energy, 100.5), (Words{0x0001, 0x8894}));  // 100500
    auto scaled_float = attr(ModbusType::float32);
    scaled_float.scale = 10;
    EXPECT_EQ(regs(scaled_float, 10.0), (Words{0x3F80, 0x0000}));
}

TEST(EncodeRegisters, BoolOnARegisterIsOneOrZero) {
    EXPECT_EQ(regs(attr(ModbusType::boolean), true), Words{1});
    EXPECT_EQ(regs(attr(ModbusType::boolean), false), Words{0});
    EXPECT_EQ(regs(attr(ModbusType::boolean), 1.0), Words{1});
    EXPECT_EQ(regs(attr(ModbusType::boolean), std::int64_t{0}), Words{0});
    EXPECT_EQ(error(attr(ModbusType::boolean), 2.0), "value 2 is not 0 or 1 on a bool register");
}

TEST(EncodeBits, CoilTakesABoolOrZeroOrOne) {
    const auto coil = attr(ModbusType::boolean, WordOrder::big, false, ModbusTable::coil);
    for (const bool on : {true, false}) {
        auto result = encode_value(coil, on);
        ASSERT_TRUE(std::holds_alternative<WriteData>(result));
        const WriteData& data = std::get<WriteData>(result);
        EXPECT_EQ(data.table, ModbusTable::coil);
        EXPECT_EQ(data.bit, on);
        EXPECT_TRUE(data.registers.empty());
        EXPECT_EQ(decode_bit(coil, data.bit), Value{on});
    }
    EXPECT_TRUE(std::get<WriteData>(encode_value(coil, 1.0)).bit);
    EXPECT_FALSE(std::get<WriteData>(encode_value(coil, std::int64_t{0})).bit);
    EXPECT_EQ(error(coil, 0.5), "value 0.5 is not 0 or 1 on a coil");
    // A numeric coil publishes 0/1 through scale and offset; the inverse is applied.
    auto numeric = attr(ModbusType::uint16, WordOrder::big, false, ModbusTable::coil);
    numeric.scale = 100;
    EXPECT_TRUE(std::get<WriteData>(encode_value(numeric, 100.0)).bit);
    EXPECT_FALSE(std::get<WriteData>(encode_value(numeric, 0.0)).bit);
    EXPECT_EQ(error(numeric, 1.0), "value 1 is not 0 or 1 on a coil");
    numeric.scale = 0.1;
    numeric.offset = 0.2;
    EXPECT_TRUE(std::get<WriteData>(encode_value(numeric, 0.3)).bit);  // (0.3 - 0.2) / 0.1
    EXPECT_FALSE(std::get<WriteData>(encode_value(numeric, 0.2)).bit);
}

TEST(EncodeErrors, ValuesThatDoNotFit) {
    EXPECT_EQ(error(attr(ModbusType::uint16), 70000.0),
              "raw value 70000 does not fit uint16 (0..65535)");
    EXPECT_EQ(error(attr(ModbusType::uint16), std::int64_t{70000}),
              "raw value 70000 does not fit uint16 (0..65535)");
    EXPECT_EQ(error(attr(ModbusType::uint32), -1.0),
              "raw value -1 does not fit uint32 (0..4294967295)");
    EXPECT_EQ(error(attr(ModbusType::uint64), std::int64_t{-1}),
              "raw value -1 does not fit uint64 (0..18446744073709551615)");
    EXPECT_EQ(error(attr(ModbusType::int16), 32768.0),
              "raw value 32768 does not fit int16 (-32768..32767)");
    EXPECT_EQ(error(attr(ModbusType::int16), -32768.6),
              "raw value -32769 does not fit int16 (-32768..32767)");
    EXPECT_FALSE(error(attr(ModbusType::int32), 2147483648.0).empty());
    EXPECT_FALSE(error(attr(ModbusType::int64), 9223372036854775808.0).empty());
    EXPECT_FALSE(error(attr(ModbusType::uint64), 18446744073709551616.0).empty());
    EXPECT_EQ(error(attr(ModbusType::float32), 1e39), "raw value 1e+39 does not fit float32");
    auto scaled = attr(ModbusType::int16);
    scaled.scale = 0.1;
    EXPECT_EQ(error(scaled, 4000.0),
              "raw value 40000 (from 4000) does not fit int16 (-32768..32767)");
    // Just inside after rounding: 32767.4 rounds to 32767.
    EXPECT_EQ(regs(attr(ModbusType::int16), 32767.4), Words{0x7FFF});
}

TEST(EncodeErrors, NonFiniteValues) {
    const double inf = std::numeric_limits<double>::infinity();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (ModbusType type : {ModbusType::int16, ModbusType::uint64, ModbusType::float32,
                            ModbusType::float64, ModbusType::boolean}) {
        EXPECT_NE(error(attr(type), inf).find("not finite"), std::string::npos);
        EXPECT_NE(error(attr(type), -inf).find("not finite"), std::string::npos);
        EXPECT_NE(error(attr(type), nan).find("not finite"), std::string::npos);
    }
    auto tiny = attr(ModbusType::float64);
    tiny.scale = 1e-300;
    EXPECT_NE(error(tiny, 1e300).find("not finite"), std::string::npos);
    auto zero = attr(ModbusType::int16);
    zero.scale = 0;
    EXPECT_EQ(error(zero, 1.0), "scale 0 cannot be inverted");
}

TEST(EncodeErrors, WrongKindOfValueOrTable) {
    EXPECT_EQ(error(attr(ModbusType::int16), std::string("12")), "expected a number, not text");
    EXPECT_EQ(error(attr(ModbusType::boolean), std::string("on")), "expected a bool, not text");
    EXPECT_EQ(error(attr(ModbusType::int16), true), "expected a number for int16, not a bool");
    auto text = attr(ModbusType::string);
    text.length = 4;
    EXPECT_EQ(error(text, 1.0), "strings cannot be written");
    EXPECT_EQ(error(attr(ModbusType::uint16, WordOrder::big, false, ModbusTable::input), 1.0),
              "the input table cannot be written");
    EXPECT_EQ(error(attr(ModbusType::boolean, WordOrder::big, false, ModbusTable::discrete), true),
              "the discrete table cannot be written");
}

// Every numeric type, word order and byte order: decode(encode(v)) == v.
TEST(EncodeRoundTrip, EveryTypeWordOrderAndByteSwap) {
    struct Case {
        ModbusType type;
        std::vector<double> values;
    };
    const std::vector<Case> cases = {
        {ModbusType::int16, {0, 1, -1, 12345, -32768, 32767}},
        {ModbusType::uint16, {0, 1, 0x1234, 65535}},
        {ModbusType::int32, {0, -1, 0x12345678, -2147483648.0, 2147483647.0}},
        {ModbusType::uint32, {0, 1, 0x12345678, 4294967295.0}},
        {ModbusType::int64, {0, -1, 0x123456789ABCp0, -9223372036854775808.0}},
        {ModbusType::uint64, {0, 1, 0x123456789ABCp0, 18446744073709549568.0}},
        {ModbusType::float32, {0, 1.5, -230.25, 3.4028234663852886e38, 1e-30}},
        {ModbusType::float64, {0, 0.1, -1e300, 4.9e-324, 123456.789}},
    };
    for (const Case& each : cases) {
        for (WordOrder order : {WordOrder::big, WordOrder::little}) {
            for (bool swap : {false, true}) {
                const auto a = attr(each.type, order, swap);
                for (double v : each.values) {
                    SCOPED_TRACE(testing::Message() << "type " << static_cast<int>(each.type)
                                                    << " little " << (order == WordOrder::little)
                                                    << " swap " << swap << " value " << v);
                    const auto words = regs(a, v);
                    ASSERT_EQ(words.size(), attribute_width(a));
                    const auto back = decode_registers(a, words);
                    ASSERT_TRUE(back.has_value());
                    if (const auto* integer = std::get_if<std::int64_t>(&*back)) {
                        EXPECT_EQ(static_cast<double>(*integer), v);
                    } else {
                        ASSERT_TRUE(std::holds_alternative<double>(*back));
                        const double got = std::get<double>(*back);
                        if (each.type == ModbusType::float32) {
                            // Read back as the float's decimal (float32_decimal): the same
                            // float32 once narrowed again.
                            EXPECT_EQ(static_cast<float>(got), static_cast<float>(v));
                        } else {
                            EXPECT_EQ(got, v);
                        }
                    }
                }
            }
        }
    }
}

TEST(EncodeRoundTrip, ScaledValuesComeBackAtTheirResolution) {
    for (ModbusType type : {ModbusType::int16, ModbusType::int32, ModbusType::int64}) {
        for (WordOrder order : {WordOrder::big, WordOrder::little}) {
            auto a = attr(type, order, order == WordOrder::little);
            a.scale = 0.1;
            a.offset = -40;
            a.round = 1;
            for (double v : {-40.0, -12.3, 0.0, 21.5, 100.1}) {
                const auto back = decode_registers(a, regs(a, v));
                ASSERT_TRUE(back.has_value());
                EXPECT_DOUBLE_EQ(std::get<double>(*back), v) << static_cast<int>(type);
            }
        }
    }
    auto energy = attr(ModbusType::uint32, WordOrder::little);
    energy.scale = 0.001;
    const auto back = decode_registers(energy, regs(energy, 123.456));
    EXPECT_NEAR(std::get<double>(back.value()), 123.456, 1e-9);
}

TEST(EncodeRoundTrip, Int64ValuesStayExact) {
    for (ModbusType type : {ModbusType::int64, ModbusType::uint64}) {
        for (WordOrder order : {WordOrder::big, WordOrder::little}) {
            const auto a = attr(type, order, true);
            for (std::int64_t v : {std::int64_t{0}, std::int64_t{(1LL << 53) + 1},
                                   std::numeric_limits<std::int64_t>::max()}) {
                EXPECT_EQ(decode_registers(a, regs(a, v)), Value{v});
            }
        }
    }
    const auto a = attr(ModbusType::int64);
    const std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
    EXPECT_EQ(decode_registers(a, regs(a, lowest)), Value{lowest});
}

}  // namespace
}  // namespace nodebridge::modbus
