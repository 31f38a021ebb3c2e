#include "decode.hpp"

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace nodebridge::modbus {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Registers in most-significant-word-first order, with bytes swapped if asked.
// `count` is 1, 2 or 4.
std::uint64_t assemble(const ModbusAttribute& attribute, std::span<const std::uint16_t> registers) {
    std::uint64_t raw = 0;
    const std::size_t count = registers.size();
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t index = attribute.word_order == WordOrder::big ? i : count - 1 - i;
        std::uint16_t word = registers[index];
        if (attribute.byte_swap) word = static_cast<std::uint16_t>((word << 8) | (word >> 8));
        raw = (raw << 16) | word;
    }
    return raw;
}

bool plain_integer(const ModbusAttribute& attribute) {
    return attribute.scale == 1.0 && attribute.offset == 0.0 && !attribute.round.has_value();
}

Value from_signed(const ModbusAttribute& attribute, std::int64_t raw) {
    if (plain_integer(attribute)) return raw;
    return scale_value(attribute, static_cast<double>(raw));
}

Value from_unsigned(const ModbusAttribute& attribute, std::uint64_t raw) {
    if (plain_integer(attribute)) {
        if (raw <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return static_cast<std::int64_t>(raw);
        }
        return static_cast<double>(raw);
    }
    return scale_value(attribute, static_cast<double>(raw));
}

std::string decode_string(const ModbusAttribute& attribute,
                          std::span<const std::uint16_t> registers) {
    std::string bytes;
    bytes.reserve(registers.size() * 2);
    for (std::uint16_t word : registers) {
        if (attribute.byte_swap) word = static_cast<std::uint16_t>((word << 8) | (word >> 8));
        bytes.push_back(static_cast<char>(word >> 8));
        bytes.push_back(static_cast<char>(word & 0xFF));
    }
    if (const auto nul = bytes.find('\0'); nul != std::string::npos) bytes.resize(nul);
    while (!bytes.empty() && bytes.back() == ' ') bytes.pop_back();
    return sanitize_text(bytes);
}

}  // namespace

bool is_bit_table(ModbusTable table) {
    return table == ModbusTable::coil || table == ModbusTable::discrete;
}

std::uint16_t attribute_width(const ModbusAttribute& attribute) {
    return is_bit_table(attribute.table) ? 1 : attribute.width();
}

double float32_decimal(float value) {
    if (!std::isfinite(value)) return value;
    char text[32];
    const auto written = std::to_chars(text, text + sizeof text, value);  // shortest round trip
    double decimal = value;
    std::from_chars(text, written.ptr, decimal);
    return decimal;
}

double scale_value(const ModbusAttribute& attribute, double raw) {
    double value = raw * attribute.scale + attribute.offset;
    if (!std::isfinite(value) || !attribute.round.has_value()) return value;
    const int decimals = *attribute.round;
    // Beyond 15 decimals a double has nothing left to round; beyond -308 all is zero.
    if (decimals > 15) return value;
    if (decimals < -308) return 0.0;
    if (decimals >= 0) {
        const double factor = std::pow(10.0, decimals);
        const double scaled = value * factor;
        if (!std::isfinite(scaled)) return value;
        return std::round(scaled) / factor;
    }
    const double factor = std::pow(10.0, -decimals);
    return std::round(value / factor) * factor;
}

std::optional<Value> decode_registers(const ModbusAttribute& attribute,
                                      std::span<const std::uint16_t> registers) {
    const std::uint16_t width = attribute_width(attribute);
    if (width == 0 || registers.size() != width || is_bit_table(attribute.table)) {
        return std::nullopt;
    }
    switch (attribute.type) {
        case ModbusType::boolean:
            if (attribute.bit) {
                if (*attribute.bit > 15) return std::nullopt;
                std::uint16_t word = registers[0];
                if (attribute.byte_swap)
                    word = static_cast<std::uint16_t>((word << 8) | (word >> 8));
                return Value{((word >> *attribute.bit) & 1u) != 0};
            }
            return Value{registers[0] != 0};
        case ModbusType::int16:
            return from_signed(attribute,
                               static_cast<std::int16_t>(assemble(attribute, registers)));
        case ModbusType::uint16:
        case ModbusType::uint32:
        case ModbusType::uint64:
            return from_unsigned(attribute, assemble(attribute, registers));
        case ModbusType::int32:
            return from_signed(attribute,
                               static_cast<std::int32_t>(assemble(attribute, registers)));
        case ModbusType::int64:
            return from_signed(attribute,
                               static_cast<std::int64_t>(assemble(attribute, registers)));
        case ModbusType::float32: {
            const auto bits = static_cast<std::uint32_t>(assemble(attribute, registers));
            return Value{scale_value(attribute, float32_decimal(std::bit_cast<float>(bits)))};
        }
        case ModbusType::float64: {
            const std::uint64_t bits = assemble(attribute, registers);
            return Value{scale_value(attribute, std::bit_cast<double>(bits))};
        }
        case ModbusType::string:
            return Value{decode_string(attribute, registers)};
    }
    return std::nullopt;
}

Value decode_bit(const ModbusAttribute& attribute, bool bit) {
    if (attribute.type == ModbusType::boolean) return bit;
    return from_signed(attribute, bit ? 1 : 0);
}

std::string sanitize_text(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto lead = static_cast<unsigned char>(bytes[i]);
        if (lead < 0x80) {
            if (lead < 0x20 || lead == 0x7F) {
                out += kReplacement;
            } else {
                out.push_back(static_cast<char>(lead));
            }
            ++i;
            continue;
        }
        std::size_t length = 0;
        std::uint32_t code = 0;
        std::uint32_t minimum = 0;
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2, code = lead & 0x1F, minimum = 0x80;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3, code = lead & 0x0F, minimum = 0x800;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4, code = lead & 0x07, minimum = 0x10000;
        }
        bool valid = length != 0 && i + length <= bytes.size();
        for (std::size_t k = 1; valid && k < length; ++k) {
            const auto next = static_cast<unsigned char>(bytes[i + k]);
            if ((next & 0xC0) != 0x80) {
                valid = false;
            } else {
                code = (code << 6) | (next & 0x3F);
            }
        }
        valid = valid && code >= minimum && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF);
        if (!valid) {
            out += kReplacement;
            ++i;
            continue;
        }
        if (code >= 0x80 && code <= 0x9F) {
            out += kReplacement;  // C1 control characters
        } else {
            out.append(bytes.substr(i, length));
        }
        i += length;
    }
    return out;
}

}  // namespace nodebridge::modbus
