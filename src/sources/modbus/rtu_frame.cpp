#include "rtu_frame.hpp"

namespace nodebridge::modbus::rtu {

namespace {

constexpr std::uint8_t kExceptionFlag = 0x80;
constexpr std::size_t kCrcBytes = 2;

// The whole length of the reply frame that starts `bytes` (at least 2 bytes there): 0 when
// its function code is none a reply carries, 1 when the byte count is still to come.
std::size_t reply_length(std::span<const std::uint8_t> bytes) {
    const std::uint8_t function = bytes[1];
    if (function & kExceptionFlag) {
        const std::uint8_t base = function & ~kExceptionFlag;
        return (base >= 1 && base <= 6) || base == 15 || base == 16 ? 3 + kCrcBytes : 0;
    }
    switch (function) {
        case 1:
        case 2:
        case 3:
        case 4:  // unit, function, byte count, the bytes (APP 6.1 to 6.4)
            return bytes.size() < 3 ? 1 : 3 + bytes[2] + kCrcBytes;
        case 5:
        case 6:
        case 15:
        case 16:  // unit, function, address, value or quantity (APP 6.5, 6.6, 6.11, 6.12)
            return 6 + kCrcBytes;
        default:
            return 0;
    }
}

}  // namespace

std::uint16_t crc16(std::span<const std::uint8_t> bytes) {
    std::uint16_t crc = 0xFFFF;
    for (std::uint8_t byte : bytes) {
        crc ^= byte;
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001)
                            : static_cast<std::uint16_t>(crc >> 1);
        }
    }
    return crc;
}

void append_frame(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                  std::vector<std::uint8_t>& out) {
    const std::size_t start = out.size();
    out.push_back(unit);
    out.insert(out.end(), pdu.begin(), pdu.end());
    const std::uint16_t crc = crc16(std::span(out).subspan(start));
    out.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    out.push_back(static_cast<std::uint8_t>(crc >> 8));
}

FrameStatus find_reply(std::span<const std::uint8_t> bytes, Frame& out) {
    if (bytes.size() < 2) return FrameStatus::need_more;
    const std::size_t length = reply_length(bytes);
    if (length == 0) return FrameStatus::unknown_function;
    if (length == 1 || bytes.size() < length) return FrameStatus::need_more;
    const auto body = bytes.first(length - kCrcBytes);
    const std::uint16_t crc = crc16(body);
    if (bytes[length - 2] != (crc & 0xFF) || bytes[length - 1] != (crc >> 8)) {
        return FrameStatus::bad_crc;
    }
    out.unit = bytes[0];
    out.pdu = body.subspan(1);
    out.size = length;
    return FrameStatus::frame;
}

std::string_view to_string(FrameStatus status) {
    switch (status) {
        case FrameStatus::need_more:
            return "need-more";
        case FrameStatus::frame:
            return "frame";
        case FrameStatus::bad_crc:
            return "bad-crc";
        case FrameStatus::unknown_function:
            return "unknown-function";
    }
    return "unknown";
}

}  // namespace nodebridge::modbus::rtu
