#include "rtu_timing.hpp"

#include <gtest/gtest.h>

namespace nodebridge::modbus {
namespace {

CharFraming line(int baud, bool parity, int stop_bits = 1) {
    return CharFraming{.baud = baud, .data_bits = 8, .parity = parity, .stop_bits = stop_bits};
}

TEST(RtuTiming, BitsPerCharacterCountStartParityAndStopBits) {
    EXPECT_EQ(line(9600, true).bits_per_char(), 11);      // 8E1, the spec's default
    EXPECT_EQ(line(9600, false).bits_per_char(), 10);     // 8N1
    EXPECT_EQ(line(9600, false, 2).bits_per_char(), 11);  // 8N2, the spec's no-parity framing
    EXPECT_EQ(line(9600, true, 2).bits_per_char(), 12);
}

TEST(RtuTiming, CharacterTimeRoundsUpToAMicrosecond) {
    EXPECT_EQ(char_time(line(9600, false)), Micros(1042));   // 1041.67 us
    EXPECT_EQ(char_time(line(9600, true)), Micros(1146));    // 1145.83 us
    EXPECT_EQ(char_time(line(19200, true)), Micros(573));    // 572.92 us
    EXPECT_EQ(char_time(line(115200, false)), Micros(87));   // 86.81 us
    EXPECT_EQ(char_time(line(1000, false)), Micros(10000));  // exact
}

TEST(RtuTiming, FrameTimeDoesNotAccumulateRounding) {
    // 93 characters of 8N1 at 9600 baud: 930 bits = 96875 us exactly, where 93 rounded
    // character times would give 96906 us.
    EXPECT_EQ(frame_time(line(9600, false), 93), Micros(96875));
    EXPECT_EQ(frame_time(line(9600, false), 0), Micros(0));
}

TEST(RtuTiming, SilencesAreOneAndAHalfAndThreeAndAHalfCharacters) {
    EXPECT_EQ(t15(line(9600, false)), Micros(1563));  // 1562.5 us
    EXPECT_EQ(t35(line(9600, false)), Micros(3646));  // 3645.83 us
    EXPECT_EQ(t15(line(9600, true)), Micros(1719));   // 1718.75 us
    EXPECT_EQ(t35(line(9600, true)), Micros(4011));   // 4010.42 us
    EXPECT_EQ(t15(line(1200, true)), Micros(13750));
    EXPECT_EQ(t35(line(1200, true)), Micros(32084));  // 32083.3 us
}

TEST(RtuTiming, NineteenTwoHundredBaudStillUsesCharacterTimes) {
    // The fixed timers are for rates *greater than* 19200 (section 2.5.1.1).
    EXPECT_EQ(t15(line(19200, true)), Micros(860));   // 859.4 us
    EXPECT_EQ(t35(line(19200, true)), Micros(2006));  // 2005.2 us
}

TEST(RtuTiming, AboveNineteenTwoHundredBaudTheTimersAreFixed) {
    for (int baud : {19201, 38400, 57600, 115200}) {
        for (bool parity : {false, true}) {
            EXPECT_EQ(t15(line(baud, parity)), Micros(750)) << baud;
            EXPECT_EQ(t35(line(baud, parity)), Micros(1750)) << baud;
        }
    }
}

TEST(RtuTiming, TransactionTimeAddsBothFramesBothSilencesAndTheTurnaround) {
    // Read 40 registers at 9600 8N1: a request of 8 characters (8334 us), a reply of 85
    // (88542 us), two silences of 3646 us.
    const auto framing = line(9600, false);
    EXPECT_EQ(read_registers_reply_chars(40), 85u);
    EXPECT_EQ(transaction_time(framing, kReadRequestChars, 85, Micros(0)), Micros(104168));
    EXPECT_EQ(transaction_time(framing, kReadRequestChars, 85, Micros(5000)), Micros(109168));
    EXPECT_NEAR(transactions_per_second(framing, kReadRequestChars, 85, Micros(0)), 1e6 / 104168.0,
                1e-9);
    // At 19200 8E1 a one-register read: 8 characters (4584 us), 7 back (4011 us), 2 x 2006 us.
    EXPECT_EQ(transaction_time(line(19200, true), kReadRequestChars, read_registers_reply_chars(1),
                               Micros(0)),
              Micros(4584 + 4011 + 2 * 2006));
}

}  // namespace
}  // namespace nodebridge::modbus
