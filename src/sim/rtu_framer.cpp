#include "rtu_framer.hpp"

#include <modbus.h>

#include <cstring>

namespace nodebridge::sim {

std::uint16_t crc16(std::span<const std::uint8_t> bytes) {
    std::uint16_t crc = 0xFFFF;
    for (const std::uint8_t byte : bytes) {
        crc ^= byte;
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 1) != 0 ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001)
                                 : static_cast<std::uint16_t>(crc >> 1);
        }
    }
    return crc;
}

bool crc_ok(std::span<const std::uint8_t> frame) {
    if (frame.size() < 4) return false;
    const std::uint16_t expected = crc16(frame.first(frame.size() - 2));
    const auto received =
        static_cast<std::uint16_t>(frame[frame.size() - 2] | (frame[frame.size() - 1] << 8));
    return expected == received;
}

long request_length(std::span<const std::uint8_t> frame) {
    if (frame.size() < 2) return 0;
    switch (frame[1]) {
        case MODBUS_FC_READ_COILS:
        case MODBUS_FC_READ_DISCRETE_INPUTS:
        case MODBUS_FC_READ_HOLDING_REGISTERS:
        case MODBUS_FC_READ_INPUT_REGISTERS:
        case MODBUS_FC_WRITE_SINGLE_COIL:
        case MODBUS_FC_WRITE_SINGLE_REGISTER:
            return 8;
        case MODBUS_FC_READ_EXCEPTION_STATUS:
        case MODBUS_FC_REPORT_SLAVE_ID:
            return 4;
        case MODBUS_FC_MASK_WRITE_REGISTER:
            return 10;
        case 0x2B:  // Read Device Identification (APP V1.1b3 6.21): unit 2B 0E code object CRC
            return 7;
        case MODBUS_FC_WRITE_MULTIPLE_COILS:
        case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
            return frame.size() < 7 ? 0 : 9 + frame[6];
        case MODBUS_FC_WRITE_AND_READ_REGISTERS:
            return frame.size() < 11 ? 0 : 13 + frame[10];
        default:
            return -1;
    }
}

RequestFramer::RequestFramer(bool wire, const modbus::CharFraming& framing)
    : wire_(wire), framing_(framing), t15_(modbus::t15(framing)), t35_(modbus::t35(framing)) {}

RtuClock::time_point RequestFramer::frame_due() const {
    if (wire_ && filled_ > 0) return last_arrival_ + t35_;
    return RtuClock::time_point::max();
}

void RequestFramer::receive(std::span<const std::uint8_t> bytes, RtuClock::time_point now,
                            const FrameSink& sink) {
    if (!wire_) {
        if (filled_ > 0 && now - last_arrival_ > kStaleFrame) filled_ = 0;  // a torn frame
        last_arrival_ = now;
        append(bytes);
        parse_by_length(now, sink);
        return;
    }
    end_frame_if_silent(now, sink);
    if (bytes.empty()) return;
    if (filled_ > 0 && now - last_arrival_ > t15_) broken_ = true;  // a gap inside a frame
    // A frame must follow the previous one (our own reply too) after t3.5 of silence; a
    // slave misses a request that starts sooner.
    if (filled_ == 0 && now < reply_end_ + t35_) broken_ = true;
    const auto begin = filled_ > 0 ? std::max(now, last_arrival_) : now;
    last_arrival_ = begin + modbus::frame_time(framing_, bytes.size());
    append(bytes);
}

void RequestFramer::service(RtuClock::time_point now, const FrameSink& sink) {
    if (wire_) end_frame_if_silent(now, sink);
}

void RequestFramer::append(std::span<const std::uint8_t> bytes) {
    const std::size_t room = buffer_.size() - filled_;
    if (bytes.size() > room) broken_ = true;  // longer than any request: garbage
    const std::size_t taken = std::min(bytes.size(), room);
    if (taken > 0) std::memcpy(buffer_.data() + filled_, bytes.data(), taken);
    filled_ += taken;
}

void RequestFramer::end_frame_if_silent(RtuClock::time_point now, const FrameSink& sink) {
    if (filled_ == 0 || now < last_arrival_ + t35_) return;
    const std::span<const std::uint8_t> frame(buffer_.data(), filled_);
    const long length = request_length(frame);
    if (!broken_ && filled_ >= 4 && length == static_cast<long>(filled_) && crc_ok(frame)) {
        sink(frame, last_arrival_ + t35_);
    }
    filled_ = 0;
    broken_ = false;
}

void RequestFramer::parse_by_length(RtuClock::time_point now, const FrameSink& sink) {
    while (filled_ >= 4) {
        const long length = request_length(std::span<const std::uint8_t>(buffer_.data(), filled_));
        if (length < 0) {
            filled_ = 0;  // unknown function: resynchronise on the next frame
            break;
        }
        if (length == 0 || filled_ < static_cast<std::size_t>(length)) break;
        const auto size = static_cast<std::size_t>(length);
        const std::span<const std::uint8_t> frame(buffer_.data(), size);
        std::size_t consumed = size;
        if (!crc_ok(frame)) {
            consumed = 1;  // not a frame boundary: slide by one byte
        } else {
            sink(frame, now);
        }
        std::memmove(buffer_.data(), buffer_.data() + consumed, filled_ - consumed);
        filled_ -= consumed;
    }
    if (filled_ == buffer_.size()) filled_ = 0;
    broken_ = false;
}

}  // namespace nodebridge::sim
