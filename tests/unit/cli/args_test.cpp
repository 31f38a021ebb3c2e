// The nodebridge command's argument parsing (src/cli/args.cpp).

#include <gtest/gtest.h>

#include "cli.hpp"
#include "rtu_port.hpp"

namespace nodebridge::cli {
namespace {

TEST(CliArgs, Targets) {
    std::string error;
    auto t = parse_target("10.0.0.5", 502, error);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "10.0.0.5");
    EXPECT_EQ(t->port, 502);
    t = parse_target("gw.local:1502", 502, error);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "gw.local");
    EXPECT_EQ(t->port, 1502);
    t = parse_target("[::1]:15020", 502, error);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "::1");
    EXPECT_EQ(t->port, 15020);
    t = parse_target("fe80::1", 502, error);  // a bare IPv6 address: no port in it
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "fe80::1");
    EXPECT_FALSE(parse_target(":502", 502, error));
    EXPECT_FALSE(parse_target("h:0", 502, error));
    EXPECT_FALSE(parse_target("h:65536", 502, error));
    EXPECT_FALSE(parse_target("h:", 502, error));
    EXPECT_FALSE(parse_target("[::1", 502, error));
}

TEST(CliArgs, UnitLists) {
    std::string error;
    EXPECT_EQ(parse_unit_list("1-3,7, 10-11", 0, 247, error),
              (std::vector<int>{1, 2, 3, 7, 10, 11}));
    EXPECT_EQ(parse_unit_list("5", 0, 247, error), (std::vector<int>{5}));
    EXPECT_FALSE(parse_unit_list("3-1", 0, 247, error));
    EXPECT_FALSE(parse_unit_list("248", 0, 247, error));
    EXPECT_FALSE(parse_unit_list("1,1", 0, 247, error));
    EXPECT_NE(error.find("listed twice"), std::string::npos);
    EXPECT_FALSE(parse_unit_list("", 0, 247, error));
    EXPECT_FALSE(parse_unit_list("a-b", 0, 247, error));
    EXPECT_EQ(unit_ranges({7, 1, 2, 3, 10, 9}), "1-3, 7, 9-10");
}

TEST(CliArgs, Durations) {
    EXPECT_EQ(parse_millis("250ms"), Millis(250));
    EXPECT_EQ(parse_millis("1s"), Millis(1000));
    EXPECT_EQ(parse_millis("0.5"), Millis(500));
    EXPECT_EQ(parse_millis("2m"), Millis(120000));
    EXPECT_FALSE(parse_millis("0ms"));
    EXPECT_FALSE(parse_millis("soon"));
    EXPECT_FALSE(parse_millis(""));
    EXPECT_EQ(human_duration(std::chrono::microseconds(1'500'000)), "1.5 s");
    EXPECT_EQ(human_duration(std::chrono::microseconds(250'000)), "250 ms");
    EXPECT_EQ(human_duration(std::chrono::microseconds(400)), "0.4 ms");
}

}  // namespace
}  // namespace nodebridge::cli

namespace nodebridge::cli {
namespace {

// A read of one holding register at 0 from unit 1 goes on the wire as 01 03 00 00 00 01 84 0A
// (the CRC low byte first), as any Modbus master sends it; an empty input gives the initial
// value (MODBUS over Serial Line V1.02, section 6.2.2).
TEST(ModbusCrc, KnownFrames) {
    const std::uint8_t request[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x01};
    EXPECT_EQ(modbus_crc(request), 0x0A84);
    EXPECT_EQ(modbus_crc({}), 0xFFFF);
}

}  // namespace
}  // namespace nodebridge::cli
