#include "stats.hpp"

#include <gtest/gtest.h>

namespace nodebridge {
namespace {

StatsSnapshot snapshot_at(double seconds, std::uint64_t samples, std::uint64_t messages) {
    StatsSnapshot snap;
    snap.taken =
        SteadyClock::time_point(std::chrono::milliseconds(static_cast<long>(seconds * 1000)));
    snap.uptime_seconds = seconds;
    snap.samples = samples;
    snap.messages = messages;
    snap.publisher.connected = true;
    snap.publisher.connects = 1;
    SourceStats bus;
    bus.polls = 40;
    bus.samples = 38;
    bus.errors = {{"timeout", 2}};
    bus.last_error = "unit 9: \"timed out\"";
    bus.nodes_total = 2;
    bus.nodes_online = 1;
    bus.nodes = {{"pdu-1", true}, {"meter-\"7\"", false}};
    snap.sources.emplace_back("pdu-bus", bus);
    return snap;
}

TEST(Stats, JsonCarriesRatesAndPerSourceCounters) {
    const StatsSnapshot before = snapshot_at(10, 100, 200);
    const StatsSnapshot now = snapshot_at(20, 150, 300);
    const std::string json = stats_json(now, &before);
    EXPECT_NE(json.find(R"("uptime_s":20)"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("broker":{"connected":true,"connects":1})"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("samples_per_s":5.00)"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("messages_per_s":10.00)"), std::string::npos) << json;
    EXPECT_NE(
        json.find(
            R"("pdu-bus":{"nodes_online":1,"nodes_total":2,"nodes":{"pdu-1":"online","meter-\"7\"":"offline"},"polls":40,"samples":38,"errors":{"timeout":2},"last_error":"unit 9: \"timed out\""})"),
        std::string::npos)
        << json;
    EXPECT_EQ(json.back(), '}');
}

// Codes no `states:` table names are published as they come and counted here.
TEST(Stats, JsonCountsUnknownStateCodes) {
    StatsSnapshot snap = snapshot_at(10, 100, 200);
    snap.unknown_states = 3;
    const std::string json = stats_json(snap, nullptr);
    EXPECT_NE(json.find(R"("unknown_states":3)"), std::string::npos) << json;
}

TEST(Stats, SourceWithoutKnownNodesHasAnEmptyNodeMap) {
    StatsSnapshot snap = snapshot_at(5, 0, 0);
    snap.sources.front().second.nodes.clear();
    const std::string json = stats_json(snap, nullptr);
    EXPECT_NE(json.find(R"("nodes_total":2,"nodes":{},"polls")"), std::string::npos) << json;
}

TEST(Stats, JsonCarriesDropReasonsAndTheSpool) {
    StatsSnapshot snap = snapshot_at(10, 1, 1);
    snap.publisher.dropped = 7;
    snap.publisher.dropped_queue_full = 4;
    snap.publisher.dropped_expired = 3;
    snap.publisher.spooling = true;
    snap.publisher.spooled_records = 12;
    snap.publisher.spooled_bytes = 4096;
    snap.publisher.spool_lost = 2;
    const std::string json = stats_json(snap, nullptr);
    EXPECT_NE(json.find(R"("messages_dropped":7,"dropped":{"queue_full":4,"spool_full":0,"expired":3,"at_stop":0})"),
              std::string::npos)
        << json;
    EXPECT_NE(
        json.find(
            R"("spool":{"active":true,"records":12,"bytes":4096,"recovered":0,"lost":2,"write_errors":0,"state":"active"})"),
        std::string::npos)
        << json;
}

TEST(Stats, SparkplugCountersOnlyWhenItIsOn) {
    StatsSnapshot snap = snapshot_at(10, 1, 1);
    EXPECT_EQ(stats_json(snap, nullptr).find("sparkplug"), std::string::npos);
    snap.sparkplug = sparkplug::EdgeNodeStats{
        .births = 2, .rebirths = 1, .refused = 3, .connects = 4, .unsent_dropped = 5};
    const std::string json = stats_json(snap, nullptr);
    EXPECT_NE(json.find(R"("sparkplug":{"births":2,"device_births":0,"device_deaths":0,"data":0,"rebirths":1,"writes":0,"refused":3,"historical":0,"held_dropped":0,"dropped_metrics":0,"connects":4,"unsent_dropped":5})"),
              std::string::npos)
        << json;
}

TEST(Stats, FirstSnapshotHasZeroRates) {
    const std::string json = stats_json(snapshot_at(5, 100, 200), nullptr);
    EXPECT_NE(json.find(R"("messages_per_s":0.00)"), std::string::npos) << json;
}

TEST(Stats, StatusLineSummarisesForSystemd) {
    const StatsSnapshot before = snapshot_at(10, 100, 200);
    StatsSnapshot now = snapshot_at(20, 150, 300);
    EXPECT_EQ(status_line(now, &before),
              "broker connected; nodes 1/2 online; 10.00 msg/s; 2 errors");
    now.publisher.connected = false;
    now.publisher.dropped = 3;
    EXPECT_EQ(status_line(now, &before),
              "broker disconnected; nodes 1/2 online; 10.00 msg/s; 2 errors; 3 dropped");
}

TEST(Stats, StatusLineNamesTheBrokerOnceConnected) {
    StatsSnapshot now = snapshot_at(20, 150, 300);
    now.publisher.broker = "10.0.0.5:1883";
    EXPECT_EQ(status_line(now, nullptr),
              "broker 10.0.0.5:1883 connected; nodes 1/2 online; 0.00 msg/s; 2 errors");
}

// Issue #15: a spool the daemon cannot use must not go unnoticed.
TEST(Stats, AnUnavailableSpoolIsInTheStatusLineAndTheStatsTopic) {
    StatsSnapshot now = snapshot_at(20, 150, 300);
    now.publisher.spool_unavailable =
        "cannot write in '/var/lib/nodebridge/spool': Permission denied";
    EXPECT_EQ(status_line(now, nullptr),
              "broker connected; nodes 1/2 online; 0.00 msg/s; 2 errors; spool: unavailable "
              "(cannot write in '/var/lib/nodebridge/spool': Permission denied)");
    const std::string json = stats_json(now, nullptr);
    EXPECT_NE(
        json.find(
            R"x("state":"unavailable (cannot write in '/var/lib/nodebridge/spool': Permission denied)"})x"),
        std::string::npos)
        << json;
    EXPECT_NE(json.find(R"("spool":{"active":false,)"), std::string::npos) << json;
}

// Issue #25, part 3: a spool whose directory stopped taking writes while running says so too.
TEST(Stats, ASpoolThatCannotWriteItsDirectoryIsDegradedInTheStatusLineAndTheStatsTopic) {
    StatsSnapshot now = snapshot_at(20, 150, 300);
    now.publisher.spooling = true;
    now.publisher.spool_problem =
        "cannot create a segment in '/var/lib/nodebridge/spool': Permission denied";
    EXPECT_EQ(status_line(now, nullptr),
              "broker connected; nodes 1/2 online; 0.00 msg/s; 2 errors; spool: degraded "
              "(cannot create a segment in '/var/lib/nodebridge/spool': Permission denied)");
    const std::string json = stats_json(now, nullptr);
    EXPECT_NE(json.find(R"x("state":"degraded (cannot create a segment in)x"), std::string::npos)
        << json;
    EXPECT_NE(json.find(R"("spool":{"active":true,)"), std::string::npos) << json;
    now.publisher.spool_problem.clear();
    EXPECT_EQ(status_line(now, nullptr).find("spool"), std::string::npos);
}

TEST(Stats, NoSpoolByChoiceIsOffAndNotInTheStatusLine) {
    StatsSnapshot now = snapshot_at(20, 150, 300);
    EXPECT_EQ(status_line(now, nullptr).find("spool"), std::string::npos);
    EXPECT_NE(stats_json(now, nullptr).find(R"("state":"off"})"), std::string::npos);
}

}  // namespace
}  // namespace nodebridge
