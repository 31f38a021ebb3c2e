#include "mbap.hpp"

#include <modbus.h>

#include <array>

namespace nodebridge::modbus::mbap {
namespace {

void put_u16(std::vector<std::uint8_t>& out, std::uint16_t value) {
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

std::uint16_t get_u16(std::span<const std::uint8_t> bytes, std::size_t at) {
    return static_cast<std::uint16_t>((bytes[at] << 8) | bytes[at + 1]);
}

// The MBAP header of an ADU whose PDU is `pdu_bytes` long (TCP 3.1.3).
void put_header(std::vector<std::uint8_t>& out, std::uint16_t transaction, std::uint8_t unit,
                std::size_t pdu_bytes) {
    put_u16(out, transaction);
    put_u16(out, 0);  // protocol identifier: 0 = MODBUS
    put_u16(out, static_cast<std::uint16_t>(1 + pdu_bytes));
    out.push_back(unit);
}

// The 5-byte PDUs: function, then two big-endian words (APP 6.1 to 6.6).
void put_simple(std::vector<std::uint8_t>& out, std::uint16_t transaction, std::uint8_t unit,
                std::uint8_t function, std::uint16_t first, std::uint16_t second) {
    put_header(out, transaction, unit, 5);
    out.push_back(function);
    put_u16(out, first);
    put_u16(out, second);
}

bool is_bit_table(ModbusTable table) {
    return table == ModbusTable::coil || table == ModbusTable::discrete;
}

// An exception reply to `function` (APP 7): exception with its code, or bad_length when it
// is not exactly two bytes. Anything else with the flag set answers another function.
ReplyStatus check_exception(std::uint8_t function, std::span<const std::uint8_t> pdu,
                            std::uint8_t& exception_code) {
    if (pdu[0] != (function | kExceptionFlag)) return ReplyStatus::wrong_function;
    if (pdu.size() != 2) return ReplyStatus::bad_length;
    exception_code = pdu[1];
    return ReplyStatus::exception;
}

}  // namespace

std::uint8_t read_function(ModbusTable table) {
    switch (table) {
        case ModbusTable::coil:
            return kReadCoils;
        case ModbusTable::discrete:
            return kReadDiscreteInputs;
        case ModbusTable::input:
            return kReadInputRegisters;
        case ModbusTable::holding:
            break;
    }
    return kReadHoldingRegisters;
}

std::uint16_t max_read_count(ModbusTable table) {
    return is_bit_table(table) ? kMaxReadBits : kMaxReadRegisters;
}

bool encode_read(std::uint16_t transaction, std::uint8_t unit, ModbusTable table,
                 std::uint16_t address, std::uint16_t count, std::vector<std::uint8_t>& out) {
    if (count == 0 || count > max_read_count(table)) return false;
    put_simple(out, transaction, unit, read_function(table), address, count);
    return true;
}

bool encode_write_coil(std::uint16_t transaction, std::uint8_t unit, std::uint16_t address, bool on,
                       std::vector<std::uint8_t>& out) {
    put_simple(out, transaction, unit, kWriteSingleCoil, address, on ? 0xFF00 : 0x0000);
    return true;
}

bool encode_write_register(std::uint16_t transaction, std::uint8_t unit, std::uint16_t address,
                           std::uint16_t value, std::vector<std::uint8_t>& out) {
    put_simple(out, transaction, unit, kWriteSingleRegister, address, value);
    return true;
}

bool encode_write_registers(std::uint16_t transaction, std::uint8_t unit, std::uint16_t address,
                            std::span<const std::uint16_t> values, std::vector<std::uint8_t>& out) {
    if (values.empty() || values.size() > kMaxWriteRegisters) return false;
    const std::size_t data_bytes = 2 * values.size();
    // APP 6.12: function, starting address, quantity, byte count (2 x N), values.
    put_header(out, transaction, unit, 6 + data_bytes);
    out.push_back(kWriteMultipleRegisters);
    put_u16(out, address);
    put_u16(out, static_cast<std::uint16_t>(values.size()));
    out.push_back(static_cast<std::uint8_t>(data_bytes));
    for (const std::uint16_t value : values) put_u16(out, value);
    return true;
}

bool encode_write_coils(std::uint16_t transaction, std::uint8_t unit, std::uint16_t address,
                        std::span<const std::uint8_t> bits, std::vector<std::uint8_t>& out) {
    if (bits.empty() || bits.size() > kMaxWriteCoils) return false;
    const std::size_t data_bytes = (bits.size() + 7) / 8;
    // APP 6.11: function, starting address, quantity of outputs, byte count (N), outputs
    // value, the first coil in the LSB of the first byte, unused high bits zero.
    put_header(out, transaction, unit, 6 + data_bytes);
    out.push_back(kWriteMultipleCoils);
    put_u16(out, address);
    put_u16(out, static_cast<std::uint16_t>(bits.size()));
    out.push_back(static_cast<std::uint8_t>(data_bytes));
    const std::size_t first = out.size();
    out.resize(first + data_bytes, 0);
    for (std::size_t i = 0; i < bits.size(); ++i) {
        if (bits[i] != 0) out[first + i / 8] |= static_cast<std::uint8_t>(1U << (i % 8));
    }
    return true;
}

std::span<const std::uint8_t> request_pdu(std::span<const std::uint8_t> adu) {
    Frame frame;
    if (find_frame(adu, frame) != FrameStatus::frame) return {};
    return frame.pdu;
}

FrameStatus find_frame(std::span<const std::uint8_t> bytes, Frame& out) {
    if (bytes.size() >= 4 && get_u16(bytes, 2) != 0) return FrameStatus::bad_protocol;
    if (bytes.size() < 6) return FrameStatus::need_more;
    const std::uint16_t length = get_u16(bytes, 4);
    if (length < kMinLengthField || length > kMaxLengthField) return FrameStatus::bad_length;
    // The length field counts the unit identifier and the PDU (TCP 3.1.3).
    const std::size_t size = 6 + std::size_t{length};
    if (bytes.size() < size) return FrameStatus::need_more;
    out.transaction = get_u16(bytes, 0);
    out.unit = bytes[6];
    out.pdu = bytes.subspan(kHeaderBytes, size - kHeaderBytes);
    out.size = size;
    return FrameStatus::frame;
}

ReplyStatus decode_read_reply(ModbusTable table, std::uint16_t count,
                              std::span<const std::uint8_t> pdu,
                              std::vector<std::uint16_t>& registers,
                              std::vector<std::uint8_t>& bits, std::uint8_t& exception_code) {
    registers.clear();
    bits.clear();
    exception_code = 0;
    if (pdu.empty()) return ReplyStatus::bad_length;
    const std::uint8_t function = read_function(table);
    if (pdu[0] != function) return check_exception(function, pdu, exception_code);
    if (count == 0 || count > max_read_count(table)) return ReplyStatus::bad_length;
    const bool bit_table = is_bit_table(table);
    // APP 6.1 to 6.4: function, byte count, then the data: ceil(count / 8) bytes of bits, or
    // 2 x count bytes of registers.
    const std::size_t data_bytes =
        bit_table ? (std::size_t{count} + 7) / 8 : 2 * std::size_t{count};
    if (pdu.size() < 2 || pdu[1] != data_bytes || pdu.size() != 2 + data_bytes) {
        return ReplyStatus::bad_length;
    }
    const std::span<const std::uint8_t> data = pdu.subspan(2);
    if (bit_table) {
        bits.resize(count);
        for (std::size_t i = 0; i < count; ++i) bits[i] = (data[i / 8] >> (i % 8)) & 1U;
    } else {
        registers.resize(count);
        for (std::size_t i = 0; i < count; ++i) registers[i] = get_u16(data, 2 * i);
    }
    return ReplyStatus::ok;
}

ReplyStatus check_write_reply(std::span<const std::uint8_t> request_pdu,
                              std::span<const std::uint8_t> reply_pdu,
                              std::uint8_t& exception_code) {
    exception_code = 0;
    if (request_pdu.size() < 5) return ReplyStatus::wrong_function;
    const std::uint8_t function = request_pdu[0];
    if (function != kWriteSingleCoil && function != kWriteSingleRegister &&
        function != kWriteMultipleCoils && function != kWriteMultipleRegisters) {
        return ReplyStatus::wrong_function;
    }
    if (reply_pdu.empty()) return ReplyStatus::bad_length;
    if (reply_pdu[0] != function) return check_exception(function, reply_pdu, exception_code);
    // APP 6.5, 6.6: the reply echoes the request (address, value); 6.11, 6.12: function,
    // starting address, quantity. Either way the request's bytes 1 to 4.
    if (reply_pdu.size() != 5) return ReplyStatus::bad_length;
    for (std::size_t i = 1; i < 5; ++i) {
        if (reply_pdu[i] != request_pdu[i]) return ReplyStatus::mismatch;
    }
    return ReplyStatus::ok;
}

std::string_view exception_text(std::uint8_t code) {
    // libmodbus's modbus_strerror() texts for EMBXILFUN .. EMBXGTAR (MODBUS_ENOBASE + code),
    // for the codes of APP 7 and 7; index 0 and 9 are codes without a name.
    static constexpr std::array<std::string_view, 12> kTexts = {
        "",
        "Illegal function",
        "Illegal data address",
        "Illegal data value",
        "Slave device or server failure",
        "Acknowledge",
        "Slave device or server is busy",
        "Negative acknowledge",
        "Memory parity error",
        "",
        "Gateway path unavailable",
        "Target device failed to respond",
    };
    if (code < kTexts.size() && !kTexts[code].empty()) return kTexts[code];
    return "Invalid exception code";
}

int exception_errno(std::uint8_t code) {
    return code < MODBUS_EXCEPTION_MAX ? MODBUS_ENOBASE + code : EMBBADEXC;
}

std::string_view to_string(FrameStatus status) {
    switch (status) {
        case FrameStatus::need_more:
            return "need-more";
        case FrameStatus::frame:
            return "frame";
        case FrameStatus::bad_protocol:
            return "bad-protocol";
        case FrameStatus::bad_length:
            break;
    }
    return "bad-length";
}

std::string_view to_string(ReplyStatus status) {
    switch (status) {
        case ReplyStatus::ok:
            return "ok";
        case ReplyStatus::exception:
            return "exception";
        case ReplyStatus::wrong_function:
            return "wrong-function";
        case ReplyStatus::bad_length:
            return "bad-length";
        case ReplyStatus::mismatch:
            break;
    }
    return "mismatch";
}

}  // namespace nodebridge::modbus::mbap
