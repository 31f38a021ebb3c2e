#pragma once
// Modbus TCP framing (the MBAP header) as pure functions over byte buffers: encode request
// ADUs, find reply frames in what a socket has delivered so far, and check a reply PDU
// against the request it answers. No sockets, no libmodbus context, no state: the Modbus TCP
// event loop reads into its own buffer and calls these (tests/fuzz/mbap_fuzz.cpp fuzzes them).
//
// Sources (cited as "TCP" and "APP" below):
// - TCP: MODBUS Messaging on TCP/IP Implementation Guide V1.0b, section 3.1.3 "MODBUS On TCP/IP
//   Application Data Unit": the MBAP header is 7 bytes, transaction identifier (2 bytes),
//   protocol identifier (2 bytes, 0 = MODBUS), length (2 bytes: the number of following bytes,
//   unit identifier included), unit identifier (1 byte); all big-endian (APP section 4.2).
// - APP: MODBUS Application Protocol Specification V1.1b3, section 4.1 (a PDU is at most 253
//   bytes, a TCP ADU at most 253 + 7 = 260), section 6 (the function codes' PDUs and quantity
//   limits) and section 7 "MODBUS Exception Responses" (function code + 0x80, one exception
//   code byte).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "nodebridge/config.hpp"

namespace nodebridge::modbus::mbap {

inline constexpr std::size_t kHeaderBytes = 7;  // TCP 3.1.3
inline constexpr std::size_t kMaxPdu = 253;     // APP 4.1
inline constexpr std::size_t kMaxAdu = 260;     // APP 4.1: 253 + MBAP (7 bytes)
// The MBAP length field counts the unit identifier and the PDU (TCP 3.1.3): at least the unit
// and a function code, at most the unit and the largest PDU.
inline constexpr std::uint16_t kMinLengthField = 2;
inline constexpr std::uint16_t kMaxLengthField = 1 + kMaxPdu;  // 254

// Function codes (APP 6.1 to 6.12) and the exception flag (APP 7).
inline constexpr std::uint8_t kReadCoils = 0x01;
inline constexpr std::uint8_t kReadDiscreteInputs = 0x02;
inline constexpr std::uint8_t kReadHoldingRegisters = 0x03;
inline constexpr std::uint8_t kReadInputRegisters = 0x04;
inline constexpr std::uint8_t kWriteSingleCoil = 0x05;
inline constexpr std::uint8_t kWriteSingleRegister = 0x06;
inline constexpr std::uint8_t kWriteMultipleCoils = 0x0F;
inline constexpr std::uint8_t kWriteMultipleRegisters = 0x10;
inline constexpr std::uint8_t kExceptionFlag = 0x80;

// Quantity limits of the requests (APP 6.1 and 6.2: 1 to 2000 bits; 6.3 and 6.4: 1 to 125
// registers; 6.11: 1 to 1968 coils; 6.12: 1 to 123 registers).
inline constexpr std::uint16_t kMaxReadBits = 2000;
inline constexpr std::uint16_t kMaxReadRegisters = 125;
inline constexpr std::uint16_t kMaxWriteCoils = 1968;
inline constexpr std::uint16_t kMaxWriteRegisters = 123;

// The read function code of `table`: 1 coil, 2 discrete, 3 holding, 4 input (APP 6.1 to 6.4).
std::uint8_t read_function(ModbusTable table);

// The largest quantity one read of `table` may ask for: 2000 bits or 125 registers.
std::uint16_t max_read_count(ModbusTable table);

// ---- requests ---------------------------------------------------------------------------
// Each encoder appends one whole request ADU (MBAP header, then the PDU of APP section 6) to
// `out` and returns true. When the quantity is outside the function's range (0, or above the
// limits above) it appends nothing and returns false, so no encoder ever makes an ADU the
// protocol does not allow. Addresses are zero-based, as on the wire; whether address + count
// runs past 65535 is left to the device (APP 6: it answers exception 2).

// Read `count` items of `table` from `address`: FC1 coils, FC2 discrete inputs, FC3 holding
// registers, FC4 input registers (APP 6.1 to 6.4). count: 1..2000 bits, 1..125 registers.
bool encode_read(std::uint16_t transaction, std::uint8_t unit, ModbusTable table,
                 std::uint16_t address, std::uint16_t count, std::vector<std::uint8_t>& out);

// FC5 Write Single Coil (APP 6.5): the value is 0xFF00 for on, 0x0000 for off. Always true.
bool encode_write_coil(std::uint16_t transaction, std::uint8_t unit, std::uint16_t address, bool on,
                       std::vector<std::uint8_t>& out);

// FC6 Write Single Register (APP 6.6). Always true.
bool encode_write_register(std::uint16_t transaction, std::uint8_t unit, std::uint16_t address,
                           std::uint16_t value, std::vector<std::uint8_t>& out);

// FC16 Write Multiple Registers (APP 6.12): `values` (1..123 of them) from `address` on.
bool encode_write_registers(std::uint16_t transaction, std::uint8_t unit, std::uint16_t address,
                            std::span<const std::uint16_t> values, std::vector<std::uint8_t>& out);

// FC15 Write Multiple Coils (APP 6.11): one coil per element of `bits` (1..1968 of them; any
// non-zero element is on), packed LSB first, the first coil in bit 0 of the first byte.
bool encode_write_coils(std::uint16_t transaction, std::uint8_t unit, std::uint16_t address,
                        std::span<const std::uint8_t> bits, std::vector<std::uint8_t>& out);

// The request's PDU inside one encoded ADU (as the encoders append it), found by its MBAP
// length field, for check_write_reply() and for logging. Empty when `adu` does not start with
// a whole, well-formed ADU. Points into `adu`.
std::span<const std::uint8_t> request_pdu(std::span<const std::uint8_t> adu);

// ---- reply frames -----------------------------------------------------------------------

// What the start of a receive buffer holds.
enum class FrameStatus {
    need_more,     // not yet a whole ADU: read more bytes and call again
    frame,         // a whole ADU (Frame says where it ends)
    bad_protocol,  // the protocol identifier is not 0 (TCP 3.1.3)
    bad_length,    // the length field is below 2 or above 254 (TCP 3.1.3, APP 4.1)
};

// One ADU found at the start of a buffer. `pdu` points into that buffer.
struct Frame {
    std::uint16_t transaction = 0;
    std::uint8_t unit = 0;
    std::span<const std::uint8_t> pdu;  // function code and data: 1..253 bytes
    std::size_t size = 0;               // the whole ADU (7 + pdu.size()): bytes to consume
};

// Looks at the first ADU in `bytes`. Returns frame with `out` filled when the header and all
// the bytes its length field announces are there (bytes after the frame are left alone: the
// caller consumes out.size and calls again); need_more while they are not; bad_protocol or
// bad_length as soon as the protocol identifier (4 bytes in) or the length field (6 bytes in)
// is wrong, after which the stream cannot be resynchronised and the caller closes the
// connection. Never reads past `bytes`; `out` is changed only on frame.
FrameStatus find_frame(std::span<const std::uint8_t> bytes, Frame& out);

// ---- reply PDUs -------------------------------------------------------------------------

// What a reply PDU says about the request it answers.
enum class ReplyStatus {
    ok,              // the reply the request asked for
    exception,       // an exception reply (APP 7) to the request's function: see exception_code
    wrong_function,  // a reply to another function (or an exception reply to one)
    bad_length,      // the right function, but a byte count or PDU length the request rules out
    mismatch,        // a write's reply, well formed, that echoes another address, value or
                     // quantity than the request's (APP 6.5, 6.6, 6.11, 6.12)
};

// Checks `pdu`, a reply to a read of `count` items of `table` (read_function(table)):
// exception when it is function + 0x80 and one code byte (exception_code set to that code);
// wrong_function when its function is another; bad_length unless its byte count is 2 * count
// for registers or ceil(count / 8) for bits and the PDU is that many bytes after the function
// code and byte count, or when count is 0 or above max_read_count(table) (no request could ask
// for that). Clears `registers` and `bits`, then on ok fills `registers` with count words
// (input, holding; big-endian on the wire) or `bits` with count values 0 or 1 (coil,
// discrete; LSB of the first byte first, APP 6.1; the padding bits of the last byte are
// ignored). exception_code is 0 unless exception.
ReplyStatus decode_read_reply(ModbusTable table, std::uint16_t count,
                              std::span<const std::uint8_t> pdu,
                              std::vector<std::uint16_t>& registers,
                              std::vector<std::uint8_t>& bits, std::uint8_t& exception_code);

// Checks `reply_pdu` against `request_pdu`, a write that an encoder made (FC5, 6, 15 or 16):
// exception as for reads; wrong_function when the reply's function is another, or when the
// request is not such a write; bad_length unless the reply is 5 bytes; mismatch unless it
// echoes the request's address and value (FC5, FC6) or address and quantity (FC15, FC16).
// exception_code is 0 unless exception.
ReplyStatus check_write_reply(std::span<const std::uint8_t> request_pdu,
                              std::span<const std::uint8_t> reply_pdu,
                              std::uint8_t& exception_code);

// ---- exception codes --------------------------------------------------------------------

// The text for exception `code`: for the codes of APP 7 "MODBUS Exception Codes" (1 to 6, 8,
// 10, 11, e.g. 2 "Illegal data address") and 7 (not in APP V1.1b3, named by libmodbus), the
// same as libmodbus's modbus_strerror(exception_errno(code)); "Invalid exception code"
// (libmodbus's text for EMBBADEXC) for any other code.
std::string_view exception_text(std::uint8_t code);

// The errno libmodbus 3.1 sets for exception `code` (its check_confirmation()):
// MODBUS_ENOBASE + code below MODBUS_EXCEPTION_MAX (12), EMBBADEXC above; so EMBXILADD for 2.
// The source's classify_error() and its split on "illegal data address" take this value.
int exception_errno(std::uint8_t code);

// Short names for counters and log lines: "need-more", "frame", "bad-protocol",
// "bad-length"; "ok", "exception", "wrong-function", "bad-length", "mismatch".
std::string_view to_string(FrameStatus status);
std::string_view to_string(ReplyStatus status);

}  // namespace nodebridge::modbus::mbap
