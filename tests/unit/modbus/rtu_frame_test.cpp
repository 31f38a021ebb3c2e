// Modbus RTU frames over a byte stream (rtu_frame.hpp): encoded as libmodbus encodes them, and
// reply frames found by their own length and CRC however TCP cuts or joins them.

#include "rtu_frame.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <modbus.h>
#include <unistd.h>

#include <random>
#include <vector>

#include "rtu_framer.hpp"  // nodebridge-sim's CRC, written apart from ours

namespace nodebridge::modbus {
namespace {

using Bytes = std::vector<std::uint8_t>;

// What libmodbus sends for `raw` (unit and PDU) on an RTU line: the frame with its CRC.
Bytes libmodbus_frame(const Bytes& raw) {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    modbus_t* context = modbus_new_rtu("/dev/null", 19200, 'N', 8, 1);
    modbus_set_socket(context, fds[1]);
    EXPECT_EQ(modbus_send_raw_request(context, raw.data(), static_cast<int>(raw.size())),
              static_cast<int>(raw.size() + 2));
    modbus_set_socket(context, -1);
    modbus_free(context);
    Bytes out(raw.size() + 2);
    EXPECT_EQ(read(fds[0], out.data(), out.size()), static_cast<ssize_t>(out.size()));
    close(fds[0]);
    close(fds[1]);
    return out;
}

TEST(RtuFrame, EncodesRequestsAsLibmodbusDoes) {
    const std::vector<Bytes> pdus = {
        {0x03, 0x00, 0x00, 0x00, 0x0A},                    // read 10 holding registers
        {0x04, 0x75, 0x30, 0x00, 0x7D},                    // read 125 input registers
        {0x06, 0x00, 0x01, 0x00, 0x03},                    // write one register
        {0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 1, 2, 3, 4},  // write two registers
    };
    for (const Bytes& pdu : pdus) {
        for (std::uint8_t unit : {1, 17, 247}) {
            Bytes ours;
            rtu::append_frame(unit, pdu, ours);
            Bytes raw{unit};
            raw.insert(raw.end(), pdu.begin(), pdu.end());
            EXPECT_EQ(ours, libmodbus_frame(raw));
        }
    }
}

TEST(RtuFrame, CrcAgreesWithTheSimulatorsOwn) {
    std::mt19937 random(7);
    for (int round = 0; round < 200; ++round) {
        Bytes bytes(1 + random() % 255);
        for (auto& byte : bytes) byte = static_cast<std::uint8_t>(random());
        EXPECT_EQ(rtu::crc16(bytes), sim::crc16(bytes));
    }
}

Bytes frame_of(std::uint8_t unit, const Bytes& pdu) {
    Bytes out;
    rtu::append_frame(unit, pdu, out);
    return out;
}

TEST(RtuFrame, FindsEachKindOfReplyByItsOwnLength) {
    const std::vector<Bytes> replies = {
        frame_of(1, {0x03, 0x04, 0x00, 0x01, 0x00, 0x02}),  // read: 5 + byte count
        frame_of(2, {0x01, 0x01, 0x05}),                    // coils
        frame_of(3, {0x84, 0x02}),                          // exception: 5
        frame_of(4, {0x06, 0x00, 0x01, 0x00, 0x03}),        // write echo: 8
        frame_of(5, {0x0F, 0x00, 0x13, 0x00, 0x0A}),        // write coils: 8
    };
    for (const Bytes& reply : replies) {
        rtu::Frame frame;
        ASSERT_EQ(rtu::find_reply(reply, frame), rtu::FrameStatus::frame);
        EXPECT_EQ(frame.size, reply.size());
        EXPECT_EQ(frame.unit, reply[0]);
        EXPECT_EQ(Bytes(frame.pdu.begin(), frame.pdu.end()),
                  Bytes(reply.begin() + 1, reply.end() - 2));
        // Every shorter prefix needs more: a frame split across reads is waited for.
        for (std::size_t cut = 0; cut < reply.size(); ++cut) {
            EXPECT_EQ(rtu::find_reply(std::span(reply).first(cut), frame),
                      rtu::FrameStatus::need_more)
                << cut;
        }
    }
}

TEST(RtuFrame, TwoRepliesJoinedAreFoundOneAfterTheOther) {
    Bytes joined = frame_of(1, {0x03, 0x02, 0x00, 0x2A});
    const Bytes second = frame_of(2, {0x03, 0x02, 0x02, 0x9A});
    joined.insert(joined.end(), second.begin(), second.end());
    rtu::Frame frame;
    ASSERT_EQ(rtu::find_reply(joined, frame), rtu::FrameStatus::frame);
    EXPECT_EQ(frame.unit, 1);
    ASSERT_EQ(rtu::find_reply(std::span(joined).subspan(frame.size), frame),
              rtu::FrameStatus::frame);
    EXPECT_EQ(frame.unit, 2);
    EXPECT_EQ(frame.pdu[3], 0x9A);
}

TEST(RtuFrame, RefusesABadCrcAndAnUnknownFunction) {
    Bytes reply = frame_of(1, {0x03, 0x02, 0x00, 0x2A});
    reply[3] ^= 0x10;  // a bit flipped on the line
    rtu::Frame frame;
    EXPECT_EQ(rtu::find_reply(reply, frame), rtu::FrameStatus::bad_crc);
    EXPECT_EQ(rtu::find_reply(Bytes{0x01, 0x2B}, frame), rtu::FrameStatus::unknown_function);
    EXPECT_EQ(rtu::find_reply(Bytes{0x01, 0x00}, frame), rtu::FrameStatus::unknown_function);
    EXPECT_EQ(rtu::find_reply(Bytes{0x01, 0x87}, frame), rtu::FrameStatus::unknown_function);
    EXPECT_EQ(rtu::to_string(rtu::FrameStatus::bad_crc), "bad-crc");
}

}  // namespace
}  // namespace nodebridge::modbus
