// libFuzzer target for Modbus RTU replies over a byte stream (src/sources/modbus/rtu_frame.hpp):
// the input is a receive stream, consumed frame by frame with find_reply() as the event loop
// does, until it needs more or reports a bad frame. Traps when:
// - a frame is larger than what is left, larger than kMaxFrame or smaller than 5 bytes, its
//   PDU is not its bytes between the unit and the CRC, or its CRC does not check;
// - find_reply() gives another verdict (or frame) on all of what is left than on all but its
//   last byte, unless that one said need_more;
// - append_frame() of a frame's unit and PDU does not give the frame's bytes back.
// Seeds in tests/fuzz/seeds/rtu_reply.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <vector>

#include "rtu_frame.hpp"

// Says which check failed (its line), then stops the run as a crash.
#define FUZZ_FAIL() (std::fprintf(stderr, "check failed at line %d\n", __LINE__), __builtin_trap())

namespace rtu = nodebridge::modbus::rtu;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> rest(data, size);
    for (;;) {
        rtu::Frame frame;
        const auto status = rtu::find_reply(rest, frame);
        if (!rest.empty()) {
            rtu::Frame shorter;
            const auto before = rtu::find_reply(rest.first(rest.size() - 1), shorter);
            if (before != rtu::FrameStatus::need_more &&
                (before != status || (status == rtu::FrameStatus::frame &&
                                      (shorter.size != frame.size || shorter.unit != frame.unit))))
                FUZZ_FAIL();
        }
        if (status != rtu::FrameStatus::frame) break;
        if (frame.size > rest.size() || frame.size > rtu::kMaxFrame || frame.size < 5) FUZZ_FAIL();
        if (frame.pdu.data() != rest.data() + 1 || frame.pdu.size() != frame.size - 3) FUZZ_FAIL();
        if (frame.unit != rest[0]) FUZZ_FAIL();
        if (rtu::crc16(rest.first(frame.size)) != 0) FUZZ_FAIL();  // a frame with its CRC: 0
        std::vector<std::uint8_t> again;
        rtu::append_frame(frame.unit, frame.pdu, again);
        if (again.size() != frame.size) FUZZ_FAIL();
        for (std::size_t i = 0; i < again.size(); ++i) {
            if (again[i] != rest[i]) FUZZ_FAIL();
        }
        rest = rest.subspan(frame.size);
    }
    return 0;
}
