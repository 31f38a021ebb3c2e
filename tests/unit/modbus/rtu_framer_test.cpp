// RequestFramer, nodebridge-sim's RTU request framing, with made-up arrival times: silence
// ends a frame on the wire, a gap over t1.5 or a start too soon after our reply loses the
// frame, and without --wire frames end by length and a bad CRC slides to the next byte.

#include "rtu_framer.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace nodebridge::sim {
namespace {

using Micros = std::chrono::microseconds;
using Bytes = std::vector<std::uint8_t>;

// Read holding registers (function 3) of `unit`, address 0, 2 registers, with its CRC.
Bytes request(std::uint8_t unit) {
    Bytes frame = {unit, 3, 0, 0, 0, 2};
    const std::uint16_t crc = crc16(frame);
    frame.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    frame.push_back(static_cast<std::uint8_t>(crc >> 8));
    return frame;
}

constexpr modbus::CharFraming k9600{.baud = 9600, .data_bits = 8, .parity = false, .stop_bits = 1};

struct Collect {
    std::vector<Bytes> frames;
    std::vector<RtuClock::time_point> boundaries;
    RequestFramer::FrameSink sink() {
        return [this](std::span<const std::uint8_t> frame, RtuClock::time_point boundary) {
            frames.emplace_back(frame.begin(), frame.end());
            boundaries.push_back(boundary);
        };
    }
};

const RtuClock::time_point kStart{std::chrono::seconds(100)};

TEST(RtuFramer, CrcOfAKnownFrame) {
    // 01 03 00 00 00 02 (read 2 holding registers of unit 1) goes out as ... C4 0B.
    EXPECT_EQ(request(1), (Bytes{1, 3, 0, 0, 0, 2, 0xC4, 0x0B}));
    EXPECT_TRUE(crc_ok(request(1)));
    Bytes bad = request(1);
    bad[3] ^= 1;
    EXPECT_FALSE(crc_ok(bad));
    EXPECT_FALSE(crc_ok(Bytes{1, 3, 0}));
}

TEST(RtuFramer, RequestLengthByFunction) {
    EXPECT_EQ(request_length(Bytes{1}), 0);
    EXPECT_EQ(request_length(Bytes{1, 4}), 8);
    EXPECT_EQ(request_length(Bytes{1, 16, 0, 0, 0, 2}), 0);
    EXPECT_EQ(request_length(Bytes{1, 16, 0, 0, 0, 2, 4}), 13);
    EXPECT_EQ(request_length(Bytes{1, 99}), -1);
}

TEST(RtuFramer, WireFrameEndsAfterSilence) {
    RequestFramer framer(true, k9600);
    Collect got;
    framer.receive(request(1), kStart, got.sink());
    const auto arrived = kStart + modbus::frame_time(k9600, 8);
    EXPECT_EQ(framer.frame_due(), arrived + modbus::t35(k9600));
    framer.service(arrived + modbus::t35(k9600) - Micros(1), got.sink());
    EXPECT_TRUE(got.frames.empty());
    framer.service(arrived + modbus::t35(k9600), got.sink());
    ASSERT_EQ(got.frames.size(), 1u);
    EXPECT_EQ(got.frames[0], request(1));
    EXPECT_EQ(got.boundaries[0], arrived + modbus::t35(k9600));
    EXPECT_EQ(framer.buffered(), 0u);
}

TEST(RtuFramer, WireFrameWithAGapOverT15IsIgnored) {
    RequestFramer framer(true, k9600);
    Collect got;
    const Bytes frame = request(1);
    framer.receive(std::span(frame).first(3), kStart, got.sink());
    const auto later = kStart + modbus::frame_time(k9600, 3) + modbus::t15(k9600) + Micros(100);
    framer.receive(std::span(frame).subspan(3), later, got.sink());
    framer.service(later + std::chrono::seconds(1), got.sink());
    EXPECT_TRUE(got.frames.empty());
    // The next request, after silence, is heard.
    framer.receive(frame, later + std::chrono::seconds(2), got.sink());
    framer.service(later + std::chrono::seconds(3), got.sink());
    ASSERT_EQ(got.frames.size(), 1u);
}

TEST(RtuFramer, WireRequestTooSoonAfterOurReplyIsMissed) {
    RequestFramer framer(true, k9600);
    Collect got;
    framer.reply_until(kStart);
    framer.receive(request(1), kStart + modbus::t35(k9600) - Micros(1), got.sink());
    framer.service(kStart + std::chrono::seconds(1), got.sink());
    EXPECT_TRUE(got.frames.empty());
    framer.receive(request(2), kStart + std::chrono::seconds(2), got.sink());
    framer.service(kStart + std::chrono::seconds(3), got.sink());
    ASSERT_EQ(got.frames.size(), 1u);
    EXPECT_EQ(got.frames[0][0], 2);
}

TEST(RtuFramer, ByLengthSlidesPastABadCrc) {
    RequestFramer framer(false, k9600);
    Collect got;
    Bytes bytes = {0x55};  // noise before the frame
    const Bytes frame = request(7);
    bytes.insert(bytes.end(), frame.begin(), frame.end());
    framer.receive(bytes, kStart, got.sink());
    ASSERT_EQ(got.frames.size(), 1u);
    EXPECT_EQ(got.frames[0], frame);
    EXPECT_EQ(got.boundaries[0], kStart);
}

TEST(RtuFramer, ByLengthTearsAFrameAfterAPause) {
    RequestFramer framer(false, k9600);
    Collect got;
    const Bytes frame = request(1);
    framer.receive(std::span(frame).first(5), kStart, got.sink());
    framer.receive(std::span(frame).subspan(5), kStart + RequestFramer::kStaleFrame + Micros(1),
                   got.sink());
    EXPECT_TRUE(got.frames.empty());
    framer.receive(frame, kStart + std::chrono::seconds(1), got.sink());
    EXPECT_EQ(got.frames.size(), 1u);
}

}  // namespace
}  // namespace nodebridge::sim
