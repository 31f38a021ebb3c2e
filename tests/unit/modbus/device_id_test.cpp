// Read Device Identification PDUs (src/sources/modbus/device_id.cpp; MODBUS Application
// Protocol Specification V1.1b3, section 6.21): the request, the server's answer for stream
// and individual access, and the client's decoding of good and hostile replies.

#include "device_id.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nodebridge::modbus::device_id {
namespace {

using Bytes = std::vector<std::uint8_t>;

const std::vector<Object> kObjects = {
    {0x00, "ACME"}, {0x01, "PM-10"}, {0x02, "2.14"}, {0x04, "Panel meter"}};

TEST(DeviceId, RequestIsFunction43MeiType14) {
    EXPECT_EQ(encode_request(), (Bytes{0x2B, 0x0E, 0x01, 0x00}));
    EXPECT_EQ(encode_request(kReadOne, 0x02), (Bytes{0x2B, 0x0E, 0x04, 0x02}));
}

TEST(DeviceId, BasicStreamAnswersTheThreeBasicObjectsAndDecodesBack) {
    const Bytes pdu = answer(encode_request(), kObjects, 0x81);
    const Bytes expected = {0x2B, 0x0E, 0x01, 0x81, 0x00, 0x00, 0x03, 0x00, 4, 'A', 'C', 'M', 'E',
                            0x01, 5,    'P',  'M',  '-',  '1',  '0',  0x02, 4, '2', '.', '1', '4'};
    EXPECT_EQ(pdu, expected);
    Reply reply;
    std::uint8_t code = 0xFF;
    ASSERT_EQ(decode_reply(pdu, reply, code), Status::ok);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(reply.conformity, 0x81);
    EXPECT_FALSE(reply.more);
    EXPECT_EQ(find(reply, kVendorName), "ACME");
    EXPECT_EQ(find(reply, kProductCode), "PM-10");
    EXPECT_EQ(find(reply, kRevision), "2.14");
    EXPECT_EQ(find(reply, 0x04), "");
}

TEST(DeviceId, RegularStreamAddsTheRegularObjects) {
    Reply reply;
    std::uint8_t code = 0;
    ASSERT_EQ(decode_reply(answer(encode_request(kReadRegular), kObjects, 0x82), reply, code),
              Status::ok);
    ASSERT_EQ(reply.objects.size(), 4u);
    EXPECT_EQ(find(reply, 0x04), "Panel meter");
}

TEST(DeviceId, AStreamFromAnUnknownObjectRestartsAtZero) {
    Reply reply;
    std::uint8_t code = 0;
    ASSERT_EQ(decode_reply(answer(encode_request(kReadBasic, 0x03), kObjects, 0x81), reply, code),
              Status::ok);
    ASSERT_EQ(reply.objects.size(), 3u);
    EXPECT_EQ(reply.objects.front().first, kVendorName);
}

TEST(DeviceId, IndividualAccessAndItsExceptions) {
    Reply reply;
    std::uint8_t code = 0;
    ASSERT_EQ(decode_reply(answer(encode_request(kReadOne, 0x01), kObjects, 0x81), reply, code),
              Status::ok);
    ASSERT_EQ(reply.objects.size(), 1u);
    EXPECT_EQ(find(reply, kProductCode), "PM-10");
    // An object the device lacks: exception 02; a Read Device ID code outside 1..4: 03.
    EXPECT_EQ(answer(encode_request(kReadOne, 0x05), kObjects, 0x81), (Bytes{0xAB, 0x02}));
    EXPECT_EQ(answer(encode_request(0x05, 0x00), kObjects, 0x81), (Bytes{0xAB, 0x03}));
    EXPECT_EQ(answer(Bytes{0x2B, 0x0E, 0x01}, kObjects, 0x81), (Bytes{0xAB, 0x03}));
    ASSERT_EQ(decode_reply(Bytes{0xAB, 0x01}, reply, code), Status::exception);
    EXPECT_EQ(code, 0x01);
}

TEST(DeviceId, AReplyTooLongForOnePduSaysMoreFollows) {
    std::vector<Object> big = {
        {0x00, std::string(125, 'v')}, {0x01, std::string(125, 'p')}, {0x02, "1.0"}};
    Reply reply;
    std::uint8_t code = 0;
    const Bytes pdu = answer(encode_request(), big, 0x81);
    EXPECT_LE(pdu.size(), 253u);
    ASSERT_EQ(decode_reply(pdu, reply, code), Status::ok);
    EXPECT_TRUE(reply.more);
    EXPECT_EQ(reply.next_object, 0x01);
    ASSERT_EQ(reply.objects.size(), 1u);
    // Asking on from the next object gets the rest.
    ASSERT_EQ(
        decode_reply(answer(encode_request(kReadBasic, reply.next_object), big, 0x81), reply, code),
        Status::ok);
    EXPECT_FALSE(reply.more);
    EXPECT_EQ(reply.objects.size(), 2u);
}

TEST(DeviceId, HostileRepliesAreRefusedNeverOverread) {
    Reply reply;
    std::uint8_t code = 0;
    EXPECT_EQ(decode_reply(Bytes{}, reply, code), Status::malformed);
    EXPECT_EQ(decode_reply(Bytes{0x03, 0x02, 0x00, 0x01}, reply, code), Status::wrong_function);
    EXPECT_EQ(decode_reply(Bytes{0x2B, 0x0D, 0, 0, 0, 0, 0}, reply, code), Status::wrong_function);
    EXPECT_EQ(decode_reply(Bytes{0x2B, 0x0E, 1, 1, 0}, reply, code), Status::malformed);
    // Says one object of 9 bytes, has 2.
    EXPECT_EQ(decode_reply(Bytes{0x2B, 0x0E, 1, 1, 0, 0, 1, 0x00, 9, 'A', 'B'}, reply, code),
              Status::malformed);
    // Says two objects, has one.
    EXPECT_EQ(decode_reply(Bytes{0x2B, 0x0E, 1, 1, 0, 0, 2, 0x00, 1, 'A'}, reply, code),
              Status::malformed);
    // Bytes left over after the objects.
    EXPECT_EQ(decode_reply(Bytes{0x2B, 0x0E, 1, 1, 0, 0, 1, 0x00, 1, 'A', 'x'}, reply, code),
              Status::malformed);
    EXPECT_EQ(decode_reply(Bytes{0xAB, 0x01, 0x00}, reply, code), Status::malformed);
}

}  // namespace
}  // namespace nodebridge::modbus::device_id
