#pragma once
// Modbus RTU frames over a byte stream (a serial device server's TCP connection): encode a
// request frame, find the reply frame at the start of what has arrived, by the reply's own
// length and CRC. Pure functions, no I/O (tests/fuzz/rtu_reply_fuzz.cpp fuzzes them).
//
// Source: MODBUS over Serial Line Specification and Implementation Guide V1.02, section 2.5.1
// "RTU Transmission Mode" (a frame is the slave address, the PDU, and a 16-bit CRC sent low
// byte first; at most 256 bytes) and section 6.2.2 "CRC Generation" (polynomial 0xA001,
// initial value 0xFFFF). The PDU lengths of the replies are those of the MODBUS Application
// Protocol Specification V1.1b3, section 6 (functions 1 to 6, 15, 16) and 7 (exceptions).
//
// Over TCP the line's silences are gone: bytes of one frame may arrive in several reads, and
// two frames in one. A frame's end is found from its function code and byte count instead:
// what an RTU master on a byte stream must do, and what only works with one request on the
// wire at a time.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace nodebridge::modbus::rtu {

inline constexpr std::size_t kMaxFrame = 256;  // Serial Line V1.02, 2.5.1.1

// The CRC-16 of `bytes` (Serial Line V1.02, 6.2.2).
std::uint16_t crc16(std::span<const std::uint8_t> bytes);

// Appends the frame of `pdu` (1..253 bytes) for `unit`: unit, pdu, CRC low byte first.
void append_frame(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                  std::vector<std::uint8_t>& out);

// What the start of a receive buffer holds.
enum class FrameStatus {
    need_more,         // not yet a whole frame: read more bytes and call again
    frame,             // a whole frame whose CRC checks (Frame says where it ends)
    bad_crc,           // a whole frame by its length, whose CRC does not check
    unknown_function,  // a function code no reply of functions 1-6, 15, 16 carries
};

// One reply frame found at the start of a buffer. `pdu` points into that buffer.
struct Frame {
    std::uint8_t unit = 0;
    std::span<const std::uint8_t> pdu;  // function code and data
    std::size_t size = 0;               // the whole frame: bytes to consume
};

// Looks at the first reply frame in `bytes`. Its length comes from its function code: an
// exception reply (function | 0x80) is 5 bytes, a read reply (1 to 4) 5 plus its byte count,
// a write reply (5, 6, 15, 16) 8. Returns frame with `out` filled once that many bytes are
// there and the CRC checks; bad_crc when they are there and it does not; unknown_function as
// soon as the function code (1 byte in) is none of those. Never reads past `bytes`; `out` is
// changed only on frame.
FrameStatus find_reply(std::span<const std::uint8_t> bytes, Frame& out);

// "need-more", "frame", "bad-crc", "unknown-function".
std::string_view to_string(FrameStatus status);

}  // namespace nodebridge::modbus::rtu
