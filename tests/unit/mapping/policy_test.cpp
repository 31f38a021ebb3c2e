#include "policy.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace nodebridge::mapping {
namespace {

using namespace std::chrono_literals;

const SteadyClock::time_point t0{1h};

StoredValue stored(const Value& value) {
    StoredValue result;
    result.assign(value);
    return result;
}

TEST(StoredValue, EmptyDiffersFromEverything) {
    StoredValue empty;
    EXPECT_TRUE(empty.empty());
    EXPECT_TRUE(empty.differs(1.0, 100.0));
    EXPECT_TRUE(empty.differs(std::string(), 0.0));
}

TEST(StoredValue, DeadbandIsExclusive) {
    const StoredValue last = stored(230.0);
    EXPECT_FALSE(last.differs(230.0, 0.5));
    EXPECT_FALSE(last.differs(230.5, 0.5));  // exactly the deadband: no change
    EXPECT_FALSE(last.differs(229.5, 0.5));
    EXPECT_TRUE(last.differs(230.5000001, 0.5));
    EXPECT_TRUE(last.differs(229.4999999, 0.5));
    EXPECT_TRUE(last.differs(230.0000001, 0.0));  // no deadband: any difference
}

TEST(StoredValue, IntegersCompareExactlyOrByDeadband) {
    const StoredValue last = stored(std::int64_t{9007199254740993});  // not a double
    EXPECT_TRUE(last.differs(std::int64_t{9007199254740992}, 0.0));
    EXPECT_FALSE(last.differs(std::int64_t{9007199254740993}, 0.0));
    const StoredValue small = stored(std::int64_t{10});
    EXPECT_FALSE(small.differs(std::int64_t{12}, 2.0));
    EXPECT_TRUE(small.differs(std::int64_t{13}, 2.0));
    EXPECT_FALSE(small.differs(11.5, 2.0));  // int vs double compare as numbers
}

TEST(StoredValue, NanAndInfinity) {
    const double nan = std::nan("");
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_TRUE(stored(1.0).differs(nan, 1e9));
    EXPECT_TRUE(stored(nan).differs(1.0, 1e9));
    EXPECT_FALSE(stored(nan).differs(nan, 0.0));
    EXPECT_TRUE(stored(1.0).differs(inf, 1e300));
    EXPECT_FALSE(stored(inf).differs(inf, 0.0));
    EXPECT_TRUE(stored(inf).differs(-inf, 0.0));
}

TEST(StoredValue, OtherTypesCompareByEquality) {
    EXPECT_FALSE(stored(true).differs(true, 5.0));
    EXPECT_TRUE(stored(true).differs(false, 5.0));
    EXPECT_FALSE(stored(std::string("on")).differs(std::string("on"), 0.0));
    EXPECT_TRUE(stored(std::string("on")).differs(std::string("off"), 0.0));
    EXPECT_TRUE(stored(1.0).differs(true, 5.0));  // a type change is a change
    EXPECT_TRUE(stored(std::string("1")).differs(1.0, 5.0));
}

TEST(StoredValue, AppendsLikeTheValueEncoders) {
    std::string out;
    stored(230.5).append_text(out);
    out += ' ';
    stored(std::string("a\"b")).append_json(out);
    out += ' ';
    stored(std::nan("")).append_json(out);
    out += ' ';
    StoredValue copy;
    copy.assign(stored(std::string("text")));
    copy.append_text(out);
    EXPECT_EQ(out, "230.5 \"a\\\"b\" null text");
}

TEST(Admit, DefaultPolicyPublishesEverything) {
    const Policy policy;
    KeyState state;
    EXPECT_EQ(admit(policy, state, true, t0), Verdict::publish);
    EXPECT_EQ(admit(policy, state, true, t0), Verdict::publish);
    EXPECT_EQ(deadline(policy, state), SteadyClock::time_point::max());
}

TEST(Admit, FirstReadingAlwaysPublishes) {
    const Policy policy{.on_change = true, .min_interval = 10s};
    KeyState state;
    EXPECT_EQ(admit(policy, state, false, t0), Verdict::publish);
    EXPECT_EQ(state.last_publish, t0);
}

TEST(Admit, HeartbeatDeadlineNeedsAReadingSinceLastPublish) {
    const Policy policy{.on_change = true, .heartbeat = 60s};
    KeyState state;
    ASSERT_EQ(admit(policy, state, true, t0), Verdict::publish);
    EXPECT_EQ(deadline(policy, state), SteadyClock::time_point::max());
    EXPECT_EQ(admit(policy, state, false, t0 + 1s), Verdict::suppress);
    EXPECT_EQ(deadline(policy, state), t0 + 60s);
    EXPECT_EQ(admit(policy, state, false, t0 + 60s), Verdict::publish);  // overdue
}

TEST(Admit, MinIntervalHoldsAndSuppressionDropsTheHeldReading) {
    const Policy policy{.on_change = true, .min_interval = 10s};
    KeyState state;
    ASSERT_EQ(admit(policy, state, true, t0), Verdict::publish);
    EXPECT_EQ(admit(policy, state, true, t0 + 1s), Verdict::hold);
    EXPECT_EQ(deadline(policy, state), t0 + 10s);
    EXPECT_EQ(admit(policy, state, false, t0 + 2s), Verdict::suppress);
    EXPECT_EQ(deadline(policy, state), SteadyClock::time_point::max());
    EXPECT_EQ(admit(policy, state, true, t0 + 10s), Verdict::publish);
}

TEST(Admit, HeartbeatNeverBeatsMinInterval) {
    const Policy policy{.on_change = true, .heartbeat = 5s, .min_interval = 10s};
    KeyState state;
    ASSERT_EQ(admit(policy, state, true, t0), Verdict::publish);
    EXPECT_EQ(admit(policy, state, false, t0 + 1s), Verdict::suppress);
    EXPECT_EQ(deadline(policy, state), t0 + 10s);
    EXPECT_EQ(admit(policy, state, false, t0 + 6s), Verdict::hold);  // overdue but throttled
    EXPECT_EQ(deadline(policy, state), t0 + 10s);
}

TEST(Admit, RepublishResetsTheKey) {
    const Policy policy{.on_change = true, .heartbeat = 60s};
    KeyState state;
    state.latest.assign(1.0);
    ASSERT_EQ(admit(policy, state, true, t0), Verdict::publish);
    ASSERT_EQ(admit(policy, state, false, t0 + 1s), Verdict::suppress);
    note_republished(policy, state, t0 + 60s);
    EXPECT_EQ(state.last_publish, t0 + 60s);
    EXPECT_FALSE(state.last_published.differs(1.0, 0.0));
    EXPECT_EQ(deadline(policy, state), SteadyClock::time_point::max());
}

}  // namespace
}  // namespace nodebridge::mapping
