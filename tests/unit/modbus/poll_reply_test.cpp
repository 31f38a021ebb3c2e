// decode_reply() and split_in_place(): a reply's words become the request's attributes
// (bits of a register included), a reply too short or a bad bit is reported, and a refused
// request is replaced in place by its pieces.

#include "poll_reply.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace nodebridge::modbus {
namespace {

ModbusAttribute at(ModbusTable table, std::uint16_t address, ModbusType type,
                   std::optional<std::uint8_t> bit = std::nullopt) {
    ModbusAttribute a;
    a.name = "a" + std::to_string(address);
    a.table = table;
    a.address = address;
    a.type = type;
    a.bit = bit;
    return a;
}

using T = ModbusTable;
using Y = ModbusType;

TEST(PollReply, DecodesRegistersAndBitsOfARegister) {
    std::vector<ModbusAttribute> attrs = {
        at(T::holding, 10, Y::uint16), at(T::holding, 11, Y::boolean, 0),
        at(T::holding, 11, Y::boolean, 3), at(T::holding, 11, Y::boolean, 15)};
    attrs[3].byte_swap = true;  // 0x0080 swapped is 0x8000: bit 15 set
    const ReadRequest request{T::holding, 10, 2, {0, 1, 2, 3}};
    const std::vector<std::uint16_t> words = {4242, 0x0080 | 0x0008};
    std::vector<std::optional<Value>> values(attrs.size());
    EXPECT_TRUE(decode_reply(request, attrs, words, {}, values).empty());
    EXPECT_EQ(values[0], Value{std::int64_t{4242}});
    EXPECT_EQ(values[1], Value{false});
    EXPECT_EQ(values[2], Value{true});
    EXPECT_EQ(values[3], Value{true});
}

TEST(PollReply, ReportsABitOver15AndAttributesOutsideTheReply) {
    const std::vector<ModbusAttribute> attrs = {at(T::input, 0, Y::boolean, 16),
                                                at(T::input, 1, Y::float32)};
    const ReadRequest request{T::input, 0, 3, {0, 1}};
    const std::vector<std::uint16_t> short_reply = {1, 2};  // the float needs words 1 and 2
    std::vector<std::optional<Value>> values(attrs.size());
    EXPECT_EQ(decode_reply(request, attrs, short_reply, {}, values),
              (std::vector<std::size_t>{0, 1}));
    EXPECT_FALSE(values[0]);
    EXPECT_FALSE(values[1]);
}

TEST(PollReply, DecodesCoils) {
    const std::vector<ModbusAttribute> attrs = {at(T::coil, 4, Y::boolean),
                                                at(T::coil, 6, Y::boolean)};
    const ReadRequest request{T::coil, 4, 3, {0, 1}};
    const std::vector<std::uint8_t> bits = {1, 0, 0};
    std::vector<std::optional<Value>> values(attrs.size());
    EXPECT_TRUE(decode_reply(request, attrs, {}, bits, values).empty());
    EXPECT_EQ(values[0], Value{true});
    EXPECT_EQ(values[1], Value{false});
    EXPECT_EQ(decode_reply(request, attrs, {}, std::vector<std::uint8_t>{1}, values),
              (std::vector<std::size_t>{1}));
}

TEST(PollReply, SplitInPlaceKeepsTheOtherRequestsAndOrder) {
    const std::vector<ModbusAttribute> attrs = {
        at(T::input, 0, Y::uint16), at(T::input, 10, Y::uint16), at(T::holding, 0, Y::uint16)};
    std::vector<ReadRequest> requests = {{T::input, 0, 11, {0, 1}}, {T::holding, 0, 1, {2}}};
    EXPECT_EQ(split_in_place(requests, 0, attrs), 2u);
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0], (ReadRequest{T::input, 0, 1, {0}}));
    EXPECT_EQ(requests[1], (ReadRequest{T::input, 10, 1, {1}}));
    EXPECT_EQ(requests[2], (ReadRequest{T::holding, 0, 1, {2}}));
    // A single attribute cannot be split; an index past the end changes nothing.
    EXPECT_EQ(split_in_place(requests, 0, attrs), 0u);
    EXPECT_EQ(split_in_place(requests, 9, attrs), 0u);
    EXPECT_EQ(requests.size(), 3u);
}

}  // namespace
}  // namespace nodebridge::modbus
