// libFuzzer target for the bytes nodebridge-sim's RTU slave reads off its line: RequestFramer
// (src/sim/rtu_framer.hpp) fed with any bytes, in any chunks, with any gaps between them, in
// wire mode (t3.5 boundaries, t1.5 tears, a request too soon after our reply) and by length.
// The input is a script: a mode and a framing, then steps (bytes after a gap, a silence, our
// reply on the line, a well-formed request whole or torn). Traps when:
// - a frame handed on is not a whole request: under 4 bytes, longer than the buffer, a bad
//   CRC, or a length its function code does not give;
// - frame boundaries go backwards;
// - a well-formed request sent whole after silence is not handed on exactly (both modes);
// - a request torn by a gap over t1.5 is handed on (wire mode).
// Seeds in tests/fuzz/seeds/rtu_framing.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "rtu_framer.hpp"

// Says which check failed (its line), then stops the run as a crash.
#define FUZZ_FAIL() (std::fprintf(stderr, "check failed at line %d\n", __LINE__), __builtin_trap())

namespace {

using nodebridge::sim::RequestFramer;
using nodebridge::sim::RtuClock;
using Micros = std::chrono::microseconds;

constexpr int kBauds[] = {1200, 9600, 19200, 38400, 115200};

struct Harness {
    RequestFramer framer;
    nodebridge::modbus::CharFraming framing;
    bool wire;
    RtuClock::time_point now{std::chrono::seconds(1000)};
    RtuClock::time_point last_boundary{};
    std::vector<std::vector<std::uint8_t>> frames;  // handed on since the last clear()

    RequestFramer::FrameSink sink() {
        return [this](std::span<const std::uint8_t> frame, RtuClock::time_point boundary) {
            if (frame.size() < 4 || frame.size() > RequestFramer::kBufferSize) FUZZ_FAIL();
            if (!nodebridge::sim::crc_ok(frame)) FUZZ_FAIL();
            if (nodebridge::sim::request_length(frame) != static_cast<long>(frame.size()))
                FUZZ_FAIL();
            if (boundary < last_boundary) FUZZ_FAIL();
            last_boundary = boundary;
            frames.emplace_back(frame.begin(), frame.end());
        };
    }
    void receive(std::span<const std::uint8_t> bytes) { framer.receive(bytes, now, sink()); }
    void service() { framer.service(now, sink()); }
    // Long enough for any frame in progress to end (its bytes may still be crossing a slow
    // line) and for our replies (at most 1 s ahead) to clear.
    void settle() {
        now += std::chrono::seconds(2);
        if (const auto due = framer.frame_due(); due != RtuClock::time_point::max()) {
            now = std::max(now, due);
        }
        service();
        if (framer.buffered() != 0 && wire) FUZZ_FAIL();  // silence ends every frame
    }
};

// A read request (function 1..4) with its CRC.
std::vector<std::uint8_t> read_request(FuzzedDataProvider& input) {
    std::vector<std::uint8_t> frame = {
        input.ConsumeIntegral<std::uint8_t>(), input.ConsumeIntegralInRange<std::uint8_t>(1, 4),
        input.ConsumeIntegral<std::uint8_t>(), input.ConsumeIntegral<std::uint8_t>(),
        input.ConsumeIntegral<std::uint8_t>(), input.ConsumeIntegral<std::uint8_t>(),
    };
    const std::uint16_t crc = nodebridge::sim::crc16(frame);
    frame.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    frame.push_back(static_cast<std::uint8_t>(crc >> 8));
    return frame;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider input(data, size);
    const bool wire = input.ConsumeBool();
    const nodebridge::modbus::CharFraming framing{
        .baud = kBauds[input.ConsumeIntegralInRange<std::size_t>(0, std::size(kBauds) - 1)],
        .data_bits = 8,
        .parity = input.ConsumeBool(),
        .stop_bits = input.ConsumeIntegralInRange(1, 2)};
    Harness line{RequestFramer(wire, framing), framing, wire};
    const auto t15 = nodebridge::modbus::t15(framing);
    const auto t35 = nodebridge::modbus::t35(framing);

    for (int step = 0; step < 256 && input.remaining_bytes() > 0; ++step) {
        switch (input.ConsumeIntegralInRange(0, 4)) {
            case 0: {  // bytes after a gap of 0..20 ms
                line.now += Micros(input.ConsumeIntegralInRange(0, 20000));
                const auto bytes = input.ConsumeBytes<std::uint8_t>(
                    input.ConsumeIntegralInRange<std::size_t>(0, 1100));
                line.receive(bytes);
                break;
            }
            case 1:  // time passes; the slave looks at its line
                line.now += Micros(input.ConsumeIntegralInRange(0, 20000));
                line.service();
                break;
            case 2:  // our own reply holds the line for up to 1 s
                line.framer.reply_until(line.now +
                                        Micros(input.ConsumeIntegralInRange(0, 1'000'000)));
                break;
            case 3: {  // a well-formed request, whole, after silence: handed on exactly
                const auto request = read_request(input);
                line.settle();
                line.frames.clear();
                line.receive(request);
                line.now += nodebridge::modbus::frame_time(framing, request.size()) + t35;
                line.service();
                if (line.frames.size() != 1 || line.frames[0] != request) FUZZ_FAIL();
                break;
            }
            case 4: {  // a request torn by a gap over t1.5 (wire only): never handed on whole
                if (!wire) break;
                const auto request = read_request(input);
                const auto cut = input.ConsumeIntegralInRange<std::size_t>(1, request.size() - 1);
                const auto gap = Micros(input.ConsumeIntegralInRange<long>(1, 10 * t35.count()));
                line.settle();
                line.frames.clear();
                line.receive(std::span(request).first(cut));
                line.now += nodebridge::modbus::frame_time(framing, cut) + t15 + gap;
                line.receive(std::span(request).subspan(cut));
                line.settle();
                for (const auto& frame : line.frames) {
                    if (frame == request) FUZZ_FAIL();
                }
                break;
            }
        }
    }
    line.settle();
    return 0;
}
