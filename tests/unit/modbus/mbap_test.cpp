#include "mbap.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace nodebridge::modbus::mbap {
namespace {

using Bytes = std::vector<std::uint8_t>;

// An MBAP header (TCP 3.1.3) followed by `pdu`, written out by hand: the reference the
// encoders are compared with.
Bytes adu(std::uint16_t transaction, std::uint8_t unit, const Bytes& pdu) {
    const std::size_t length = 1 + pdu.size();
    Bytes bytes = {static_cast<std::uint8_t>(transaction >> 8),
                   static_cast<std::uint8_t>(transaction & 0xFF),
                   0x00,
                   0x00,
                   static_cast<std::uint8_t>(length >> 8),
                   static_cast<std::uint8_t>(length & 0xFF),
                   unit};
    bytes.insert(bytes.end(), pdu.begin(), pdu.end());
    return bytes;
}

Bytes pdu_of(std::span<const std::uint8_t> bytes) { return Bytes(bytes.begin(), bytes.end()); }

// ---- the examples of MODBUS Application Protocol Specification V1.1b3 ---------------------
// Each request PDU and reply PDU below is the example table of the section named, byte for
// byte; the MBAP header around a request is TCP 3.1.3's.

TEST(MbapSpecExamples, ReadCoils_6_1) {
    // "read discrete outputs 20-38": start 0x0013, quantity 0x0013 (19).
    Bytes out;
    ASSERT_TRUE(encode_read(0x0001, 0x11, ModbusTable::coil, 0x0013, 0x0013, out));
    EXPECT_EQ(out, adu(0x0001, 0x11, {0x01, 0x00, 0x13, 0x00, 0x13}));

    // Reply: byte count 3, CD 6B 05; outputs 27-20 = 1100 1101, 35-28 = 0110 1011, 38-36 = 101.
    std::vector<std::uint16_t> registers;
    std::vector<std::uint8_t> bits;
    std::uint8_t code = 99;
    EXPECT_EQ(decode_read_reply(ModbusTable::coil, 19, Bytes{0x01, 0x03, 0xCD, 0x6B, 0x05},
                                registers, bits, code),
              ReplyStatus::ok);
    EXPECT_EQ(bits, (Bytes{1, 0, 1, 1, 0, 0, 1, 1,  // 20..27
                           1, 1, 0, 1, 0, 1, 1, 0,  // 28..35
                           1, 0, 1}));              // 36..38
    EXPECT_TRUE(registers.empty());
    EXPECT_EQ(code, 0);
}

TEST(MbapSpecExamples, ReadDiscreteInputs_6_2) {
    // "read discrete inputs 197-218": start 0x00C4, quantity 0x0016 (22).
    Bytes out;
    ASSERT_TRUE(encode_read(0x0002, 0x11, ModbusTable::discrete, 0x00C4, 0x0016, out));
    EXPECT_EQ(out, adu(0x0002, 0x11, {0x02, 0x00, 0xC4, 0x00, 0x16}));

    // Reply: byte count 3, AC DB 35 (inputs 197-204, 205-212, 213-218 and two padding bits).
    std::vector<std::uint16_t> registers;
    std::vector<std::uint8_t> bits;
    std::uint8_t code = 0;
    EXPECT_EQ(decode_read_reply(ModbusTable::discrete, 22, Bytes{0x02, 0x03, 0xAC, 0xDB, 0x35},
                                registers, bits, code),
              ReplyStatus::ok);
    EXPECT_EQ(bits, (Bytes{0, 0, 1, 1, 0, 1, 0, 1,  // 0xAC
                           1, 1, 0, 1, 1, 0, 1, 1,  // 0xDB
                           1, 0, 1, 0, 1, 1}));     // 0x35, its top two bits padding
}

TEST(MbapSpecExamples, ReadHoldingRegisters_6_3) {
    // "read registers 108 - 110": start 0x006B, quantity 3.
    Bytes out;
    ASSERT_TRUE(encode_read(0x0003, 0x11, ModbusTable::holding, 0x006B, 3, out));
    EXPECT_EQ(out, adu(0x0003, 0x11, {0x03, 0x00, 0x6B, 0x00, 0x03}));

    // Reply: byte count 6, 02 2B 00 00 00 64 = 555, 0, 100.
    std::vector<std::uint16_t> registers;
    std::vector<std::uint8_t> bits;
    std::uint8_t code = 0;
    EXPECT_EQ(decode_read_reply(ModbusTable::holding, 3,
                                Bytes{0x03, 0x06, 0x02, 0x2B, 0x00, 0x00, 0x00, 0x64}, registers,
                                bits, code),
              ReplyStatus::ok);
    EXPECT_EQ(registers, (std::vector<std::uint16_t>{555, 0, 100}));
    EXPECT_TRUE(bits.empty());
}

TEST(MbapSpecExamples, ReadInputRegisters_6_4) {
    // "read input register 9": start 0x0008, quantity 1; reply 00 0A = 10.
    Bytes out;
    ASSERT_TRUE(encode_read(0x0004, 0x11, ModbusTable::input, 0x0008, 1, out));
    EXPECT_EQ(out, adu(0x0004, 0x11, {0x04, 0x00, 0x08, 0x00, 0x01}));

    std::vector<std::uint16_t> registers;
    std::vector<std::uint8_t> bits;
    std::uint8_t code = 0;
    EXPECT_EQ(decode_read_reply(ModbusTable::input, 1, Bytes{0x04, 0x02, 0x00, 0x0A}, registers,
                                bits, code),
              ReplyStatus::ok);
    EXPECT_EQ(registers, (std::vector<std::uint16_t>{10}));
}

TEST(MbapSpecExamples, WriteSingleCoil_6_5) {
    // "write Coil 173 ON": address 0x00AC, value FF 00; the reply echoes the request.
    Bytes out;
    ASSERT_TRUE(encode_write_coil(0x0005, 0x11, 0x00AC, true, out));
    EXPECT_EQ(out, adu(0x0005, 0x11, {0x05, 0x00, 0xAC, 0xFF, 0x00}));
    std::uint8_t code = 99;
    EXPECT_EQ(check_write_reply(request_pdu(out), Bytes{0x05, 0x00, 0xAC, 0xFF, 0x00}, code),
              ReplyStatus::ok);
    EXPECT_EQ(code, 0);

    // Off is 00 00 (APP 6.5: "0x0000 or 0xFF00").
    Bytes off;
    ASSERT_TRUE(encode_write_coil(0x0006, 0x11, 0x00AC, false, off));
    EXPECT_EQ(off, adu(0x0006, 0x11, {0x05, 0x00, 0xAC, 0x00, 0x00}));
}

TEST(MbapSpecExamples, WriteSingleRegister_6_6) {
    // "write register 2 to 00 03 hex": address 0x0001, value 0x0003; the reply echoes it.
    Bytes out;
    ASSERT_TRUE(encode_write_register(0x0007, 0x11, 0x0001, 0x0003, out));
    EXPECT_EQ(out, adu(0x0007, 0x11, {0x06, 0x00, 0x01, 0x00, 0x03}));
    std::uint8_t code = 0;
    EXPECT_EQ(check_write_reply(request_pdu(out), Bytes{0x06, 0x00, 0x01, 0x00, 0x03}, code),
              ReplyStatus::ok);
}

TEST(MbapSpecExamples, WriteMultipleCoils_6_11) {
    // "write a series of 10 coils starting at coil 20": address 0x0013, quantity 0x000A, byte
    // count 2, CD 01 (coils 27-20 = 1100 1101, 29-28 = 01); the reply: address and quantity.
    const Bytes coils = {1, 0, 1, 1, 0, 0, 1, 1, 1, 0};
    Bytes out;
    ASSERT_TRUE(encode_write_coils(0x0008, 0x11, 0x0013, coils, out));
    EXPECT_EQ(out, adu(0x0008, 0x11, {0x0F, 0x00, 0x13, 0x00, 0x0A, 0x02, 0xCD, 0x01}));
    std::uint8_t code = 0;
    EXPECT_EQ(check_write_reply(request_pdu(out), Bytes{0x0F, 0x00, 0x13, 0x00, 0x0A}, code),
              ReplyStatus::ok);
}

TEST(MbapSpecExamples, WriteMultipleRegisters_6_12) {
    // "write two registers starting at 2 to 00 0A and 01 02 hex": address 0x0001 (the table's
    // Starting Address), quantity 2, byte count 4; the reply: address and quantity.
    const std::vector<std::uint16_t> values = {0x000A, 0x0102};
    Bytes out;
    ASSERT_TRUE(encode_write_registers(0x0009, 0x11, 0x0001, values, out));
    EXPECT_EQ(out, adu(0x0009, 0x11, {0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A, 0x01, 0x02}));
    std::uint8_t code = 0;
    EXPECT_EQ(check_write_reply(request_pdu(out), Bytes{0x10, 0x00, 0x01, 0x00, 0x02}, code),
              ReplyStatus::ok);
}

TEST(MbapSpecExamples, ExceptionReply_7) {
    // Section 7's example: read coil status at 1185 (04A1 hex), one coil; the server answers
    // 81 02, "ILLEGAL DATA ADDRESS".
    Bytes out;
    ASSERT_TRUE(encode_read(0x000A, 0x0A, ModbusTable::coil, 0x04A1, 1, out));
    EXPECT_EQ(out, adu(0x000A, 0x0A, {0x01, 0x04, 0xA1, 0x00, 0x01}));
    std::vector<std::uint16_t> registers;
    std::vector<std::uint8_t> bits = {1, 1};
    std::uint8_t code = 0;
    EXPECT_EQ(decode_read_reply(ModbusTable::coil, 1, Bytes{0x81, 0x02}, registers, bits, code),
              ReplyStatus::exception);
    EXPECT_EQ(code, 2);
    EXPECT_TRUE(bits.empty());
    EXPECT_EQ(exception_text(code), "Illegal data address");
    EXPECT_EQ(exception_errno(code), EMBXILADD);
}

// ---- encoders ---------------------------------------------------------------------------

TEST(MbapEncode, RefusesQuantitiesOutsideTheFunctionsRangeAndAppendsNothing) {
    Bytes out = {0xAA};
    EXPECT_FALSE(encode_read(1, 1, ModbusTable::holding, 0, 0, out));
    EXPECT_FALSE(encode_read(1, 1, ModbusTable::holding, 0, 126, out));
    EXPECT_FALSE(encode_read(1, 1, ModbusTable::input, 0, 126, out));
    EXPECT_FALSE(encode_read(1, 1, ModbusTable::coil, 0, 2001, out));
    EXPECT_FALSE(encode_read(1, 1, ModbusTable::discrete, 0, 0, out));
    EXPECT_FALSE(encode_write_registers(1, 1, 0, std::vector<std::uint16_t>{}, out));
    EXPECT_FALSE(encode_write_registers(1, 1, 0, std::vector<std::uint16_t>(124, 7), out));
    EXPECT_FALSE(encode_write_coils(1, 1, 0, Bytes{}, out));
    EXPECT_FALSE(encode_write_coils(1, 1, 0, Bytes(1969, 1), out));
    EXPECT_EQ(out, Bytes{0xAA});
}

TEST(MbapEncode, TakesTheLimitsThemselvesAndStaysWithinTheLargestAdu) {
    Bytes out;
    ASSERT_TRUE(encode_read(1, 1, ModbusTable::holding, 0, 125, out));
    ASSERT_TRUE(encode_read(2, 1, ModbusTable::input, 0, 125, out));
    ASSERT_TRUE(encode_read(3, 1, ModbusTable::coil, 0, 2000, out));
    ASSERT_TRUE(encode_read(4, 1, ModbusTable::discrete, 0, 2000, out));
    EXPECT_EQ(out.size(), 4 * 12U);

    Bytes registers;
    ASSERT_TRUE(
        encode_write_registers(5, 1, 0xFFFF, std::vector<std::uint16_t>(123, 0x1234), registers));
    // 7 + function, address, quantity, byte count (6) + 246 = 259.
    ASSERT_EQ(registers.size(), 259U);
    EXPECT_LE(registers.size(), kMaxAdu);
    EXPECT_EQ(registers[4], 0x00);  // length 1 + 252 = 253 = 0x00FD
    EXPECT_EQ(registers[5], 0xFD);
    EXPECT_EQ(registers[10], 0x00);  // quantity 123
    EXPECT_EQ(registers[11], 123);
    EXPECT_EQ(registers[12], 246);  // byte count

    Bytes coils;
    ASSERT_TRUE(encode_write_coils(6, 1, 0, Bytes(1968, 1), coils));
    ASSERT_EQ(coils.size(), 7U + 6U + 246U);
    EXPECT_EQ(coils[10], 1968 >> 8);
    EXPECT_EQ(coils[11], 1968 & 0xFF);
    EXPECT_EQ(coils[12], 246);
    EXPECT_EQ(coils.back(), 0xFF);
}

TEST(MbapEncode, PacksCoilsLsbFirstWithZeroPaddingAndAnyNonZeroOn) {
    Bytes out;
    ASSERT_TRUE(encode_write_coils(1, 1, 0, Bytes{0, 2, 0, 0, 0, 0, 0, 0, 0xFF}, out));
    // 9 coils: byte count 2; coil 1 on (bit 1 of the first byte), coil 8 on (bit 0 of the
    // second), the second byte's other bits zero.
    EXPECT_EQ(pdu_of(request_pdu(out)), (Bytes{0x0F, 0x00, 0x00, 0x00, 0x09, 0x02, 0x02, 0x01}));
}

TEST(MbapEncode, AppendsToWhatIsThereAndRequestPduFindsEachOne) {
    Bytes out;
    ASSERT_TRUE(encode_write_register(0xBEEF, 0xFF, 0x1234, 0xABCD, out));
    const std::size_t first = out.size();
    ASSERT_TRUE(encode_read(0xBEF0, 0x01, ModbusTable::input, 0x0010, 2, out));
    EXPECT_EQ(out, [] {
        Bytes both = adu(0xBEEF, 0xFF, {0x06, 0x12, 0x34, 0xAB, 0xCD});
        const Bytes second = adu(0xBEF0, 0x01, {0x04, 0x00, 0x10, 0x00, 0x02});
        both.insert(both.end(), second.begin(), second.end());
        return both;
    }());
    EXPECT_EQ(pdu_of(request_pdu(out)), (Bytes{0x06, 0x12, 0x34, 0xAB, 0xCD}));
    EXPECT_EQ(pdu_of(request_pdu(std::span(out).subspan(first))),
              (Bytes{0x04, 0x00, 0x10, 0x00, 0x02}));
    EXPECT_TRUE(request_pdu(std::span(out).first(first - 1)).empty());
    EXPECT_TRUE(request_pdu({}).empty());
}

// ---- find_frame -------------------------------------------------------------------------

TEST(MbapFindFrame, NeedsMoreAtEveryByteUntilTheWholeFrameIsThere) {
    const Bytes reply = adu(0x1234, 0x07, {0x03, 0x04, 0x00, 0x01, 0x00, 0x02});
    for (std::size_t cut = 0; cut < reply.size(); ++cut) {
        Frame frame;
        frame.size = 99;
        EXPECT_EQ(find_frame(std::span(reply).first(cut), frame), FrameStatus::need_more)
            << "first " << cut << " bytes";
        EXPECT_EQ(frame.size, 99U) << "changed on need_more";
    }
    Frame frame;
    ASSERT_EQ(find_frame(reply, frame), FrameStatus::frame);
    EXPECT_EQ(frame.transaction, 0x1234);
    EXPECT_EQ(frame.unit, 0x07);
    EXPECT_EQ(frame.size, reply.size());
    EXPECT_EQ(pdu_of(frame.pdu), (Bytes{0x03, 0x04, 0x00, 0x01, 0x00, 0x02}));
    EXPECT_EQ(frame.pdu.data(), reply.data() + kHeaderBytes);  // points into the buffer
}

TEST(MbapFindFrame, ASplitAtAnyOffsetReassemblesToTheSameFrames) {
    // Two replies joined, as one read may bring them; fed as a receive buffer that grows by
    // two reads split at every offset.
    Bytes stream = adu(1, 1, {0x03, 0x02, 0xAB, 0xCD});
    const Bytes second = adu(2, 9, {0x81, 0x02});
    stream.insert(stream.end(), second.begin(), second.end());
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        Bytes buffer(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(cut));
        std::vector<Frame> frames;
        std::vector<Bytes> pdus;
        auto drain = [&] {
            Frame frame;
            FrameStatus status;
            while ((status = find_frame(buffer, frame)) == FrameStatus::frame) {
                frames.push_back(frame);
                pdus.push_back(pdu_of(frame.pdu));
                buffer.erase(buffer.begin(),
                             buffer.begin() + static_cast<std::ptrdiff_t>(frame.size));
            }
            EXPECT_EQ(status, FrameStatus::need_more) << "cut at " << cut;
        };
        drain();
        buffer.insert(buffer.end(), stream.begin() + static_cast<std::ptrdiff_t>(cut),
                      stream.end());
        drain();
        ASSERT_EQ(frames.size(), 2U) << "cut at " << cut;
        EXPECT_EQ(frames[0].transaction, 1);
        EXPECT_EQ(frames[0].unit, 1);
        EXPECT_EQ(frames[0].size, 11U);
        EXPECT_EQ(pdus[0], (Bytes{0x03, 0x02, 0xAB, 0xCD}));
        EXPECT_EQ(frames[1].transaction, 2);
        EXPECT_EQ(frames[1].unit, 9);
        EXPECT_EQ(frames[1].size, 9U);
        EXPECT_EQ(pdus[1], (Bytes{0x81, 0x02}));
        EXPECT_TRUE(buffer.empty());
    }
}

TEST(MbapFindFrame, LeavesTheBytesAfterTheFrameAlone) {
    Bytes stream = adu(5, 1, {0x06, 0x00, 0x01, 0x00, 0x03});
    stream.push_back(0x00);  // the start of the next frame
    stream.push_back(0x06);
    Frame frame;
    ASSERT_EQ(find_frame(stream, frame), FrameStatus::frame);
    EXPECT_EQ(frame.size, 12U);
    EXPECT_EQ(frame.pdu.size(), 5U);
    EXPECT_EQ(find_frame(std::span(stream).subspan(frame.size), frame), FrameStatus::need_more);
}

TEST(MbapFindFrame, NeverReadsPastTheSpanItIsGiven) {
    // The buffer beyond the span holds the rest of the frame; find_frame must not see it.
    const Bytes reply = adu(1, 1, {0x04, 0x02, 0x00, 0x0A});
    Frame frame;
    EXPECT_EQ(find_frame(std::span(reply).first(reply.size() - 1), frame), FrameStatus::need_more);
}

TEST(MbapFindFrame, RefusesLengthFieldsBelowTwoOrAbove254) {
    for (const std::uint16_t length : {0, 1, 255, 256, 0x7FFF, 0xFFFF}) {
        Bytes bytes = {0x00,
                       0x01,
                       0x00,
                       0x00,
                       static_cast<std::uint8_t>(length >> 8),
                       static_cast<std::uint8_t>(length & 0xFF)};
        Frame frame;
        frame.size = 99;
        // Known as soon as the length field is there, without waiting for the bytes it
        // announces: the stream cannot be trusted any more.
        EXPECT_EQ(find_frame(bytes, frame), FrameStatus::bad_length) << "length " << length;
        bytes.resize(300, 0x03);
        EXPECT_EQ(find_frame(bytes, frame), FrameStatus::bad_length) << "length " << length;
        EXPECT_EQ(frame.size, 99U);
    }
}

TEST(MbapFindFrame, TakesTheSmallestAndTheLargestLength) {
    // Length 2: the unit and a function code alone.
    const Bytes smallest = {0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x01, 0x83};
    Frame frame;
    ASSERT_EQ(find_frame(smallest, frame), FrameStatus::frame);
    EXPECT_EQ(frame.size, 8U);
    EXPECT_EQ(pdu_of(frame.pdu), Bytes{0x83});

    // Length 254: a 253-byte PDU, a 260-byte ADU (APP 4.1).
    Bytes largest = adu(0xFFFF, 0xFF, Bytes(kMaxPdu, 0x5A));
    ASSERT_EQ(largest.size(), kMaxAdu);
    ASSERT_EQ(find_frame(std::span(largest).first(kMaxAdu - 1), frame), FrameStatus::need_more);
    ASSERT_EQ(find_frame(largest, frame), FrameStatus::frame);
    EXPECT_EQ(frame.size, kMaxAdu);
    EXPECT_EQ(frame.pdu.size(), kMaxPdu);
    EXPECT_EQ(frame.transaction, 0xFFFF);
    EXPECT_EQ(frame.unit, 0xFF);
}

TEST(MbapFindFrame, RefusesAProtocolIdentifierOtherThanZeroAsSoonAsItIsThere) {
    const Bytes bytes = {0x00, 0x01, 0x00, 0x01, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x01};
    Frame frame;
    EXPECT_EQ(find_frame(std::span(bytes).first(3), frame), FrameStatus::need_more);
    for (std::size_t n = 4; n <= bytes.size(); ++n) {
        EXPECT_EQ(find_frame(std::span(bytes).first(n), frame), FrameStatus::bad_protocol) << n;
    }
    const Bytes high = {0x00, 0x01, 0x80, 0x00, 0x00, 0x02, 0x01, 0x03};
    EXPECT_EQ(find_frame(high, frame), FrameStatus::bad_protocol);
}

// ---- decode_read_reply ------------------------------------------------------------------

struct Decoded {
    ReplyStatus status;
    std::vector<std::uint16_t> registers;
    Bytes bits;
    std::uint8_t code;
};

Decoded decode(ModbusTable table, std::uint16_t count, const Bytes& pdu) {
    // Filled beforehand, to see that every outcome clears them.
    Decoded d{ReplyStatus::ok, {1, 2, 3}, {1, 1}, 77};
    d.status = decode_read_reply(table, count, pdu, d.registers, d.bits, d.code);
    return d;
}

TEST(MbapDecodeRead, RefusesAByteCountOtherThanTheRequestsAndSaysNothing) {
    // 2 registers asked for: byte count 4. Three registers' worth, or a count of 3 or 5.
    for (const Bytes& pdu :
         {Bytes{0x03, 0x06, 0, 1, 0, 2, 0, 3}, Bytes{0x03, 0x03, 0, 1, 0},
          Bytes{0x03, 0x05, 0, 1, 0, 2, 0}, Bytes{0x03, 0x02, 0, 1}, Bytes{0x03, 0x00}}) {
        const Decoded d = decode(ModbusTable::holding, 2, pdu);
        EXPECT_EQ(d.status, ReplyStatus::bad_length) << pdu.size();
        EXPECT_TRUE(d.registers.empty());
        EXPECT_TRUE(d.bits.empty());
        EXPECT_EQ(d.code, 0);
    }
    // The PDU's length is right for 2 registers, its byte count field says otherwise.
    for (const std::uint8_t byte_count : {0, 3, 5, 0xFF}) {
        EXPECT_EQ(decode(ModbusTable::holding, 2, {0x03, byte_count, 0, 1, 0, 2}).status,
                  ReplyStatus::bad_length)
            << int{byte_count};
    }
    EXPECT_EQ(decode(ModbusTable::coil, 9, {0x01, 0x03, 0xFF, 0x01}).status,
              ReplyStatus::bad_length);
    // 9 coils: 2 bytes; 1 or 3 are wrong.
    EXPECT_EQ(decode(ModbusTable::coil, 9, {0x01, 0x01, 0xFF}).status, ReplyStatus::bad_length);
    EXPECT_EQ(decode(ModbusTable::coil, 9, {0x01, 0x03, 0xFF, 0x01, 0x00}).status,
              ReplyStatus::bad_length);
    EXPECT_EQ(decode(ModbusTable::coil, 9, {0x01, 0x02, 0xFF, 0x01}).status, ReplyStatus::ok);
}

TEST(MbapDecodeRead, RefusesAPduLongerOrShorterThanItsByteCount) {
    // The byte count is right, the PDU is not: an odd byte of a register missing, or extra.
    EXPECT_EQ(decode(ModbusTable::input, 2, {0x04, 0x04, 0, 1, 0}).status, ReplyStatus::bad_length);
    EXPECT_EQ(decode(ModbusTable::input, 2, {0x04, 0x04, 0, 1, 0, 2, 0}).status,
              ReplyStatus::bad_length);
    EXPECT_EQ(decode(ModbusTable::input, 1, {0x04}).status, ReplyStatus::bad_length);
    EXPECT_EQ(decode(ModbusTable::input, 1, {}).status, ReplyStatus::bad_length);
    EXPECT_EQ(decode(ModbusTable::discrete, 8, {0x02, 0x01}).status, ReplyStatus::bad_length);
}

TEST(MbapDecodeRead, RefusesACountNoRequestCouldHaveAskedFor) {
    EXPECT_EQ(decode(ModbusTable::holding, 0, {0x03, 0x00}).status, ReplyStatus::bad_length);
    Bytes too_many = {0x03, 252};
    too_many.resize(2 + 252, 0);
    EXPECT_EQ(decode(ModbusTable::holding, 126, too_many).status, ReplyStatus::bad_length);
    EXPECT_EQ(decode(ModbusTable::coil, 2001, {0x01, 251}).status, ReplyStatus::bad_length);
}

TEST(MbapDecodeRead, ReadsTheLargestRepliesWhole) {
    Bytes registers = {0x03, 250};
    for (int i = 0; i < 125; ++i) {
        registers.push_back(static_cast<std::uint8_t>(i));
        registers.push_back(0xA0);
    }
    const Decoded r = decode(ModbusTable::holding, 125, registers);
    ASSERT_EQ(r.status, ReplyStatus::ok);
    ASSERT_EQ(r.registers.size(), 125U);
    EXPECT_EQ(r.registers[0], 0x00A0);
    EXPECT_EQ(r.registers[124], 0x7CA0);

    Bytes coils = {0x01, 250};
    coils.resize(2 + 250, 0x00);
    coils[2 + 249] = 0x80;  // coil 1999: bit 7 of the last byte
    const Decoded c = decode(ModbusTable::coil, 2000, coils);
    ASSERT_EQ(c.status, ReplyStatus::ok);
    ASSERT_EQ(c.bits.size(), 2000U);
    EXPECT_EQ(c.bits[1999], 1);
    EXPECT_EQ(c.bits[1998], 0);
}

TEST(MbapDecodeRead, IgnoresThePaddingBitsOfTheLastByte) {
    const Decoded d = decode(ModbusTable::coil, 3, {0x01, 0x01, 0xFD});  // 1111 1101
    ASSERT_EQ(d.status, ReplyStatus::ok);
    EXPECT_EQ(d.bits, (Bytes{1, 0, 1}));
}

TEST(MbapDecodeRead, ReportsAnExceptionReplyToItsOwnFunctionWithItsCode) {
    const Decoded d = decode(ModbusTable::input, 4, {0x84, 0x0B});
    EXPECT_EQ(d.status, ReplyStatus::exception);
    EXPECT_EQ(d.code, 0x0B);
    EXPECT_TRUE(d.registers.empty());
    // Any code byte is passed on, defined by APP 7 or not.
    EXPECT_EQ(decode(ModbusTable::holding, 1, {0x83, 0xEE}).code, 0xEE);
    // An exception reply is exactly two bytes.
    EXPECT_EQ(decode(ModbusTable::holding, 1, {0x83}).status, ReplyStatus::bad_length);
    const Decoded longer = decode(ModbusTable::holding, 1, {0x83, 0x02, 0x00});
    EXPECT_EQ(longer.status, ReplyStatus::bad_length);
    EXPECT_EQ(longer.code, 0);
}

TEST(MbapDecodeRead, CallsAReplyToAnotherFunctionWrong) {
    // A reply of FC4 to a holding read, the other way round, an exception reply of another
    // function, and function codes that are no read at all.
    EXPECT_EQ(decode(ModbusTable::holding, 1, {0x04, 0x02, 0x00, 0x01}).status,
              ReplyStatus::wrong_function);
    EXPECT_EQ(decode(ModbusTable::input, 1, {0x03, 0x02, 0x00, 0x01}).status,
              ReplyStatus::wrong_function);
    EXPECT_EQ(decode(ModbusTable::discrete, 1, {0x01, 0x01, 0x01}).status,
              ReplyStatus::wrong_function);
    const Decoded other = decode(ModbusTable::holding, 1, {0x84, 0x02});
    EXPECT_EQ(other.status, ReplyStatus::wrong_function);
    EXPECT_EQ(other.code, 0);
    EXPECT_EQ(decode(ModbusTable::coil, 1, {0x00}).status, ReplyStatus::wrong_function);
    EXPECT_EQ(decode(ModbusTable::coil, 1, {0x80, 0x01}).status, ReplyStatus::wrong_function);
    EXPECT_EQ(decode(ModbusTable::coil, 1, {0xFF, 0x01}).status, ReplyStatus::wrong_function);
}

// ---- check_write_reply ------------------------------------------------------------------

ReplyStatus check(const Bytes& request_adu, const Bytes& reply, std::uint8_t* code = nullptr) {
    std::uint8_t local = 77;
    const ReplyStatus status = check_write_reply(request_pdu(request_adu), reply, local);
    if (code != nullptr) *code = local;
    return status;
}

TEST(MbapCheckWrite, WantsTheEchoOfAddressAndValueOrQuantity) {
    Bytes coil, reg, coils, regs;
    ASSERT_TRUE(encode_write_coil(1, 1, 0x0102, true, coil));
    ASSERT_TRUE(encode_write_register(1, 1, 0x0102, 0x0304, reg));
    ASSERT_TRUE(encode_write_coils(1, 1, 0x0102, Bytes{1, 0, 1}, coils));
    ASSERT_TRUE(encode_write_registers(1, 1, 0x0102, std::vector<std::uint16_t>{7, 8}, regs));

    EXPECT_EQ(check(coil, {0x05, 0x01, 0x02, 0xFF, 0x00}), ReplyStatus::ok);
    EXPECT_EQ(check(coil, {0x05, 0x01, 0x02, 0x00, 0x00}), ReplyStatus::mismatch);  // value
    EXPECT_EQ(check(coil, {0x05, 0x01, 0x03, 0xFF, 0x00}), ReplyStatus::mismatch);  // address
    EXPECT_EQ(check(reg, {0x06, 0x01, 0x02, 0x03, 0x04}), ReplyStatus::ok);
    EXPECT_EQ(check(reg, {0x06, 0x01, 0x02, 0x03, 0x05}), ReplyStatus::mismatch);
    EXPECT_EQ(check(coils, {0x0F, 0x01, 0x02, 0x00, 0x03}), ReplyStatus::ok);
    EXPECT_EQ(check(coils, {0x0F, 0x01, 0x02, 0x00, 0x04}), ReplyStatus::mismatch);  // quantity
    EXPECT_EQ(check(regs, {0x10, 0x01, 0x02, 0x00, 0x02}), ReplyStatus::ok);
    EXPECT_EQ(check(regs, {0x10, 0x00, 0x02, 0x00, 0x02}), ReplyStatus::mismatch);
}

TEST(MbapCheckWrite, RefusesRepliesOfAnotherLength) {
    Bytes regs;
    ASSERT_TRUE(encode_write_registers(1, 1, 0x0102, std::vector<std::uint16_t>{7, 8}, regs));
    EXPECT_EQ(check(regs, {0x10, 0x01, 0x02, 0x00}), ReplyStatus::bad_length);
    EXPECT_EQ(check(regs, {0x10, 0x01, 0x02, 0x00, 0x02, 0x00}), ReplyStatus::bad_length);
    // The whole request echoed back is not FC16's reply either.
    EXPECT_EQ(check(regs, pdu_of(request_pdu(regs))), ReplyStatus::bad_length);
    EXPECT_EQ(check(regs, {}), ReplyStatus::bad_length);
    EXPECT_EQ(check(regs, {0x90}), ReplyStatus::bad_length);
}

TEST(MbapCheckWrite, ReportsExceptionsAndOtherFunctions) {
    Bytes reg;
    ASSERT_TRUE(encode_write_register(1, 1, 0x0102, 0x0304, reg));
    std::uint8_t code = 0;
    EXPECT_EQ(check(reg, {0x86, 0x03}, &code), ReplyStatus::exception);
    EXPECT_EQ(code, 3);
    EXPECT_EQ(check(reg, {0x90, 0x03}, &code), ReplyStatus::wrong_function);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(check(reg, {0x10, 0x01, 0x02, 0x00, 0x01}), ReplyStatus::wrong_function);
    EXPECT_EQ(check(reg, {0x05, 0x01, 0x02, 0x03, 0x04}), ReplyStatus::wrong_function);
}

TEST(MbapCheckWrite, ARequestThatIsNoWriteMatchesNoReply) {
    Bytes read;
    ASSERT_TRUE(encode_read(1, 1, ModbusTable::holding, 0x0102, 2, read));
    EXPECT_EQ(check(read, {0x03, 0x01, 0x02, 0x00, 0x02}), ReplyStatus::wrong_function);
    std::uint8_t code = 0;
    EXPECT_EQ(check_write_reply({}, Bytes{0x06, 0, 0, 0, 0}, code), ReplyStatus::wrong_function);
    EXPECT_EQ(check_write_reply(Bytes{0x06, 0, 0}, Bytes{0x06, 0, 0, 0, 0}, code),
              ReplyStatus::wrong_function);
}

// ---- exception codes --------------------------------------------------------------------

TEST(MbapExceptions, TextAndErrnoAreLibmodbussOwn) {
    // The codes APP 7 defines, and 7 that libmodbus names too.
    for (const std::uint8_t code : {1, 2, 3, 4, 5, 6, 7, 8, 10, 11}) {
        EXPECT_EQ(exception_errno(code), MODBUS_ENOBASE + code);
        EXPECT_EQ(exception_text(code), std::string(modbus_strerror(exception_errno(code))))
            << "code " << int{code};
    }
    EXPECT_EQ(exception_errno(1), EMBXILFUN);
    EXPECT_EQ(exception_errno(11), EMBXGTAR);
    EXPECT_EQ(exception_text(1), "Illegal function");
    EXPECT_EQ(exception_text(4), "Slave device or server failure");
    // Codes without a name: libmodbus's "Invalid exception code" (EMBBADEXC) text; at 12 and
    // above also its errno.
    for (const int code : {0, 9, 12, 0x80, 0xFF}) {
        EXPECT_EQ(exception_text(static_cast<std::uint8_t>(code)),
                  std::string(modbus_strerror(EMBBADEXC)))
            << code;
    }
    EXPECT_EQ(exception_errno(12), EMBBADEXC);
    EXPECT_EQ(exception_errno(0xFF), EMBBADEXC);
    EXPECT_EQ(exception_errno(0), MODBUS_ENOBASE);  // as libmodbus sets errno for code 0
}

TEST(MbapExceptions, StatusNames) {
    EXPECT_EQ(to_string(FrameStatus::need_more), "need-more");
    EXPECT_EQ(to_string(FrameStatus::frame), "frame");
    EXPECT_EQ(to_string(FrameStatus::bad_protocol), "bad-protocol");
    EXPECT_EQ(to_string(FrameStatus::bad_length), "bad-length");
    EXPECT_EQ(to_string(ReplyStatus::ok), "ok");
    EXPECT_EQ(to_string(ReplyStatus::exception), "exception");
    EXPECT_EQ(to_string(ReplyStatus::wrong_function), "wrong-function");
    EXPECT_EQ(to_string(ReplyStatus::bad_length), "bad-length");
    EXPECT_EQ(to_string(ReplyStatus::mismatch), "mismatch");
}

// ---- against a real libmodbus server ----------------------------------------------------

// A libmodbus TCP server on 127.0.0.1 (an ephemeral port) with a 64-item mapping of each
// table, answering one connection on its own thread until the client closes it or nothing
// arrives for 5 s.
class LibmodbusServer {
  public:
    LibmodbusServer() {
        context_ = modbus_new_tcp("127.0.0.1", 0);
        mapping_ = modbus_mapping_new(64, 64, 64, 64);
        if (context_ == nullptr || mapping_ == nullptr) return;
        for (int i = 0; i < 64; ++i) {
            mapping_->tab_bits[i] = (i % 3 == 0) ? 1 : 0;
            mapping_->tab_input_bits[i] = (i % 5 == 1) ? 1 : 0;
            mapping_->tab_registers[i] = static_cast<std::uint16_t>(0x1000 + i);
            mapping_->tab_input_registers[i] = static_cast<std::uint16_t>(0xF000 - i);
        }
        listen_fd_ = modbus_tcp_listen(context_, 1);
        if (listen_fd_ < 0) return;
        sockaddr_in address{};
        socklen_t size = sizeof(address);
        if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) return;
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~LibmodbusServer() {
        join();
        if (listen_fd_ >= 0) close(listen_fd_);
        if (mapping_ != nullptr) modbus_mapping_free(mapping_);
        if (context_ != nullptr) {
            modbus_close(context_);
            modbus_free(context_);
        }
    }
    LibmodbusServer(const LibmodbusServer&) = delete;
    LibmodbusServer& operator=(const LibmodbusServer&) = delete;

    int port() const { return port_; }
    // Waits for the server thread; the mapping is the test's to read after this.
    void join() {
        if (thread_.joinable()) thread_.join();
    }
    const modbus_mapping_t& mapping() const { return *mapping_; }

  private:
    void serve() {
        pollfd listening{listen_fd_, POLLIN, 0};
        if (poll(&listening, 1, 5000) != 1) return;
        int fd = listen_fd_;
        if (modbus_tcp_accept(context_, &fd) < 0) return;
        std::uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
        for (;;) {
            pollfd connection{modbus_get_socket(context_), POLLIN, 0};
            if (poll(&connection, 1, 5000) != 1) return;
            const int received = modbus_receive(context_, query);
            if (received < 0) return;  // closed by the client
            if (received > 0) modbus_reply(context_, query, received, mapping_);
        }
    }

    modbus_t* context_ = nullptr;
    modbus_mapping_t* mapping_ = nullptr;
    int listen_fd_ = -1;
    int port_ = 0;
    std::thread thread_;
};

// A blocking loopback client with 5 s timeouts.
int connect_to(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    timeval timeout{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

TEST(MbapLibmodbus, PipelinedRequestsOfEveryFunctionRoundTrip) {
    LibmodbusServer server;
    ASSERT_GT(server.port(), 0);
    const int fd = connect_to(server.port());
    ASSERT_GE(fd, 0);

    // Every request at once, one write() (pipelined: libmodbus answers them in turn).
    Bytes out;
    std::map<std::uint16_t, Bytes> requests;  // transaction -> request ADU
    auto add = [&](std::uint16_t transaction, bool encoded) {
        ASSERT_TRUE(encoded);
        const std::span<const std::uint8_t> all(out);
        Bytes last;
        std::size_t at = 0;
        Frame frame;
        while (find_frame(all.subspan(at), frame) == FrameStatus::frame) {
            last.assign(all.begin() + static_cast<std::ptrdiff_t>(at),
                        all.begin() + static_cast<std::ptrdiff_t>(at + frame.size));
            at += frame.size;
        }
        requests[transaction] = last;
    };
    add(1, encode_read(1, 1, ModbusTable::coil, 2, 19, out));
    add(2, encode_read(2, 1, ModbusTable::discrete, 0, 64, out));
    add(3, encode_read(3, 1, ModbusTable::holding, 10, 5, out));
    add(4, encode_read(4, 1, ModbusTable::input, 60, 4, out));
    add(5, encode_write_coil(5, 1, 1, true, out));
    add(6, encode_write_register(6, 1, 20, 0xBEEF, out));
    add(7,
        encode_write_registers(7, 1, 30, std::vector<std::uint16_t>{0x0102, 0x0304, 0x0506}, out));
    add(8, encode_write_coils(8, 1, 40, Bytes{1, 1, 0, 1, 0, 0, 0, 0, 1, 1}, out));
    add(9, encode_read(9, 1, ModbusTable::holding, 60, 10, out));  // past the mapping: 02
    add(10, encode_write_register(10, 1, 64, 1, out));             // past the mapping: 02
    ASSERT_EQ(write(fd, out.data(), out.size()), static_cast<ssize_t>(out.size()));

    // Read until every reply is in, framing with find_frame.
    std::map<std::uint16_t, Bytes> replies;
    Bytes buffer;
    while (replies.size() < requests.size()) {
        std::uint8_t chunk[512];
        const ssize_t got = read(fd, chunk, sizeof(chunk));
        ASSERT_GT(got, 0) << "replies so far: " << replies.size();
        buffer.insert(buffer.end(), chunk, chunk + got);
        Frame frame;
        FrameStatus status;
        while ((status = find_frame(buffer, frame)) == FrameStatus::frame) {
            EXPECT_EQ(frame.unit, 1);
            replies[frame.transaction] = pdu_of(frame.pdu);
            buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(frame.size));
        }
        ASSERT_EQ(status, FrameStatus::need_more);
    }
    close(fd);
    server.join();
    const modbus_mapping_t& mapping = server.mapping();

    std::vector<std::uint16_t> registers;
    Bytes bits;
    std::uint8_t code = 0;
    ASSERT_EQ(decode_read_reply(ModbusTable::coil, 19, replies[1], registers, bits, code),
              ReplyStatus::ok);
    for (int i = 0; i < 19; ++i) EXPECT_EQ(bits[i], (2 + i) % 3 == 0 ? 1 : 0) << i;
    ASSERT_EQ(decode_read_reply(ModbusTable::discrete, 64, replies[2], registers, bits, code),
              ReplyStatus::ok);
    for (int i = 0; i < 64; ++i) EXPECT_EQ(bits[i], i % 5 == 1 ? 1 : 0) << i;
    ASSERT_EQ(decode_read_reply(ModbusTable::holding, 5, replies[3], registers, bits, code),
              ReplyStatus::ok);
    EXPECT_EQ(registers, (std::vector<std::uint16_t>{0x100A, 0x100B, 0x100C, 0x100D, 0x100E}));
    ASSERT_EQ(decode_read_reply(ModbusTable::input, 4, replies[4], registers, bits, code),
              ReplyStatus::ok);
    EXPECT_EQ(registers,
              (std::vector<std::uint16_t>{0xF000 - 60, 0xF000 - 61, 0xF000 - 62, 0xF000 - 63}));
    for (const std::uint16_t transaction : {5, 6, 7, 8}) {
        EXPECT_EQ(check_write_reply(request_pdu(requests[transaction]), replies[transaction], code),
                  ReplyStatus::ok)
            << "transaction " << transaction;
    }
    EXPECT_EQ(decode_read_reply(ModbusTable::holding, 10, replies[9], registers, bits, code),
              ReplyStatus::exception);
    EXPECT_EQ(code, 2);
    EXPECT_EQ(exception_errno(code), EMBXILADD);
    EXPECT_EQ(check_write_reply(request_pdu(requests[10]), replies[10], code),
              ReplyStatus::exception);
    EXPECT_EQ(code, 2);

    // The writes reached the server's tables.
    EXPECT_EQ(mapping.tab_bits[1], 1);
    EXPECT_EQ(mapping.tab_registers[20], 0xBEEF);
    EXPECT_EQ(mapping.tab_registers[30], 0x0102);
    EXPECT_EQ(mapping.tab_registers[31], 0x0304);
    EXPECT_EQ(mapping.tab_registers[32], 0x0506);
    const Bytes written = {1, 1, 0, 1, 0, 0, 0, 0, 1, 1};
    for (int i = 0; i < 10; ++i) EXPECT_EQ(mapping.tab_bits[40 + i], written[i]) << i;
}

}  // namespace
}  // namespace nodebridge::modbus::mbap
