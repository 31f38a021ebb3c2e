#pragma once
// Turning raw Modbus registers and bits into attribute values.
//
// Pure functions: no I/O, no state. Every input is treated as hostile; a wrong number of
// registers gives nullopt, never a read past the span.

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "nodebridge/config.hpp"
#include "nodebridge/sample.hpp"

namespace nodebridge::modbus {

// Registers (for input/holding) or bits (for coil/discrete) that `attribute` occupies:
// 1 for bits and for bool/int16/uint16, 2 for 32-bit types, 4 for 64-bit types, `length`
// for string. Returns 0 for a string without a length (which cannot be read).
std::uint16_t attribute_width(const ModbusAttribute& attribute);

// True for the coil and discrete tables, whose items are single bits.
bool is_bit_table(ModbusTable table);

// Decodes one attribute from exactly attribute_width() registers, first register first.
// Applies byte_swap (within each register), word_order (of 16-bit words), then
// raw * scale + offset, then round. Integer types with scale 1, offset 0 and no round stay
// int64 (a uint64 above INT64_MAX becomes double); every other number is a double. A
// float32 is taken as the decimal it stands for (float32_decimal) before scaling. bool on
// a register is "nonzero", or with `bit` that bit of the register (after byte_swap;
// nullopt for a bit over 15). Strings are bytes high first, cut at the first NUL, trailing
// spaces trimmed, control characters and invalid UTF-8 replaced by U+FFFD; word_order does
// not apply to strings. Returns nullopt when `registers` has the wrong size.
std::optional<Value> decode_registers(const ModbusAttribute& attribute,
                                      std::span<const std::uint16_t> registers);

// Decodes one attribute from a coil or discrete bit: a bool for type bool, otherwise the
// number 0 or 1 put through scale, offset and round like an integer register.
Value decode_bit(const ModbusAttribute& attribute, bool bit);

// A float32 as the double nearest its shortest decimal, the number the device means: 230.8
// sent as 0x4366CCCD, which widened bit for bit is 230.8000030517578. Converting the result
// back to float32 gives the same bits. Non-finite values pass through unchanged.
double float32_decimal(float value);

// value * scale + offset, then rounded to `round` decimals (negative rounds to tens,
// hundreds...). Non-finite values pass through unchanged.
double scale_value(const ModbusAttribute& attribute, double raw);

// Makes `bytes` safe text: invalid UTF-8 sequences and control characters become U+FFFD.
std::string sanitize_text(std::string_view bytes);

}  // namespace nodebridge::modbus
