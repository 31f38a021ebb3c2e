// libFuzzer target for the Modbus TCP framing (src/sources/modbus/mbap.hpp): what the event
// loop does with the bytes a device sends. The input's last bytes choose a read (table,
// count) and a write request; the rest is the receive stream, consumed frame by frame with
// find_frame() until it needs more or reports a protocol error, as the loop does, and each
// frame's PDU is checked as a reply to the read and to the write. Traps when:
// - a frame is larger than what is left of the input or than kMaxAdu, smaller than a header
//   and a function code, or its PDU is not the frame's bytes after the header;
// - find_frame() gives another verdict (or another frame) on the whole of what is left than
//   on all of it but the last byte, unless that one said need_more;
// - decode_read_reply() says ok with other than `count` values, fills the wrong vector, or
//   sets an exception code without an exception;
// - check_write_reply() says ok to a reply that is not the request's echo;
// - an encoder makes an ADU that find_frame() does not read back whole, or one over kMaxAdu.
// Seeds in tests/fuzz/seeds/mbap.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <vector>

#include "mbap.hpp"

// Says which check failed (its line), then stops the run as a crash.
#define FUZZ_FAIL() (std::fprintf(stderr, "check failed at line %d\n", __LINE__), __builtin_trap())

namespace {

using namespace nodebridge;
using namespace nodebridge::modbus;

constexpr ModbusTable kTables[] = {ModbusTable::coil, ModbusTable::discrete, ModbusTable::input,
                                   ModbusTable::holding};

// A write request ADU the fuzzer chooses (its quantities mostly within the limits).
std::vector<std::uint8_t> make_write(FuzzedDataProvider& input) {
    std::vector<std::uint8_t> adu;
    const auto transaction = input.ConsumeIntegral<std::uint16_t>();
    const auto unit = input.ConsumeIntegral<std::uint8_t>();
    const auto address = input.ConsumeIntegral<std::uint16_t>();
    bool made = false;
    switch (input.ConsumeIntegralInRange(0, 3)) {
        case 0:
            made = mbap::encode_write_coil(transaction, unit, address, input.ConsumeBool(), adu);
            if (!made) FUZZ_FAIL();
            break;
        case 1:
            made = mbap::encode_write_register(transaction, unit, address,
                                               input.ConsumeIntegral<std::uint16_t>(), adu);
            if (!made) FUZZ_FAIL();
            break;
        case 2: {
            const auto n = input.ConsumeIntegralInRange<std::size_t>(0, 130);
            std::vector<std::uint16_t> values(n);
            for (auto& value : values) value = input.ConsumeIntegral<std::uint16_t>();
            made = mbap::encode_write_registers(transaction, unit, address, values, adu);
            if (made != (n >= 1 && n <= mbap::kMaxWriteRegisters)) FUZZ_FAIL();
            break;
        }
        default: {
            const auto n = input.ConsumeIntegralInRange<std::size_t>(0, 2000);
            // A repeating pattern, so the choice costs two bytes of the stream, not n.
            const auto pattern = input.ConsumeIntegral<std::uint8_t>();
            std::vector<std::uint8_t> bits(n, 0);
            for (std::size_t i = 0; i < n; ++i) bits[i] = (pattern >> (i % 8)) & 1U;
            made = mbap::encode_write_coils(transaction, unit, address, bits, adu);
            if (made != (n >= 1 && n <= mbap::kMaxWriteCoils)) FUZZ_FAIL();
            break;
        }
    }
    if (!made) {
        if (!adu.empty()) FUZZ_FAIL();
        return adu;
    }
    // The encoder's ADU reads back as one whole frame with its transaction and unit.
    mbap::Frame frame;
    if (adu.size() > mbap::kMaxAdu) FUZZ_FAIL();
    if (mbap::find_frame(adu, frame) != mbap::FrameStatus::frame) FUZZ_FAIL();
    if (frame.size != adu.size() || frame.transaction != transaction || frame.unit != unit) {
        FUZZ_FAIL();
    }
    if (mbap::request_pdu(adu).size() != adu.size() - mbap::kHeaderBytes) FUZZ_FAIL();
    return adu;
}

void check_read(ModbusTable table, std::uint16_t count, std::span<const std::uint8_t> pdu) {
    std::vector<std::uint16_t> registers = {1};
    std::vector<std::uint8_t> bits = {1};
    std::uint8_t code = 0xEE;
    const auto status = mbap::decode_read_reply(table, count, pdu, registers, bits, code);
    const bool bit_table = table == ModbusTable::coil || table == ModbusTable::discrete;
    if (status == mbap::ReplyStatus::ok) {
        if (count == 0 || count > mbap::max_read_count(table)) FUZZ_FAIL();
        if ((bit_table ? bits.size() : registers.size()) != count) FUZZ_FAIL();
        if (!(bit_table ? registers.empty() : bits.empty())) FUZZ_FAIL();
        for (const std::uint8_t bit : bits) {
            if (bit > 1) FUZZ_FAIL();
        }
        if (pdu.empty() || pdu[0] != mbap::read_function(table)) FUZZ_FAIL();
    } else {
        if (!registers.empty() || !bits.empty()) FUZZ_FAIL();
    }
    if (status == mbap::ReplyStatus::exception) {
        if (pdu.size() != 2 || pdu[0] != (mbap::read_function(table) | 0x80) || code != pdu[1]) {
            FUZZ_FAIL();
        }
        if (mbap::exception_text(code).empty()) FUZZ_FAIL();
    } else if (code != 0) {
        FUZZ_FAIL();
    }
    if (status == mbap::ReplyStatus::mismatch) FUZZ_FAIL();  // only writes echo
}

void check_write(std::span<const std::uint8_t> request_adu, std::span<const std::uint8_t> pdu) {
    const std::span<const std::uint8_t> request = mbap::request_pdu(request_adu);
    std::uint8_t code = 0xEE;
    const auto status = mbap::check_write_reply(request, pdu, code);
    if (request.empty() && status != mbap::ReplyStatus::wrong_function) FUZZ_FAIL();
    if (status == mbap::ReplyStatus::ok) {
        if (pdu.size() != 5 || !std::equal(pdu.begin(), pdu.end(), request.begin())) FUZZ_FAIL();
    }
    if (status == mbap::ReplyStatus::exception) {
        if (pdu.size() != 2 || pdu[0] != (request[0] | 0x80) || code != pdu[1]) FUZZ_FAIL();
    } else if (code != 0) {
        FUZZ_FAIL();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider input(data, size);
    // FuzzedDataProvider takes integers from the end: the choices are the input's last bytes
    // and the stream its first (so a seed is a capture followed by a few choice bytes).
    const ModbusTable table = kTables[input.ConsumeIntegralInRange<std::size_t>(0, 3)];
    const auto count = input.ConsumeBool() ? input.ConsumeIntegral<std::uint16_t>()
                                           : input.ConsumeIntegralInRange<std::uint16_t>(1, 130);
    {
        std::vector<std::uint8_t> read;
        const bool made = mbap::encode_read(1, 1, table, 0, count, read);
        if (made != (count >= 1 && count <= mbap::max_read_count(table))) FUZZ_FAIL();
        if (made && read.size() != 12) FUZZ_FAIL();
    }
    const std::vector<std::uint8_t> write = make_write(input);
    const std::vector<std::uint8_t> stream = input.ConsumeRemainingBytes<std::uint8_t>();

    std::span<const std::uint8_t> rest(stream);
    for (;;) {
        mbap::Frame frame;
        const mbap::FrameStatus status = mbap::find_frame(rest, frame);
        // A verdict on fewer bytes stands: a frame stays the same frame and an error the same
        // error when more bytes arrive (a split read must not change what the loop does).
        if (!rest.empty()) {
            mbap::Frame shorter;
            const auto before = mbap::find_frame(rest.first(rest.size() - 1), shorter);
            if (before != mbap::FrameStatus::need_more && before != status) FUZZ_FAIL();
            if (before == mbap::FrameStatus::frame && shorter.size != frame.size) FUZZ_FAIL();
        }
        if (status != mbap::FrameStatus::frame) break;
        if (frame.size > rest.size() || frame.size > mbap::kMaxAdu) FUZZ_FAIL();
        if (frame.size < mbap::kHeaderBytes + 1) FUZZ_FAIL();
        if (frame.pdu.data() != rest.data() + mbap::kHeaderBytes ||
            frame.pdu.size() != frame.size - mbap::kHeaderBytes) {
            FUZZ_FAIL();
        }
        check_read(table, count, frame.pdu);
        check_write(write, frame.pdu);
        rest = rest.subspan(frame.size);
    }
    return 0;
}
