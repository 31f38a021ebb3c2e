#include "decode.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <vector>

namespace nodebridge::modbus {
namespace {

ModbusAttribute attr(ModbusType type, WordOrder order = WordOrder::big, bool swap = false) {
    ModbusAttribute a;
    a.name = "x";
    a.table = ModbusTable::holding;
    a.type = type;
    a.word_order = order;
    a.byte_swap = swap;
    return a;
}

Value decode(const ModbusAttribute& a, std::vector<std::uint16_t> regs) {
    auto value = decode_registers(a, regs);
    EXPECT_TRUE(value.has_value());
    return value.value_or(Value{std::string("<none>")});
}

TEST(DecodeWidth, EveryType) {
    EXPECT_EQ(attribute_width(attr(ModbusType::boolean)), 1);
    EXPECT_EQ(attribute_width(attr(ModbusType::int16)), 1);
    EXPECT_EQ(attribute_width(attr(ModbusType::uint16)), 1);
    EXPECT_EQ(attribute_width(attr(ModbusType::int32)), 2);
    EXPECT_EQ(attribute_width(attr(ModbusType::uint32)), 2);
    EXPECT_EQ(attribute_width(attr(ModbusType::float32)), 2);
    EXPECT_EQ(attribute_width(attr(ModbusType::int64)), 4);
    EXPECT_EQ(attribute_width(attr(ModbusType::uint64)), 4);
    EXPECT_EQ(attribute_width(attr(ModbusType::float64)), 4);
    auto s = attr(ModbusType::string);
    EXPECT_EQ(attribute_width(s), 0);
    s.length = 8;
    EXPECT_EQ(attribute_width(s), 8);
    auto coil = attr(ModbusType::boolean);
    coil.table = ModbusTable::coil;
    EXPECT_EQ(attribute_width(coil), 1);
}

TEST(DecodeRegisters, BoolIsNonzero) {
    EXPECT_EQ(decode(attr(ModbusType::boolean), {0}), Value{false});
    EXPECT_EQ(decode(attr(ModbusType::boolean), {0x0100}), Value{true});
}

TEST(DecodeRegisters, BitIsOneBitOfTheRegister) {
    auto flag = attr(ModbusType::boolean);
    for (std::uint8_t bit = 0; bit < 16; ++bit) {
        flag.bit = bit;
        const auto word = static_cast<std::uint16_t>(1u << bit);
        EXPECT_EQ(decode(flag, {word}), Value{true}) << int(bit);
        EXPECT_EQ(decode(flag, {static_cast<std::uint16_t>(~word)}), Value{false}) << int(bit);
    }
    flag.bit = 0;
    EXPECT_EQ(decode(flag, {0x0001}), Value{true});
    flag.byte_swap = true;  // the bit of the swapped register: 0x0001 becomes 0x0100
    EXPECT_EQ(decode(flag, {0x0001}), Value{false});
    flag.bit = 8;
    EXPECT_EQ(decode(flag, {0x0001}), Value{true});
    flag.bit = 16;  // hostile config that skipped validation: no value, no read past a word
    EXPECT_FALSE(decode_registers(flag, std::vector<std::uint16_t>{0xFFFF}).has_value());
}

TEST(DecodeRegisters, Int16AndUint16) {
    EXPECT_EQ(decode(attr(ModbusType::int16), {0xFFFE}), Value{std::int64_t{-2}});
    EXPECT_EQ(decode(attr(ModbusType::uint16), {0xFFFE}), Value{std::int64_t{65534}});
    EXPECT_EQ(decode(attr(ModbusType::int16), {0x7FFF}), Value{std::int64_t{32767}});
}

TEST(DecodeRegisters, Int32AndUint32WordOrder) {
    EXPECT_EQ(decode(attr(ModbusType::uint32), {0x0001, 0x0002}), Value{std::int64_t{0x00010002}});
    EXPECT_EQ(decode(attr(ModbusType::uint32, WordOrder::little), {0x0001, 0x0002}),
              Value{std::int64_t{0x00020001}});
    EXPECT_EQ(decode(attr(ModbusType::int32), {0xFFFF, 0xFFFF}), Value{std::int64_t{-1}});
    EXPECT_EQ(decode(attr(ModbusType::uint32), {0xFFFF, 0xFFFF}),
              Value{std::int64_t{4294967295LL}});
    EXPECT_EQ(decode(attr(ModbusType::int32, WordOrder::little), {0x0000, 0x8000}),
              Value{std::int64_t{std::numeric_limits<std::int32_t>::min()}});
}

TEST(DecodeRegisters, Int64AndUint64) {
    EXPECT_EQ(decode(attr(ModbusType::int64), {0x0102, 0x0304, 0x0506, 0x0708}),
              Value{std::int64_t{0x0102030405060708LL}});
    EXPECT_EQ(decode(attr(ModbusType::int64, WordOrder::little), {0x0708, 0x0506, 0x0304, 0x0102}),
              Value{std::int64_t{0x0102030405060708LL}});
    EXPECT_EQ(decode(attr(ModbusType::int64), {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE}),
              Value{std::int64_t{-2}});
    EXPECT_EQ(decode(attr(ModbusType::uint64), {0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF}),
              Value{std::numeric_limits<std::int64_t>::max()});
}

TEST(DecodeRegisters, Uint64AboveInt64MaxBecomesDouble) {
    const Value v = decode(attr(ModbusType::uint64), {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF});
    ASSERT_TRUE(std::holds_alternative<double>(v));
    EXPECT_DOUBLE_EQ(std::get<double>(v), 18446744073709551615.0);
}

TEST(DecodeRegisters, Float32AllOrders) {
    // 230.5f = 0x43668000
    EXPECT_EQ(decode(attr(ModbusType::float32), {0x4366, 0x8000}), Value{230.5});
    EXPECT_EQ(decode(attr(ModbusType::float32, WordOrder::little), {0x8000, 0x4366}), Value{230.5});
    EXPECT_EQ(decode(attr(ModbusType::float32, WordOrder::big, true), {0x6643, 0x0080}),
              Value{230.5});
    EXPECT_EQ(decode(attr(ModbusType::float32, WordOrder::little, true), {0x0080, 0x6643}),
              Value{230.5});
}

// A meter sends 230.8 V as the float32 nearest to it; the reading is 230.8, not the
// 230.8000030517578 that float holds exactly, and it goes back to the same bits.
TEST(DecodeRegisters, Float32IsTheDecimalTheDeviceMeant) {
    EXPECT_EQ(decode(attr(ModbusType::float32), {0x4366, 0xCCCD}), Value{230.8});
    EXPECT_EQ(decode(attr(ModbusType::float32), {0x3DCC, 0xCCCD}), Value{0.1});
    EXPECT_EQ(decode(attr(ModbusType::float32), {0x4B18, 0x9680}), Value{10000000.0});
    EXPECT_EQ(decode(attr(ModbusType::float32), {0x0000, 0x0001}), Value{1e-45});  // subnormal
    EXPECT_EQ(decode(attr(ModbusType::float32), {0x7F7F, 0xFFFF}), Value{3.4028235e38});
    EXPECT_EQ(decode(attr(ModbusType::float32), {0xC2C8, 0x0000}), Value{-100.0});
    // Scale and round apply to the decimal.
    auto kilo = attr(ModbusType::float32);
    kilo.scale = 1000;
    EXPECT_EQ(decode(kilo, {0x3DCC, 0xCCCD}), Value{100.0});
    // Every float32 of a sweep of bit patterns comes back to its own bits.
    for (std::uint64_t bits = 0; bits <= 0xFFFFFFFF; bits += 65537 * 7) {
        const auto word = static_cast<std::uint32_t>(bits);
        const float f = std::bit_cast<float>(word);
        if (!std::isfinite(f)) continue;
        const Value v = decode(attr(ModbusType::float32), {static_cast<std::uint16_t>(word >> 16),
                                                           static_cast<std::uint16_t>(word)});
        ASSERT_TRUE(std::holds_alternative<double>(v));
        EXPECT_EQ(std::bit_cast<std::uint32_t>(static_cast<float>(std::get<double>(v))), word)
            << std::hex << word;
    }
}

TEST(DecodeRegisters, Float64) {
    // 50.125 = 0x4049100000000000
    EXPECT_EQ(decode(attr(ModbusType::float64), {0x4049, 0x1000, 0x0000, 0x0000}), Value{50.125});
    EXPECT_EQ(
        decode(attr(ModbusType::float64, WordOrder::little), {0x0000, 0x0000, 0x1000, 0x4049}),
        Value{50.125});
}

TEST(DecodeRegisters, NonFiniteFloatsPassThrough) {
    const Value nan = decode(attr(ModbusType::float32), {0x7FC0, 0x0000});
    ASSERT_TRUE(std::holds_alternative<double>(nan));
    EXPECT_TRUE(std::isnan(std::get<double>(nan)));
    auto scaled = attr(ModbusType::float32);
    scaled.scale = 2;
    scaled.round = 1;
    const Value inf = decode(scaled, {0xFF80, 0x0000});
    ASSERT_TRUE(std::holds_alternative<double>(inf));
    EXPECT_TRUE(std::isinf(std::get<double>(inf)));
    EXPECT_LT(std::get<double>(inf), 0);
}

TEST(DecodeRegisters, ByteSwapOnIntegers) {
    EXPECT_EQ(decode(attr(ModbusType::uint16, WordOrder::big, true), {0x3412}),
              Value{std::int64_t{0x1234}});
    EXPECT_EQ(decode(attr(ModbusType::uint32, WordOrder::big, true), {0x3412, 0x7856}),
              Value{std::int64_t{0x12345678}});
}

TEST(DecodeRegisters, ScaleOffsetRoundGiveDouble) {
    auto t = attr(ModbusType::int16);
    t.scale = 0.1;
    t.round = 1;
    const Value v = decode(t, {static_cast<std::uint16_t>(-215)});
    ASSERT_TRUE(std::holds_alternative<double>(v));
    EXPECT_DOUBLE_EQ(std::get<double>(v), -21.5);

    auto e = attr(ModbusType::uint32);
    e.scale = 0.001;
    EXPECT_EQ(decode(e, {0x0001, 0x0000}), Value{65.536});

    auto o = attr(ModbusType::uint16);
    o.offset = -40;
    EXPECT_EQ(decode(o, {100}), Value{60.0});

    auto r = attr(ModbusType::uint16);
    r.round = 0;  // round alone turns an integer into a number
    EXPECT_EQ(decode(r, {7}), Value{7.0});
}

TEST(DecodeRegisters, RoundDecimals) {
    auto a = attr(ModbusType::float64);
    a.round = 2;
    EXPECT_DOUBLE_EQ(scale_value(a, 1.23456), 1.23);
    EXPECT_DOUBLE_EQ(scale_value(a, -1.235001), -1.24);
    a.round = -2;
    EXPECT_DOUBLE_EQ(scale_value(a, 1249.0), 1200.0);
    a.round = 40;  // more decimals than a double holds: unchanged
    EXPECT_DOUBLE_EQ(scale_value(a, 1.23456), 1.23456);
}

TEST(DecodeRegisters, StringHighByteFirstTrimmed) {
    auto s = attr(ModbusType::string);
    s.length = 4;
    // "PDU-1" then NUL padding
    EXPECT_EQ(decode(s, {0x5044, 0x552D, 0x3100, 0x0000}), Value{std::string("PDU-1")});
    // space padding
    EXPECT_EQ(decode(s, {0x4142, 0x2020, 0x2020, 0x2020}), Value{std::string("AB")});
    s.byte_swap = true;
    EXPECT_EQ(decode(s, {0x4450, 0x2D55, 0x0031, 0x0000}), Value{std::string("PDU-1")});
}

TEST(DecodeRegisters, StringReplacesControlAndInvalidUtf8) {
    auto s = attr(ModbusType::string);
    s.length = 3;
    // 'A', 0x01, 0xFF, 'B', then "°" (C2 B0)
    EXPECT_EQ(decode(s, {0x4101, 0xFF42, 0xC2B0}), Value{std::string("A\xEF\xBF\xBD\xEF\xBF\xBD"
                                                                     "B\xC2\xB0")});
    EXPECT_EQ(sanitize_text("\xE0\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
    EXPECT_EQ(sanitize_text("\xED\xA0\x80").substr(0, 3), "\xEF\xBF\xBD");             // surrogate
    EXPECT_EQ(sanitize_text("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // truncated
    EXPECT_EQ(sanitize_text("\xF0\x9F\x98\x80 ok"), "\xF0\x9F\x98\x80 ok");
}

TEST(DecodeRegisters, WrongRegisterCountIsNullopt) {
    EXPECT_FALSE(decode_registers(attr(ModbusType::float32), std::vector<std::uint16_t>{1}));
    EXPECT_FALSE(decode_registers(attr(ModbusType::uint16), std::vector<std::uint16_t>{1, 2}));
    EXPECT_FALSE(decode_registers(attr(ModbusType::string), std::vector<std::uint16_t>{}));
    auto coil = attr(ModbusType::boolean);
    coil.table = ModbusTable::coil;
    EXPECT_FALSE(decode_registers(coil, std::vector<std::uint16_t>{1}));
}

TEST(DecodeBit, BoolAndNumeric) {
    auto coil = attr(ModbusType::boolean);
    coil.table = ModbusTable::coil;
    EXPECT_EQ(decode_bit(coil, true), Value{true});
    EXPECT_EQ(decode_bit(coil, false), Value{false});
    auto numeric = attr(ModbusType::uint16);
    numeric.table = ModbusTable::discrete;
    EXPECT_EQ(decode_bit(numeric, true), Value{std::int64_t{1}});
    numeric.scale = 5;
    EXPECT_EQ(decode_bit(numeric, true), Value{5.0});
}

}  // namespace
}  // namespace nodebridge::modbus
