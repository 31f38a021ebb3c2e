#include "encode.hpp"

#include <bit>
#include <cmath>
#include <limits>

#include "decode.hpp"

namespace nodebridge::modbus {

namespace {

// The inclusive range of an integer type's raw values, as text, for messages.
std::string_view range_text(ModbusType type) {
    switch (type) {
        case ModbusType::int16:
            return "-32768..32767";
        case ModbusType::uint16:
            return "0..65535";
        case ModbusType::int32:
            return "-2147483648..2147483647";
        case ModbusType::uint32:
            return "0..4294967295";
        case ModbusType::int64:
            return "-9223372036854775808..9223372036854775807";
        case ModbusType::uint64:
            return "0..18446744073709551615";
        default:
            return "";
    }
}

// Whether the integer `raw` fits `type`; for int64 and uint64 the caller has already made
// sure it is representable.
bool fits(ModbusType type, double raw) {
    switch (type) {
        case ModbusType::int16:
            return raw >= -32768.0 && raw <= 32767.0;
        case ModbusType::uint16:
            return raw >= 0.0 && raw <= 65535.0;
        case ModbusType::int32:
            return raw >= -2147483648.0 && raw <= 2147483647.0;
        case ModbusType::uint32:
            return raw >= 0.0 && raw <= 4294967295.0;
        case ModbusType::int64:
            return raw >= -9223372036854775808.0 && raw < 9223372036854775808.0;
        case ModbusType::uint64:
            return raw >= 0.0 && raw < 18446744073709551616.0;
        default:
            return false;
    }
}

// The low `count` 16-bit words of `raw`, most significant first, then put in the
// attribute's word order and byte order: the inverse of decode's assemble().
std::vector<std::uint16_t> split(const ModbusAttribute& attribute, std::uint64_t raw,
                                 std::size_t count) {
    std::vector<std::uint16_t> registers(count);
    for (std::size_t i = 0; i < count; ++i) {
        // i-th word, most significant first.
        auto word = static_cast<std::uint16_t>(raw >> (16 * (count - 1 - i)));
        if (attribute.byte_swap) word = static_cast<std::uint16_t>((word << 8) | (word >> 8));
        const std::size_t index = attribute.word_order == WordOrder::big ? i : count - 1 - i;
        registers[index] = word;
    }
    return registers;
}

bool plain_integer(const ModbusAttribute& attribute) {
    return attribute.scale == 1.0 && attribute.offset == 0.0;
}

}  // namespace

std::variant<WriteData, std::string> encode_value(const ModbusAttribute& attribute,
                                                  const Value& value) {
    if (attribute.table != ModbusTable::coil && attribute.table != ModbusTable::holding) {
        return "the " + to_string(attribute.table) + " table cannot be written";
    }
    if (attribute.type == ModbusType::string) return std::string("strings cannot be written");
    if (std::holds_alternative<std::string>(value)) {
        return "expected a " +
               std::string(attribute.type == ModbusType::boolean ? "bool" : "number") +
               ", not text";
    }

    WriteData data;
    data.table = attribute.table;
    const std::uint16_t width = attribute_width(attribute);

    // A boolean attribute, or any coil: one bit of state.
    if (attribute.type == ModbusType::boolean || attribute.table == ModbusTable::coil) {
        bool on = false;
        if (const bool* flag = std::get_if<bool>(&value)) {
            on = *flag;
        } else {
            // A number: for a boolean attribute itself 0 or 1; for a numeric coil, the
            // published number whose raw value (scale and offset undone) is 0 or 1.
            const double number = std::holds_alternative<double>(value)
                                      ? std::get<double>(value)
                                      : static_cast<double>(std::get<std::int64_t>(value));
            if (!std::isfinite(number)) return "value " + number_text(number) + " is not finite";
            double raw = number;
            if (attribute.type != ModbusType::boolean) {
                if (attribute.scale == 0.0) return std::string("scale 0 cannot be inverted");
                // Not rounded: only the two published values a bit can have are accepted
                // (within floating-point noise of undoing scale and offset).
                raw = (number - attribute.offset) / attribute.scale;
                if (std::fabs(raw) < 1e-9) raw = 0.0;
                if (std::fabs(raw - 1.0) < 1e-9) raw = 1.0;
            }
            if (raw != 0.0 && raw != 1.0) {
                return "value " + number_text(number) + " is not 0 or 1 on a " +
                       (attribute.table == ModbusTable::coil ? "coil" : "bool register");
            }
            on = raw == 1.0;
        }
        if (attribute.table == ModbusTable::coil) {
            data.bit = on;
        } else {
            data.registers = {static_cast<std::uint16_t>(on ? 1 : 0)};
        }
        return data;
    }

    if (const bool* flag = std::get_if<bool>(&value)) {
        (void)flag;
        return "expected a number for " + to_string(attribute.type) + ", not a bool";
    }

    // An int64 on a plain integer attribute is encoded exactly (beyond 2^53 a double is not).
    if (const auto* integer = std::get_if<std::int64_t>(&value);
        integer != nullptr && plain_integer(attribute) && is_integer(attribute.type)) {
        const std::int64_t raw = *integer;
        bool ok = false;
        switch (attribute.type) {
            case ModbusType::int16:
                ok = raw >= -32768 && raw <= 32767;
                break;
            case ModbusType::uint16:
                ok = raw >= 0 && raw <= 65535;
                break;
            case ModbusType::int32:
                ok = raw >= std::numeric_limits<std::int32_t>::min() &&
                     raw <= std::numeric_limits<std::int32_t>::max();
                break;
            case ModbusType::uint32:
                ok = raw >= 0 && raw <= 4294967295LL;
                break;
            case ModbusType::int64:
                ok = true;
                break;
            case ModbusType::uint64:
                ok = raw >= 0;
                break;
            default:
                break;
        }
        if (!ok) {
            return "raw value " + std::to_string(raw) + " does not fit " +
                   to_string(attribute.type) + " (" + std::string(range_text(attribute.type)) + ")";
        }
        data.registers = split(attribute, static_cast<std::uint64_t>(raw), width);
        return data;
    }

    const double number = std::holds_alternative<double>(value)
                              ? std::get<double>(value)
                              : static_cast<double>(std::get<std::int64_t>(value));
    if (!std::isfinite(number)) return "value " + number_text(number) + " is not finite";
    if (attribute.scale == 0.0) return std::string("scale 0 cannot be inverted");
    const double unscaled = (number - attribute.offset) / attribute.scale;
    const std::string from =
        plain_integer(attribute) ? std::string() : " (from " + number_text(number) + ")";
    if (!std::isfinite(unscaled)) {
        return "raw value" + from + " is not finite after scale and offset";
    }

    switch (attribute.type) {
        case ModbusType::float32: {
            if (std::fabs(unscaled) > std::numeric_limits<float>::max()) {
                return "raw value " + number_text(unscaled) + from + " does not fit float32";
            }
            const auto bits = std::bit_cast<std::uint32_t>(static_cast<float>(unscaled));
            data.registers = split(attribute, bits, width);
            return data;
        }
        case ModbusType::float64:
            data.registers = split(attribute, std::bit_cast<std::uint64_t>(unscaled), width);
            return data;
        default:
            break;
    }

    const double raw = std::round(unscaled);
    if (!fits(attribute.type, raw)) {
        return "raw value " + number_text(raw) + from + " does not fit " +
               to_string(attribute.type) + " (" + std::string(range_text(attribute.type)) + ")";
    }
    std::uint64_t bits = 0;
    if (attribute.type == ModbusType::uint64) {
        bits = static_cast<std::uint64_t>(raw);
    } else {
        // Two's complement; split() keeps only the low width * 16 bits.
        bits = static_cast<std::uint64_t>(static_cast<std::int64_t>(raw));
    }
    data.registers = split(attribute, bits, width);
    return data;
}

}  // namespace nodebridge::modbus
