#include "unit_health.hpp"

#include <gtest/gtest.h>

namespace nodebridge::modbus {
namespace {

using namespace std::chrono_literals;
using Change = UnitHealth::Change;

TEST(UnitHealth, DiesAfterDeadAfterFailedPollsInARow) {
    UnitHealth unit(3, 30s);
    EXPECT_EQ(unit.record_poll(false), Change::none);
    EXPECT_EQ(unit.record_poll(false), Change::none);
    EXPECT_FALSE(unit.dead());
    EXPECT_EQ(unit.interval(1s), Millis(1000));
    EXPECT_EQ(unit.record_poll(false), Change::died);
    EXPECT_TRUE(unit.dead());
    EXPECT_EQ(unit.interval(1s), Millis(30000));
}

TEST(UnitHealth, DyingIsReportedOnceNotPerPoll) {
    UnitHealth unit(2, 10s);
    unit.record_poll(false);
    EXPECT_EQ(unit.record_poll(false), Change::died);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(unit.record_poll(false), Change::none);
    EXPECT_TRUE(unit.dead());
    EXPECT_EQ(unit.failures_in_a_row(), 2);
}

TEST(UnitHealth, AnAnswerInBetweenResetsTheCount) {
    UnitHealth unit(3, 30s);
    unit.record_poll(false);
    unit.record_poll(false);
    EXPECT_EQ(unit.record_poll(true), Change::none);
    EXPECT_EQ(unit.failures_in_a_row(), 0);
    unit.record_poll(false);
    unit.record_poll(false);
    EXPECT_FALSE(unit.dead());
}

TEST(UnitHealth, ADeadUnitThatAnswersRevivesToItsOwnPoll) {
    UnitHealth unit(1, 30s);
    EXPECT_EQ(unit.record_poll(false), Change::died);
    EXPECT_EQ(unit.record_poll(true), Change::revived);
    EXPECT_FALSE(unit.dead());
    EXPECT_EQ(unit.interval(250ms), Millis(250));
    EXPECT_EQ(unit.record_poll(true), Change::none);
    EXPECT_EQ(unit.record_poll(false), Change::died);  // and can die again
}

TEST(UnitHealth, DeadAfterZeroNeverDies) {
    UnitHealth unit(0, 30s);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(unit.record_poll(false), Change::none);
    EXPECT_FALSE(unit.dead());
    EXPECT_EQ(unit.interval(1s), Millis(1000));
}

}  // namespace
}  // namespace nodebridge::modbus
