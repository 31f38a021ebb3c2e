#pragma once
// Turning a command's value into the registers or bit a Modbus write carries: the inverse
// of decode.hpp.
//
// Pure functions: no I/O, no state. A value that does not fit the attribute's type is an
// error, never silently clamped or wrapped.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/sample.hpp"

namespace nodebridge::modbus {

// What one write puts on the wire.
struct WriteData {
    ModbusTable table = ModbusTable::holding;  // coil or holding, from the attribute
    bool bit = false;                          // coil: the state to write
    std::vector<std::uint16_t> registers;      // holding: attribute_width() registers, first first

    friend bool operator==(const WriteData&, const WriteData&) = default;
};

// Encodes `value` (in published units) for `attribute`, which must be a coil or a holding
// attribute of a non-string type. Numbers go through the inverse of scale and offset,
// raw = (value - offset) / scale, rounded to the nearest integer (halves away from zero) for
// integer types; then the inverse of word_order and byte_swap, so decode_registers() of the
// result gives the value back (up to that rounding and float32 precision). A bool is 1 or 0
// on a register and the bit itself on a coil; a boolean attribute also takes the number 0
// or 1, and a numeric coil the numbers that decode_bit() publishes for 0 and 1. Returns the reason
// as one line when the table cannot be written, the value is of the wrong kind or not finite, or
// the raw value does not fit the type (e.g. 70000 into uint16, -1 into an unsigned type, 1e39 into
// float32).
std::variant<WriteData, std::string> encode_value(const ModbusAttribute& attribute,
                                                  const Value& value);

}  // namespace nodebridge::modbus
