#pragma once
// How nodebridge-sim's RTU slave cuts the bytes arriving on its line into request frames.
//
// Pure: bytes and the times they arrived go in, complete request frames whose CRC checks come
// out (to a callback); no I/O, no clock of its own, so the fuzz target can drive it with any
// bytes and any gaps (tests/fuzz/rtu_framing_fuzz.cpp).
//
// Two modes:
// - wire (`--wire`): a silence of t3.5 ends a frame; a frame with a gap over t1.5 inside it,
//   or that starts sooner than t3.5 after our own last reply, or that overflows the buffer,
//   is ignored whole (Modbus serial line spec V1.02, 2.5.1.1; rtu_timing.hpp).
// - by length (no --wire): a frame ends where its function code says; a frame whose CRC
//   does not check is not a frame boundary (slide by one byte); an unknown function code
//   drops what is buffered; bytes after a pause over kStaleFrame start afresh.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "rtu_timing.hpp"

namespace nodebridge::sim {

using RtuClock = std::chrono::steady_clock;

// The Modbus CRC-16 (polynomial 0xA001, initial 0xFFFF) of `bytes`.
std::uint16_t crc16(std::span<const std::uint8_t> bytes);

// Whether the last two bytes of `frame` (low byte first) are the CRC of the rest; false for
// fewer than 4 bytes.
bool crc_ok(std::span<const std::uint8_t> frame);

// The full length of the request frame that starts `frame` (unit, function, data, CRC); 0
// when more bytes are needed to tell; -1 for a function code this server does not know.
long request_length(std::span<const std::uint8_t> frame);

class RequestFramer {
  public:
    // Longest frame kept; longer input is garbage (a Modbus RTU frame is at most 256 bytes).
    static constexpr std::size_t kBufferSize = 1024;
    // Without --wire: a pause this long inside a frame tears it.
    static constexpr auto kStaleFrame = std::chrono::milliseconds(100);

    // Gets each valid request frame and when its frame ended (the boundary the turnaround
    // counts from). The span lives until the callback returns.
    using FrameSink =
        std::function<void(std::span<const std::uint8_t> frame, RtuClock::time_point boundary)>;

    // `wire` chooses the mode; `framing` gives t1.5 and t3.5 in wire mode.
    RequestFramer(bool wire, const modbus::CharFraming& framing);

    // Takes `bytes` read from the line at `now` (times never go backwards). Frames that ended
    // before them, and in by-length mode frames they complete, go to `sink`.
    void receive(std::span<const std::uint8_t> bytes, RtuClock::time_point now,
                 const FrameSink& sink);

    // Wire mode: ends the frame in progress if the line has been silent for t3.5 by `now`.
    void service(RtuClock::time_point now, const FrameSink& sink);

    // Notes that our own reply occupies the line until `end`: a request that starts sooner
    // than t3.5 after it is missed, as by a real slave.
    void reply_until(RtuClock::time_point end) { reply_end_ = std::max(reply_end_, end); }

    // Wire mode: when the frame in progress ends if no more bytes come; max() otherwise.
    RtuClock::time_point frame_due() const;

    // Bytes of the frame in progress.
    std::size_t buffered() const { return filled_; }

  private:
    void append(std::span<const std::uint8_t> bytes);
    void end_frame_if_silent(RtuClock::time_point now, const FrameSink& sink);
    void parse_by_length(RtuClock::time_point now, const FrameSink& sink);

    bool wire_;
    modbus::CharFraming framing_;
    modbus::Micros t15_;
    modbus::Micros t35_;
    std::array<std::uint8_t, kBufferSize> buffer_{};
    std::size_t filled_ = 0;
    bool broken_ = false;                  // a gap over t1.5 or an overflow inside this frame
    RtuClock::time_point last_arrival_{};  // when the last byte received fully arrived
    RtuClock::time_point reply_end_{};     // when our last queued reply ends on the line
};

}  // namespace nodebridge::sim
