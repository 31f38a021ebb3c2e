// Store-and-forward with real processes and faults: broker restarts (SIGTERM and SIGKILL), a
// publisher killed while the broker is down, a damaged spool, and failover between brokers.
// Every test is bounded in time; the whole file runs in well under a minute.

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "capturing_logger.hpp"
#include "nodebridge/publisher.hpp"
#include "spool.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;
using test::Broker;
using test::CapturingLogger;
using test::Received;
using test::Subscriber;
using test::TempDir;
using test::wait_until;

MqttConfig config_for(int port, const std::string& client_id, const std::string& spool_dir) {
    MqttConfig config;
    config.host = "127.0.0.1";
    config.port = port;
    config.client_id = client_id;
    config.keepalive = 5s;
    config.health.topic = "test/" + client_id + "/status";
    config.buffer.dir = spool_dir;
    config.reconnect_max = 1s;  // the tests restart brokers; do not wait long for them
    return config;
}

Message numbered_message(const std::string& topic, int i) {
    return Message{.topic = topic, .payload = std::to_string(i), .qos = 1};
}

// Distinct integer payloads received on `topic`.
std::set<int> numbers_in(const std::vector<Received>& received, const std::string& topic) {
    std::set<int> out;
    for (const auto& m : received) {
        if (m.topic == topic) out.insert(std::stoi(m.payload));
    }
    return out;
}
std::set<int> numbers_on(const Subscriber& subscriber, const std::string& topic) {
    return numbers_in(subscriber.messages(), topic);
}

std::vector<int> missing(const std::set<int>& got, int count) {
    std::vector<int> out;
    for (int i = 0; i < count; ++i) {
        if (!got.contains(i)) out.push_back(i);
    }
    return out;
}

bool wait_for_stats(const Publisher& publisher,
                    const std::function<bool(const PublisherStats&)>& ok,
                    test::Millis timeout = 15s) {
    return wait_until([&] { return ok(publisher.stats()); }, timeout);
}

TEST(StoreAndForward, AQos1StreamSurvivesFiveBrokerRestarts) {
    TempDir dir;
    // A broker that saves its state after every change: killed with SIGKILL, mosquitto with
    // the default periodic autosave forgets what it acknowledged since the last save (a
    // message it PUBACKed but had not yet passed to the reader), which no client can
    // recover. Saving at each change leaves only the broker's own split-millisecond window.
    Broker broker(Broker::Options{.extra_config = "autosave_on_changes true\n"});
    broker.start();
    const std::string topic = "restarts/seq";
    const Subscriber::Options session{.qos = 1, .client_id = "restarts-reader", .persistent = true};
    auto subscriber = std::make_unique<Subscriber>(broker.port(), std::vector{topic}, session);
    CapturingLogger log;
    Publisher publisher(config_for(broker.port(), "restarts-writer", dir.path() + "/spool"), log);
    publisher.start();
    ASSERT_TRUE(publisher.stats().spooling);

    std::atomic<int> sent{0};
    std::atomic<bool> done{false};
    std::thread stream([&] {
        while (!done) {
            publisher.publish(numbered_message(topic, sent++));
            std::this_thread::sleep_for(2ms);
        }
    });
    for (int round = 0; round < 5; ++round) {
        std::this_thread::sleep_for(400ms);
        broker.stop(round % 2 == 0 ? SIGKILL : SIGTERM);
        std::this_thread::sleep_for(600ms);  // messages pile up in the spool meanwhile
        broker.start();
        // Both ends back before the next fault, and the broker's autosave (1 s) has
        // persisted the reader's session.
        ASSERT_TRUE(wait_until([&] { return subscriber->connected(); }, 10s));
        ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.connected; }));
        std::this_thread::sleep_for(1200ms);
    }
    done = true;
    stream.join();
    const int total = sent;
    ASSERT_TRUE(wait_for_stats(
        publisher, [](const auto& s) { return s.spooled_records == 0 && s.queued == 0; }, 20s))
        << publisher.stats().spooled_records << " still spooled; problem: " << publisher.stats().spool_problem << " queued " << publisher.stats().queued << " connected " << publisher.stats().connected;
    ASSERT_TRUE(subscriber->wait_for(
        [&](const std::vector<Received>& got) {
            return numbers_in(got, topic).size() >= static_cast<std::size_t>(total);
        },
        20s))
        << "missing: " << testing::PrintToString(missing(numbers_on(*subscriber, topic), total));
    const auto stats = publisher.stats();
    EXPECT_EQ(stats.dropped, 0u);
    EXPECT_GE(stats.connects, 6u);
    EXPECT_GT(total, 500);
}

// The spool directory's segment files.
std::vector<std::string> segment_files(const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
        while (const dirent* e = readdir(d)) {
            const std::string name = e->d_name;
            if (name.ends_with(".seg")) names.push_back(dir + "/" + name);
        }
        closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
}

TEST(StoreAndForward, APublisherKilledWhileTheBrokerIsDownLosesNothing) {
    TempDir dir;
    const std::string spool = dir.path() + "/spool";
    Broker broker;  // not started yet: the writer finds nobody
    constexpr int kCount = 2000;
    {
        test::Process writer({SPOOL_WRITER_PATH, spool, std::to_string(broker.port()), "killed/seq",
                              std::to_string(kCount)},
                             dir.file("writer.log"));
        ASSERT_TRUE(writer.wait_for_output("accepted " + std::to_string(kCount), 20s))
            << writer.output();
        writer.signal(SIGKILL);
        ASSERT_TRUE(writer.wait_for_exit(5s).has_value());
    }
    broker.start();
    Subscriber subscriber(broker.port(), {"killed/#"}, {.qos = 1});
    CapturingLogger log;
    Publisher publisher(config_for(broker.port(), "killed-successor", spool), log);
    EXPECT_EQ(publisher.stats().spool_recovered, std::uint64_t{kCount});
    publisher.start();
    ASSERT_TRUE(subscriber.wait_for(
        [&](const std::vector<Received>& got) {
            return numbers_in(got, "killed/seq").size() >= std::size_t{kCount};
        },
        20s))
        << "missing: "
        << testing::PrintToString(missing(numbers_on(subscriber, "killed/seq"), kCount).size());
    // In order: the backlog goes out oldest first.
    std::vector<int> order;
    for (const auto& m : subscriber.on_topic("killed/seq")) order.push_back(std::stoi(m.payload));
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.spooled_records == 0; }));
    EXPECT_EQ(log.count_containing("recovered 2000 unacknowledged"), 1);
}

TEST(StoreAndForward, ADamagedSpoolStillDeliversItsIntactRecords) {
    TempDir dir;
    const std::string spool_dir = dir.path() + "/spool";
    constexpr int kCount = 100;
    {
        CapturingLogger quiet;
        auto spool = Spool::open(SpoolOptions{.dir = spool_dir, .segment_bytes = 400}, quiet);
        ASSERT_NE(spool, nullptr);
        for (int i = 0; i < kCount; ++i) spool->append(numbered_message("damaged/seq", i), 0);
    }
    const auto files = segment_files(spool_dir);
    ASSERT_GE(files.size(), 6u);
    {  // a flipped byte in the third segment (power loss, bad sector)
        std::fstream f(files[2], std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(100);
        f.put('\xFF');
    }
    struct stat info {};
    ASSERT_EQ(stat(files.back().c_str(), &info), 0);
    ASSERT_EQ(truncate(files.back().c_str(), info.st_size - 2), 0);  // a write cut short
    {
        std::ofstream garbage(spool_dir + "/ffffffffffffff00.seg");
        garbage << "not a spool segment at all";
    }

    Broker broker;
    broker.start();
    Subscriber subscriber(broker.port(), {"damaged/#"}, {.qos = 1});
    CapturingLogger log;
    Publisher publisher(config_for(broker.port(), "damaged", spool_dir), log);
    const auto recovered = publisher.stats().spool_recovered;
    EXPECT_GT(recovered, 60u);
    EXPECT_LT(recovered, std::uint64_t{kCount});
    EXPECT_GT(publisher.stats().spool_lost, 0u);
    publisher.start();
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.spooled_records == 0; }));
    ASSERT_TRUE(subscriber.wait_for(
        [&](const std::vector<Received>& got) { return got.size() >= recovered; }, 10s));
    const auto got = numbers_on(subscriber, "damaged/seq");
    EXPECT_EQ(got.size(), recovered);
    // Before the damage and after it: the first two segments, and the segments between the
    // corrupted one and the truncated last record.
    EXPECT_TRUE(got.contains(0));
    EXPECT_TRUE(got.contains(kCount - 2));
    EXPECT_FALSE(got.contains(kCount - 1));
    EXPECT_GE(log.count_containing("damaged segment file"), 1)
        << testing::PrintToString(log.lines());
}

TEST(StoreAndForward, DeliveryFailsOverToTheNextBroker) {
    TempDir dir;
    Broker first;
    Broker second;
    first.start();
    second.start();
    Subscriber on_first(first.port(), {"failover/#"}, {.qos = 1});
    Subscriber on_second(second.port(), {"failover/#"}, {.qos = 1});
    CapturingLogger log;
    auto config = config_for(first.port(), "failover", dir.path() + "/spool");
    config.hosts = {BrokerAddress{"127.0.0.1", first.port()},
                    BrokerAddress{"127.0.0.1", second.port()}};
    Publisher publisher(config, log);
    publisher.start();
    for (int i = 0; i < 100; ++i) publisher.publish(numbered_message("failover/seq", i));
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.delivered == 100; }));
    // What the first broker acknowledged but had not passed on dies with it (these are
    // separate brokers, not a cluster): let it pass everything on first.
    ASSERT_TRUE(on_first.wait_for(
        [&](const std::vector<Received>& got) {
            return numbers_in(got, "failover/seq").size() == 100;
        },
        10s));

    first.stop(SIGKILL);
    for (int i = 100; i < 200; ++i) publisher.publish(numbered_message("failover/seq", i));
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.spooled_records == 0; }));
    ASSERT_TRUE(on_second.wait_for(
        [&](const std::vector<Received>& got) {
            return numbers_in(got, "failover/seq").contains(199);
        },
        10s));
    auto all = numbers_on(on_first, "failover/seq");
    all.merge(numbers_on(on_second, "failover/seq"));
    EXPECT_EQ(missing(all, 200), std::vector<int>{});
    EXPECT_EQ(publisher.stats().connects, 2u);
    EXPECT_EQ(log.count_containing("connected to 127.0.0.1:" + std::to_string(second.port())), 1)
        << testing::PrintToString(log.lines());
}

TEST(StoreAndForward, StopWhileTheBrokerIsAwayKeepsTheSpoolForTheNextStart) {
    TempDir dir;
    const int port = test::free_port();
    CapturingLogger log;
    {
        Publisher publisher(config_for(port, "keeper", dir.path() + "/spool"), log);
        publisher.start();
        for (int i = 0; i < 3; ++i) publisher.publish(numbered_message("keep/seq", i));
        publisher.publish(Message{.topic = "keep/qos0", .payload = "x", .qos = 0});
        publisher.stop(300ms);
        const auto stats = publisher.stats();
        EXPECT_EQ(stats.spooled_records, 3u);
        EXPECT_EQ(stats.dropped, 1u);  // only the QoS 0 message, which lives in memory
        EXPECT_EQ(stats.dropped_at_stop, 1u);
        EXPECT_EQ(log.count_containing("3 unacknowledged QoS 1/2 messages stay in the spool"), 1);
    }
    Publisher again(config_for(port, "keeper", dir.path() + "/spool"), log);
    EXPECT_EQ(again.stats().spool_recovered, 3u);
    EXPECT_EQ(again.stats().queued, 3u);
}

TEST(StoreAndForward, AnUnusableSpoolDirectoryFallsBackToMemory) {
    TempDir dir;
    Broker broker;
    broker.start();
    Subscriber subscriber(broker.port(), {"fallback/#"}, {.qos = 1});
    CapturingLogger log;
    const std::string file = dir.write("plain-file", "x");
    Publisher publisher(config_for(broker.port(), "fallback", file + "/spool"), log);
    EXPECT_FALSE(publisher.stats().spooling);
    EXPECT_EQ(log.count_containing("kept in memory only"), 1);
    publisher.start();
    publisher.publish(numbered_message("fallback/seq", 7));
    EXPECT_TRUE(subscriber.wait_for_message("fallback/seq", 10s, "7").has_value());
}

// Issue #15: a configured spool that cannot be used is loud, not silent.
TEST(StoreAndForward, AnUnusableSpoolIsAnErrorWithTheRemedyAndAReason) {
    TempDir dir;
    CapturingLogger log;
    const std::string spool = dir.write("plain-file", "x") + "/spool";
    Publisher publisher(config_for(test::free_port(), "unusable", spool), log);
    const PublisherStats stats = publisher.stats();
    EXPECT_FALSE(stats.spooling);
    EXPECT_EQ(stats.spool_unavailable, "cannot create directory '" + spool + "': Not a directory");
    EXPECT_EQ(log.count_at(LogLevel::error, "cannot create directory '" + spool + "'"), 1);
    EXPECT_EQ(log.count_at(LogLevel::error, "chown -R root: '" + spool + "'"),
              geteuid() == 0 ? 1 : 0);
    EXPECT_EQ(log.count_at(LogLevel::error, "Fix: give the directory and its files to user"), 1);
}

TEST(StoreAndForward, AnUnusableSpoolSaysDegradedOnTheHealthTopicWhenAsked) {
    TempDir dir;
    Broker broker;
    broker.start();
    Subscriber subscriber(broker.port(), {"test/+/status"}, {.qos = 1});
    CapturingLogger log;
    const std::string file = dir.write("plain-file", "x");
    auto degraded = config_for(broker.port(), "degraded", file + "/spool");
    degraded.health.degraded = "degraded";
    Publisher publisher(degraded, log);
    publisher.start();
    EXPECT_TRUE(subscriber.wait_for_message("test/degraded/status", 10s, "degraded").has_value());
    // Without the key, or with a usable spool, it is the usual online.
    auto quiet = config_for(broker.port(), "quiet", file + "/spool");
    Publisher quiet_publisher(quiet, log);
    quiet_publisher.start();
    EXPECT_TRUE(subscriber.wait_for_message("test/quiet/status", 10s, "online").has_value());
    auto fine = config_for(broker.port(), "fine", dir.path() + "/spool");
    fine.health.degraded = "degraded";
    Publisher fine_publisher(fine, log);
    fine_publisher.start();
    EXPECT_TRUE(subscriber.wait_for_message("test/fine/status", 10s, "online").has_value());
    EXPECT_EQ(fine_publisher.stats().spool_unavailable, "");
    EXPECT_TRUE(fine_publisher.stats().spooling);
}

// Issue #25, part 3: a spool directory made unwritable while the daemon runs (immutable here,
// which holds for root too) is said as loudly as one unusable at start, and the spool is used
// again once the directory can be written; delivery goes on meanwhile.
TEST(StoreAndForward, ASpoolDirectoryThatStopsTakingWritesIsLoudAndRecovers) {
    TempDir dir;
    Broker broker;
    broker.start();
    Subscriber subscriber(broker.port(), {"test/+/status", "frozen/#"}, {.qos = 1});
    CapturingLogger log;
    auto config = config_for(broker.port(), "frozen", dir.path() + "/spool");
    config.health.degraded = "degraded";
    Publisher publisher(config, log);
    publisher.start();
    ASSERT_TRUE(subscriber.wait_for_message("test/frozen/status", 10s, "online").has_value());
    int sent = 0;
    publisher.publish(numbered_message("frozen/seq", sent++));
    ASSERT_TRUE(subscriber.wait_for_message("frozen/seq", 10s, "0").has_value());

    test::ImmutableDir frozen(dir.path() + "/spool");
    if (!frozen.ok()) GTEST_SKIP() << "cannot make a directory immutable here: " << frozen.why();
    subscriber.clear();
    // Acknowledged messages move the ack floor, whose file can no longer be written.
    const auto problem = [&] { return publisher.stats().spool_problem; };
    for (int i = 0; i < 100 && problem().empty(); ++i) {
        publisher.publish(numbered_message("frozen/seq", sent++));
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_NE(problem(), "");
    EXPECT_NE(problem().find("Operation not permitted"), std::string::npos) << problem();
    EXPECT_TRUE(subscriber.wait_for_message("test/frozen/status", 10s, "degraded").has_value());
    EXPECT_EQ(log.count_at(LogLevel::error, "spool: cannot write"), 1);
    EXPECT_EQ(log.count_at(LogLevel::error, "kept in memory only"), 1);
    EXPECT_EQ(log.count_at(LogLevel::error, "Fix: give the directory and its files to user"), 1);
    const int while_frozen = sent;

    frozen.release();
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.spool_problem.empty(); }));
    EXPECT_TRUE(subscriber.wait_for_message("test/frozen/status", 10s, "online").has_value());
    EXPECT_EQ(log.count_at(LogLevel::notice, "can be written again"), 1);
    for (int i = 0; i < 5; ++i) publisher.publish(numbered_message("frozen/seq", sent++));
    // Every message of the spell and after it was delivered.
    EXPECT_TRUE(subscriber.wait_for(
        [&](const auto& received) {
            const auto got = numbers_in(received, "frozen/seq");
            return got.size() == static_cast<std::size_t>(sent - 1);
        },
        10s))
        << "missing: " << testing::PrintToString(missing(numbers_on(subscriber, "frozen/seq"), sent));
    EXPECT_GT(sent, while_frozen);
    EXPECT_TRUE(publisher.stats().spooling);
}

TEST(SpoolDirProblem, SaysWhyADirectoryCannotBeUsedWithoutTouchingIt) {
    TempDir dir;
    EXPECT_EQ(spool_dir_problem(""), std::nullopt);
    EXPECT_EQ(spool_dir_problem(dir.path() + "/spool"), std::nullopt);  // can be created
    struct stat info {};
    EXPECT_NE(stat((dir.path() + "/spool").c_str(), &info), 0) << "it must not create it";
    const std::string file = dir.write("plain-file", "x");
    EXPECT_EQ(spool_dir_problem(file), "'" + file + "' is not a directory");
    EXPECT_EQ(spool_dir_problem(file + "/spool"),
              "cannot create '" + file + "/spool': '" + file + "' is not a directory");
}

TEST(StoreAndForward, AFullSpoolDropsByPolicyAndCountsIt) {
    TempDir dir;
    CapturingLogger log;
    auto config = config_for(test::free_port(), "full", dir.path() + "/spool");
    config.buffer.max_bytes = 1 << 20;
    config.buffer.on_full = SpoolOnFull::drop_newest;
    Publisher publisher(config, log);
    const std::string payload(10'000, 'p');
    for (int i = 0; i < 200; ++i)
        publisher.publish(Message{.topic = "full/x", .payload = payload, .qos = 1});
    const auto stats = publisher.stats();
    EXPECT_GT(stats.dropped_spool_full, 90u);
    EXPECT_EQ(stats.dropped, stats.dropped_spool_full);
    EXPECT_EQ(stats.spooled_records + stats.dropped_spool_full, 200u);
    EXPECT_LE(stats.spooled_bytes, std::uint64_t{1 << 20});
    EXPECT_GE(log.count_containing("spool: full"), 1);
}

}  // namespace
}  // namespace nodebridge
