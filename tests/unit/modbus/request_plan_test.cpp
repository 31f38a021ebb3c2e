#include "request_plan.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <vector>

namespace nodebridge::modbus {
namespace {

ModbusAttribute at(ModbusTable table, std::uint16_t address, ModbusType type,
                   std::uint16_t length = 0) {
    ModbusAttribute a;
    a.name = "a" + std::to_string(address);
    a.table = table;
    a.address = address;
    a.type = type;
    a.length = length;
    return a;
}

using T = ModbusTable;
using Y = ModbusType;

TEST(RequestPlan, EmptyGivesNothing) {
    const auto plan = plan_requests({}, 0);
    EXPECT_TRUE(plan.requests.empty());
    EXPECT_TRUE(plan.rejected.empty());
}

TEST(RequestPlan, AdjacentAttributesMerge) {
    const std::vector<ModbusAttribute> attrs = {
        at(T::input, 2, Y::float32), at(T::input, 0, Y::float32), at(T::input, 4, Y::float32)};
    const auto plan = plan_requests(attrs, 0);
    ASSERT_EQ(plan.requests.size(), 1u);
    EXPECT_EQ(plan.requests[0], (ReadRequest{T::input, 0, 6, {1, 0, 2}}));
}

TEST(RequestPlan, GapSplitsWithoutMaxGap) {
    const std::vector<ModbusAttribute> attrs = {at(T::holding, 0, Y::uint16),
                                                at(T::holding, 3, Y::uint16)};
    const auto plan = plan_requests(attrs, 0);
    ASSERT_EQ(plan.requests.size(), 2u);
    EXPECT_EQ(plan.requests[0], (ReadRequest{T::holding, 0, 1, {0}}));
    EXPECT_EQ(plan.requests[1], (ReadRequest{T::holding, 3, 1, {1}}));
}

TEST(RequestPlan, MaxGapSpansUnmappedRegisters) {
    const std::vector<ModbusAttribute> attrs = {
        at(T::holding, 0, Y::uint16), at(T::holding, 3, Y::uint16), at(T::holding, 7, Y::uint32)};
    // gaps are 2 (1..2) and 3 (4..6)
    auto plan = plan_requests(attrs, 2);
    ASSERT_EQ(plan.requests.size(), 2u);
    EXPECT_EQ(plan.requests[0], (ReadRequest{T::holding, 0, 4, {0, 1}}));
    EXPECT_EQ(plan.requests[1], (ReadRequest{T::holding, 7, 2, {2}}));
    plan = plan_requests(attrs, 3);
    ASSERT_EQ(plan.requests.size(), 1u);
    EXPECT_EQ(plan.requests[0], (ReadRequest{T::holding, 0, 9, {0, 1, 2}}));
}

TEST(RequestPlan, TablesNeverMergeAndSortInTableOrder) {
    const std::vector<ModbusAttribute> attrs = {
        at(T::holding, 0, Y::uint16), at(T::input, 1, Y::uint16), at(T::coil, 0, Y::boolean),
        at(T::discrete, 1, Y::boolean), at(T::input, 0, Y::uint16)};
    const auto plan = plan_requests(attrs, 10);
    ASSERT_EQ(plan.requests.size(), 4u);
    EXPECT_EQ(plan.requests[0], (ReadRequest{T::coil, 0, 1, {2}}));
    EXPECT_EQ(plan.requests[1], (ReadRequest{T::discrete, 1, 1, {3}}));
    EXPECT_EQ(plan.requests[2], (ReadRequest{T::input, 0, 2, {4, 1}}));
    EXPECT_EQ(plan.requests[3], (ReadRequest{T::holding, 0, 1, {0}}));
}

TEST(RequestPlan, RegisterLimitSplitsAt125) {
    std::vector<ModbusAttribute> attrs;
    for (std::uint16_t a = 0; a < 130; a += 2) attrs.push_back(at(T::holding, a, Y::float32));
    const auto plan = plan_requests(attrs, 0);
    ASSERT_EQ(plan.requests.size(), 2u);
    // 62 float32 = 124 registers; the 63rd would make 126.
    EXPECT_EQ(plan.requests[0].address, 0);
    EXPECT_EQ(plan.requests[0].count, 124);
    EXPECT_EQ(plan.requests[0].attributes.size(), 62u);
    EXPECT_EQ(plan.requests[1].address, 124);
    EXPECT_EQ(plan.requests[1].count, 6);
}

TEST(RequestPlan, ExactlyAtTheLimitIsOneRequest) {
    std::vector<ModbusAttribute> attrs;
    for (std::uint16_t a = 0; a < 125; ++a) attrs.push_back(at(T::input, a, Y::uint16));
    auto plan = plan_requests(attrs, 0);
    ASSERT_EQ(plan.requests.size(), 1u);
    EXPECT_EQ(plan.requests[0].count, 125);
    attrs.push_back(at(T::input, 125, Y::uint16));
    plan = plan_requests(attrs, 0);
    ASSERT_EQ(plan.requests.size(), 2u);
    EXPECT_EQ(plan.requests[1], (ReadRequest{T::input, 125, 1, {125}}));
}

TEST(RequestPlan, BitLimitIs2000) {
    std::vector<ModbusAttribute> attrs = {at(T::coil, 0, Y::boolean), at(T::coil, 1999, Y::boolean),
                                          at(T::coil, 2000, Y::boolean)};
    const auto plan = plan_requests(attrs, 2000);
    ASSERT_EQ(plan.requests.size(), 2u);
    EXPECT_EQ(plan.requests[0], (ReadRequest{T::coil, 0, 2000, {0, 1}}));
    EXPECT_EQ(plan.requests[1], (ReadRequest{T::coil, 2000, 1, {2}}));
}

TEST(RequestPlan, MaxGapNeverExceedsTheLimit) {
    const std::vector<ModbusAttribute> attrs = {at(T::holding, 0, Y::uint16),
                                                at(T::holding, 124, Y::uint16),
                                                at(T::holding, 125, Y::uint16)};
    const auto plan = plan_requests(attrs, 200);
    ASSERT_EQ(plan.requests.size(), 2u);
    EXPECT_EQ(plan.requests[0], (ReadRequest{T::holding, 0, 125, {0, 1}}));
    EXPECT_EQ(plan.requests[1], (ReadRequest{T::holding, 125, 1, {2}}));
}

TEST(RequestPlan, OverlappingAttributesShareARequest) {
    const std::vector<ModbusAttribute> attrs = {at(T::holding, 10, Y::uint32),
                                                at(T::holding, 11, Y::uint16)};
    const auto plan = plan_requests(attrs, 0);
    ASSERT_EQ(plan.requests.size(), 1u);
    EXPECT_EQ(plan.requests[0], (ReadRequest{T::holding, 10, 2, {0, 1}}));
}

TEST(RequestPlan, StringsUseTheirLength) {
    const std::vector<ModbusAttribute> attrs = {at(T::holding, 0, Y::string, 8),
                                                at(T::holding, 8, Y::uint16)};
    const auto plan = plan_requests(attrs, 0);
    ASSERT_EQ(plan.requests.size(), 1u);
    EXPECT_EQ(plan.requests[0].count, 9);
}

TEST(RequestPlan, RejectsWhatCannotBeRead) {
    const std::vector<ModbusAttribute> attrs = {
        at(T::holding, 0, Y::string, 0),     // no length
        at(T::holding, 10, Y::string, 126),  // over the limit
        at(T::holding, 65535, Y::uint32),    // past the end of the address space
        at(T::holding, 65535, Y::uint16)};   // the last register is fine
    const auto plan = plan_requests(attrs, 0);
    EXPECT_EQ(plan.rejected, (std::vector<std::size_t>{0, 1, 2}));
    ASSERT_EQ(plan.requests.size(), 1u);
    EXPECT_EQ(plan.requests[0], (ReadRequest{T::holding, 65535, 1, {3}}));
}

TEST(RequestPlan, DeterministicForEqualAddresses) {
    const std::vector<ModbusAttribute> attrs = {at(T::input, 5, Y::uint16),
                                                at(T::input, 5, Y::uint16)};
    const auto plan = plan_requests(attrs, 0);
    ASSERT_EQ(plan.requests.size(), 1u);
    EXPECT_EQ(plan.requests[0].attributes, (std::vector<std::size_t>{0, 1}));
}

TEST(RequestPlan, MaxRegistersCapsEachRegisterRequest) {
    std::vector<ModbusAttribute> attrs;
    for (std::uint16_t k = 0; k < 20; ++k) attrs.push_back(at(T::input, 2 * k, Y::float32));
    const auto plan = plan_requests(attrs, 0, 16);
    ASSERT_EQ(plan.requests.size(), 3u);  // 16 + 16 + 8 registers, never a float torn apart
    EXPECT_EQ(plan.requests[0].count, 16);
    EXPECT_EQ(plan.requests[1].address, 16);
    EXPECT_EQ(plan.requests[1].count, 16);
    EXPECT_EQ(plan.requests[2].address, 32);
    EXPECT_EQ(plan.requests[2].count, 8);
    EXPECT_TRUE(plan.rejected.empty());
    // An attribute wider than the limit cannot be read at all.
    const std::vector<ModbusAttribute> wide = {at(T::holding, 0, Y::float64)};
    EXPECT_EQ(plan_requests(wide, 0, 2).rejected, std::vector<std::size_t>{0});
    // Bits keep their own limit.
    std::vector<ModbusAttribute> coils;
    for (std::uint16_t k = 0; k < 40; ++k) coils.push_back(at(T::coil, k, Y::boolean));
    EXPECT_EQ(plan_requests(coils, 0, 16).requests.size(), 1u);
}

TEST(RequestPlan, FunctionChoosesTheTableRead) {
    auto a = at(T::input, 0, Y::uint16);
    a.function = 3;  // an input register this device serves through function 3
    auto b = at(T::holding, 1, Y::uint16);
    auto c = at(T::holding, 5, Y::uint16);
    c.function = 4;
    const std::vector<ModbusAttribute> attrs = {a, b, c};
    EXPECT_EQ(read_table(a), T::holding);
    EXPECT_EQ(read_table(c), T::input);
    EXPECT_EQ(read_table(b), T::holding);
    const auto plan = plan_requests(attrs, 0);
    ASSERT_EQ(plan.requests.size(), 2u);
    EXPECT_EQ(plan.requests[0], (ReadRequest{T::input, 5, 1, {2}}));
    EXPECT_EQ(plan.requests[1], (ReadRequest{T::holding, 0, 2, {0, 1}}));
}

TEST(RequestPlan, BitsOfOneRegisterShareARequest) {
    auto a = at(T::holding, 7, Y::boolean);
    a.bit = 0;
    auto b = at(T::holding, 7, Y::boolean);
    b.bit = 15;
    const std::vector<ModbusAttribute> attrs = {a, b, at(T::holding, 8, Y::uint16)};
    const auto plan = plan_requests(attrs, 0);
    ASSERT_EQ(plan.requests.size(), 1u);
    EXPECT_EQ(plan.requests[0], (ReadRequest{T::holding, 7, 2, {0, 1, 2}}));
}

TEST(SplitRequest, FirstIntoRunsOfAdjacentAttributes) {
    const std::vector<ModbusAttribute> attrs = {
        at(T::input, 0, Y::float32), at(T::input, 2, Y::float32), at(T::input, 10, Y::uint16)};
    const auto plan = plan_requests(attrs, 20);  // one request spanning 4..9, unmapped
    ASSERT_EQ(plan.requests.size(), 1u);
    const auto pieces = split_request(plan.requests[0], attrs);
    ASSERT_EQ(pieces.size(), 2u);
    EXPECT_EQ(pieces[0], (ReadRequest{T::input, 0, 4, {0, 1}}));
    EXPECT_EQ(pieces[1], (ReadRequest{T::input, 10, 1, {2}}));
}

TEST(SplitRequest, ThenIntoSingleAttributesThenNoFurther) {
    auto a = at(T::holding, 3, Y::boolean);
    a.bit = 1;
    auto b = at(T::holding, 3, Y::boolean);
    b.bit = 2;
    const std::vector<ModbusAttribute> attrs = {at(T::holding, 0, Y::uint16),
                                                at(T::holding, 1, Y::uint32), a, b};
    const auto plan = plan_requests(attrs, 0);
    ASSERT_EQ(plan.requests.size(), 1u);
    const auto pieces = split_request(plan.requests[0], attrs);
    ASSERT_EQ(pieces.size(), 3u);
    EXPECT_EQ(pieces[0], (ReadRequest{T::holding, 0, 1, {0}}));
    EXPECT_EQ(pieces[1], (ReadRequest{T::holding, 1, 2, {1}}));
    EXPECT_EQ(pieces[2], (ReadRequest{T::holding, 3, 1, {2, 3}}));  // one register, two bits
    for (const auto& piece : pieces) EXPECT_TRUE(split_request(piece, attrs).empty());
}

TEST(SplitRequest, RefusesIndicesOutsideTheAttributes) {
    const std::vector<ModbusAttribute> attrs = {at(T::holding, 0, Y::uint16)};
    EXPECT_TRUE(split_request(ReadRequest{T::holding, 0, 2, {0, 5}}, attrs).empty());
}

// ---- plan_groups: attributes read at different intervals never share a request ----

ModbusAttribute polled(ModbusAttribute attribute, std::optional<Millis> poll) {
    attribute.poll = poll;
    return attribute;
}

TEST(PlanGroups, CoalescesOnlyAttributesOfOneInterval) {
    using std::chrono_literals::operator""s;
    // An SDM630-like layout: power at 0..5 every second, energy at 6..9 every minute, one
    // more instantaneous value at 10 (node's interval).
    const std::vector<ModbusAttribute> attrs = {
        polled(at(T::input, 0, Y::float32), 1s),  polled(at(T::input, 2, Y::float32), 1s),
        polled(at(T::input, 4, Y::float32), 1s),  polled(at(T::input, 6, Y::float32), 60s),
        polled(at(T::input, 8, Y::float32), 60s), at(T::input, 10, Y::float32)};
    const auto groups = plan_groups(attrs, 1s, 0);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[0].interval, 1s);
    // Index 5 (node's 1s) joins the 1s group, but the energy registers between them are not
    // read every second: two requests rather than one over 0..11.
    ASSERT_EQ(groups[0].plan.requests.size(), 2u);
    EXPECT_EQ(groups[0].plan.requests[0], (ReadRequest{T::input, 0, 6, {0, 1, 2}}));
    EXPECT_EQ(groups[0].plan.requests[1], (ReadRequest{T::input, 10, 2, {5}}));
    EXPECT_EQ(groups[1].interval, 60s);
    ASSERT_EQ(groups[1].plan.requests.size(), 1u);
    EXPECT_EQ(groups[1].plan.requests[0], (ReadRequest{T::input, 6, 4, {3, 4}}));
}

TEST(PlanGroups, WithoutAttributeIntervalsIsOneGroupAsPlanRequests) {
    using std::chrono_literals::operator""ms;
    const std::vector<ModbusAttribute> attrs = {
        at(T::holding, 0, Y::uint16), at(T::holding, 3, Y::uint16), at(T::coil, 1, Y::boolean)};
    const auto groups = plan_groups(attrs, 250ms, 2);
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(groups[0].interval, 250ms);
    EXPECT_EQ(groups[0].plan, plan_requests(attrs, 2));
    EXPECT_TRUE(plan_groups({}, 250ms, 0).empty());
}

TEST(PlanGroups, GroupsAreShortestFirstAndKeepRejectsAsNodeIndices) {
    using std::chrono_literals::operator""s;
    const std::vector<ModbusAttribute> attrs = {
        polled(at(T::holding, 0, Y::uint16), 10s), polled(at(T::holding, 1, Y::uint16), 2s),
        polled(at(T::holding, 65535, Y::uint32), 10s),  // runs past 65535
        polled(at(T::holding, 2, Y::uint16), 5s)};
    const auto groups = plan_groups(attrs, 1s, 10);
    ASSERT_EQ(groups.size(), 3u);
    EXPECT_EQ(groups[0].interval, 2s);
    EXPECT_EQ(groups[1].interval, 5s);
    EXPECT_EQ(groups[2].interval, 10s);
    EXPECT_EQ(groups[0].plan.requests, (std::vector<ReadRequest>{{T::holding, 1, 1, {1}}}));
    EXPECT_EQ(groups[1].plan.requests, (std::vector<ReadRequest>{{T::holding, 2, 1, {3}}}));
    EXPECT_EQ(groups[2].plan.requests, (std::vector<ReadRequest>{{T::holding, 0, 1, {0}}}));
    EXPECT_EQ(groups[2].plan.rejected, (std::vector<std::size_t>{2}));
}

}  // namespace
}  // namespace nodebridge::modbus
