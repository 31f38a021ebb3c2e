// The Publisher against a real mosquitto on a free loopback port.

#include "nodebridge/publisher.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "capturing_logger.hpp"
#include "support/delay_proxy.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;
using test::Broker;
using test::Received;
using test::Subscriber;
using test::wait_until;

using test::CapturingLogger;

// Each client id gets its own spool directory, removed when the test program ends.
std::string spool_dir_for(const std::string& client_id) {
    static const test::TempDir root;
    return root.path() + "/" + client_id;
}

MqttConfig config_for(int port, const std::string& client_id, int protocol = 4) {
    MqttConfig config;
    config.buffer.dir = spool_dir_for(client_id);
    config.host = "127.0.0.1";
    config.port = port;
    config.client_id = client_id;
    config.keepalive = 5s;
    config.protocol = protocol;
    config.health.topic = "test/" + client_id + "/status";
    return config;
}

Message message(std::string topic, std::string payload, int qos = 1, bool retain = false) {
    return Message{
        .topic = std::move(topic), .payload = std::move(payload), .qos = qos, .retain = retain};
}

std::vector<std::string> payloads(const std::vector<Received>& received) {
    std::vector<std::string> out;
    for (const auto& r : received) out.push_back(r.payload);
    return out;
}

std::vector<std::string> numbered(const std::string& prefix, int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i < to; ++i) out.push_back(prefix + std::to_string(i));
    return out;
}

// A reader with a persistent MQTT 3.1.1 session (clean_session false): the broker queues
// QoS 1 messages for it while it is away, also across a broker restart with persistence.
// (test::Subscriber speaks MQTT 5 without a session expiry interval, so its "persistent"
// session ends with the connection.)
class SessionReader {
  public:
    SessionReader(int port, const std::string& client_id, const std::string& topic)
        : client_(mosquitto_new(client_id.c_str(), /*clean_session=*/false, this)) {
        if (client_ == nullptr) throw std::runtime_error("mosquitto_new failed");
        mosquitto_subscribe_callback_set(client_, [](mosquitto*, void* self, int, int, const int*) {
            auto* reader = static_cast<SessionReader*>(self);
            std::lock_guard lock(reader->mutex_);
            reader->subscribed_ = true;
        });
        mosquitto_message_callback_set(
            client_, [](mosquitto*, void* self, const mosquitto_message* m) {
                auto* reader = static_cast<SessionReader*>(self);
                std::lock_guard lock(reader->mutex_);
                reader->payloads_.emplace_back(static_cast<const char*>(m->payload),
                                               static_cast<std::size_t>(m->payloadlen));
            });
        if (mosquitto_connect(client_, "127.0.0.1", port, 10) != MOSQ_ERR_SUCCESS ||
            mosquitto_subscribe(client_, nullptr, topic.c_str(), 1) != MOSQ_ERR_SUCCESS) {
            mosquitto_destroy(client_);
            throw std::runtime_error("session reader cannot connect");
        }
        mosquitto_loop_start(client_);
        if (!wait_until(
                [&] {
                    std::lock_guard lock(mutex_);
                    return subscribed_;
                },
                10s)) {
            throw std::runtime_error("session reader: no SUBACK");
        }
    }
    ~SessionReader() {
        mosquitto_disconnect(client_);
        mosquitto_loop_stop(client_, false);
        mosquitto_destroy(client_);
    }
    SessionReader(const SessionReader&) = delete;
    SessionReader& operator=(const SessionReader&) = delete;

    std::vector<std::string> payloads() const {
        std::lock_guard lock(mutex_);
        return payloads_;
    }
    // Payloads in order of first arrival. The broker may deliver a QoS 1 message to this
    // reader again after its own restart (at least once), which says nothing about the
    // publisher under test.
    std::vector<std::string> distinct_payloads() const {
        std::vector<std::string> out;
        for (auto& p : payloads()) {
            if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
        }
        return out;
    }
    bool wait_for_count(std::size_t count, test::Millis timeout) const {
        return wait_until([&] { return distinct_payloads().size() >= count; }, timeout);
    }

  private:
    mosquitto* client_;
    mutable std::mutex mutex_;
    bool subscribed_ = false;
    std::vector<std::string> payloads_;
};

bool wait_for_stats(const Publisher& publisher,
                    const std::function<bool(const PublisherStats&)>& ok,
                    test::Millis timeout = 15s) {
    return wait_until([&] { return ok(publisher.stats()); }, timeout);
}

class PublisherProtocolTest : public ::testing::TestWithParam<int> {};

TEST_P(PublisherProtocolTest, PublishesRetainedBirthOnConnect) {
    Broker broker;
    broker.start();
    CapturingLogger log;
    const auto config =
        config_for(broker.port(), "birth-" + std::to_string(GetParam()), GetParam());
    Publisher publisher(config, log);
    publisher.start();
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.connected; }));

    // A subscriber arriving later still sees the birth: it is retained.
    Subscriber late(broker.port(), {config.health.topic});
    const auto birth = late.wait_for_message(config.health.topic, 10s, "online");
    ASSERT_TRUE(birth.has_value());
    EXPECT_TRUE(birth->retain);
    EXPECT_EQ(birth->qos, 1);
    EXPECT_EQ(publisher.stats().connects, 1u);
    EXPECT_EQ(log.count_containing("connected to"), 1);
}

TEST_P(PublisherProtocolTest, MessagesArriveWithTheirQosAndRetainFlag) {
    Broker broker;
    broker.start();
    Subscriber subscriber(broker.port(), {"data/#"}, {.qos = 2});
    CapturingLogger log;
    Publisher publisher(config_for(broker.port(), "qos-" + std::to_string(GetParam()), GetParam()),
                        log);
    publisher.start();

    const std::vector<Message> sent = {
        message("data/q0", "zero", 0, false),  message("data/q1", "one", 1, false),
        message("data/q2", "two", 2, false),   message("data/q0r", "zero-r", 0, true),
        message("data/q1r", "one-r", 1, true), message("data/q2r", "two-r", 2, true),
    };
    for (const auto& m : sent) publisher.publish(m);

    ASSERT_TRUE(
        subscriber.wait_for([&](const auto& got) { return got.size() >= sent.size(); }, 10s));
    ASSERT_EQ(subscriber.messages().size(), sent.size());
    // MQTT orders messages per QoS level only (mosquitto forwards QoS 2 on PUBREL), so
    // match them by topic.
    for (const auto& m : sent) {
        SCOPED_TRACE(m.topic);
        const auto got = subscriber.on_topic(m.topic);
        ASSERT_EQ(got.size(), 1u);
        EXPECT_EQ(got[0].payload, m.payload);
        EXPECT_EQ(got[0].qos, m.qos);  // the subscription grants up to 2
        EXPECT_EQ(got[0].retain, m.retain);
    }
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.delivered == 4; }));
    const auto stats = publisher.stats();
    EXPECT_EQ(stats.published, 6u);
    EXPECT_EQ(stats.in_flight, 0u);
    EXPECT_EQ(stats.dropped, 0u);
}

TEST_P(PublisherProtocolTest, StopPublishesOfflineAndTheBrokerSendsNoWill) {
    Broker broker;
    broker.start();
    CapturingLogger log;
    const auto config =
        config_for(broker.port(), "offline-" + std::to_string(GetParam()), GetParam());
    Subscriber subscriber(broker.port(), {config.health.topic, "data/#"});
    Publisher publisher(config, log);
    publisher.start();
    ASSERT_TRUE(subscriber.wait_for_message(config.health.topic, 10s, "online").has_value());

    publisher.publish(message("data/last", "before-offline", 1));
    publisher.stop(5s);
    EXPECT_FALSE(publisher.stats().connected);
    EXPECT_EQ(publisher.stats().delivered, 1u);

    const auto offline = subscriber.wait_for_message(config.health.topic, 10s, "offline");
    ASSERT_TRUE(offline.has_value());
    EXPECT_TRUE(offline->retain);
    // A Will would be a second "offline" right after the connection closed.
    std::this_thread::sleep_for(1500ms);
    const auto status = payloads(subscriber.on_topic(config.health.topic));
    EXPECT_EQ(status, (std::vector<std::string>{"online", "offline"}));
    // The data message went out before the offline message.
    const auto all = payloads(subscriber.messages());
    EXPECT_EQ(all, (std::vector<std::string>{"online", "before-offline", "offline"}));
    // The retained status is now offline.
    Subscriber later(broker.port(), {config.health.topic});
    EXPECT_TRUE(later.wait_for_message(config.health.topic, 10s, "offline").has_value());
}

INSTANTIATE_TEST_SUITE_P(Mqtt, PublisherProtocolTest, ::testing::Values(4, 5),
                         [](const auto& info) { return info.param == 5 ? "v5" : "v311"; });

TEST(Publisher, DeliversMessagesQueuedBeforeTheBrokerStarted) {
    Broker broker;
    broker.start();
    { SessionReader session(broker.port(), "late-reader", "late/#"); }
    broker.stop();

    CapturingLogger log;
    Publisher publisher(config_for(broker.port(), "late-writer"), log);
    publisher.start();
    const auto expected = numbered("m", 0, 20);
    for (const auto& p : expected) publisher.publish(message("late/x", p, 1));
    std::this_thread::sleep_for(1500ms);  // several failed attempts
    auto stats = publisher.stats();
    EXPECT_FALSE(stats.connected);
    EXPECT_EQ(stats.queued, 20u);
    EXPECT_EQ(stats.published, 0u);
    // One line for the state change, not one per retry.
    EXPECT_EQ(log.count_containing("cannot connect"), 1);

    broker.start();
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.delivered == 20; }));
    EXPECT_EQ(publisher.stats().queued, 0u);
    EXPECT_EQ(log.count_containing("connected to"), 1);

    SessionReader reader(broker.port(), "late-reader", "late/#");
    ASSERT_TRUE(reader.wait_for_count(20, 10s));
    EXPECT_EQ(reader.distinct_payloads(), expected);
}

TEST(Publisher, DeliversMessagesQueuedWhileTheBrokerRestarts) {
    Broker broker;
    broker.start();
    SessionReader reader(broker.port(), "restart-reader", "restart/#");
    CapturingLogger log;
    Publisher publisher(config_for(broker.port(), "restart-writer"), log);
    publisher.start();
    for (const auto& p : numbered("a", 0, 10)) publisher.publish(message("restart/x", p, 1));
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.delivered == 10; }));

    broker.stop();
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return !s.connected; }));
    for (const auto& p : numbered("b", 0, 10)) publisher.publish(message("restart/x", p, 1));
    EXPECT_EQ(publisher.stats().queued, 10u);
    broker.start();

    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.delivered == 20; }));
    EXPECT_EQ(publisher.stats().connects, 2u);
    ASSERT_TRUE(reader.wait_for_count(20, 15s));
    auto expected = numbered("a", 0, 10);
    const auto second = numbered("b", 0, 10);
    expected.insert(expected.end(), second.begin(), second.end());
    EXPECT_EQ(reader.distinct_payloads(), expected);
    EXPECT_EQ(log.count_containing("lost"), 1);
    EXPECT_EQ(log.count_containing("connected to"), 2);
}

TEST(Publisher, FullQueueDropsTheOldestAndCountsThem) {
    Broker broker;
    broker.start();
    { SessionReader session(broker.port(), "bound-reader", "bound/#"); }
    broker.stop();

    CapturingLogger log;
    auto config = config_for(broker.port(), "bound-writer");
    config.buffer.dir.clear();  // memory only: the outbox bounds QoS 1 messages too
    Publisher publisher(config, log, /*queue_capacity=*/5);
    publisher.start();
    for (const auto& p : numbered("m", 0, 8)) publisher.publish(message("bound/x", p, 1));
    auto stats = publisher.stats();
    EXPECT_EQ(stats.queued, 5u);
    EXPECT_EQ(stats.dropped, 3u);

    broker.start();
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.delivered == 5; }));
    SessionReader reader(broker.port(), "bound-reader", "bound/#");
    ASSERT_TRUE(reader.wait_for_count(5, 10s));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(reader.payloads(), numbered("m", 3, 8));
    EXPECT_EQ(publisher.stats().dropped, 3u);
}

TEST(Publisher, ConcurrentPublishersLoseNothingAtQos1) {
    Broker broker;
    broker.start();
    Subscriber subscriber(broker.port(), {"mt/#"}, {.qos = 1});
    CapturingLogger log;
    Publisher publisher(config_for(broker.port(), "threads"), log);
    publisher.start();
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.connected; }));

    constexpr int kThreads = 4;
    constexpr int kEach = 2500;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&publisher, t] {
            const std::string topic = "mt/" + std::to_string(t);
            for (int i = 0; i < kEach; ++i) publisher.publish(message(topic, std::to_string(i), 1));
        });
    }
    for (auto& thread : threads) thread.join();

    ASSERT_TRUE(wait_for_stats(
        publisher, [](const auto& s) { return s.delivered == kThreads * kEach; }, 30s))
        << "delivered " << publisher.stats().delivered;
    ASSERT_TRUE(subscriber.wait_for(
        [](const auto& got) { return got.size() >= std::size_t{kThreads * kEach}; }, 30s));
    for (int t = 0; t < kThreads; ++t) {
        // Every message of each thread, in the order that thread published them.
        EXPECT_EQ(payloads(subscriber.on_topic("mt/" + std::to_string(t))), numbered("", 0, kEach))
            << "thread " << t;
    }
    const auto stats = publisher.stats();
    EXPECT_EQ(stats.published, std::uint64_t{kThreads * kEach});
    EXPECT_EQ(stats.dropped, 0u);
}

TEST(Publisher, RefusesInvalidMessagesAndKeepsGoing) {
    Broker broker;
    broker.start();
    Subscriber subscriber(broker.port(), {"ok/#"});
    CapturingLogger log;
    Publisher publisher(config_for(broker.port(), "invalid"), log);
    publisher.start();
    publisher.publish(message("bad/+/wildcard", "x", 1));
    publisher.publish(message("", "x", 1));
    publisher.publish(message("ok/qos", "x", 3));
    publisher.publish(message("ok/fine", "y", 1));
    ASSERT_TRUE(subscriber.wait_for_message("ok/fine", 10s).has_value());
    EXPECT_EQ(publisher.stats().rejected, 3u);
    EXPECT_EQ(payloads(subscriber.messages()), (std::vector<std::string>{"y"}));
}

TEST(Publisher, PublishesABatchInOrderRefusingOnlyItsInvalidMessages) {
    Broker broker;
    broker.start();
    Subscriber subscriber(broker.port(), {"batch/#"});
    CapturingLogger log;
    Publisher publisher(config_for(broker.port(), "batch"), log);
    publisher.start();
    std::vector<Message> batch;
    for (int i = 0; i < 30; ++i) {
        batch.push_back(message("batch/q1", "m" + std::to_string(i), 1));
        if (i % 10 == 5) batch.push_back(message("batch/+/bad", "x", 1));
    }
    publisher.publish(batch);
    std::vector<Message> qos0;
    for (int i = 0; i < 30; ++i) qos0.push_back(message("batch/q0", "z" + std::to_string(i), 0));
    publisher.publish(qos0);
    ASSERT_TRUE(wait_until([&] { return subscriber.messages().size() >= 60; }, 10s));
    EXPECT_EQ(payloads(subscriber.on_topic("batch/q1")), numbered("m", 0, 30));
    EXPECT_EQ(payloads(subscriber.on_topic("batch/q0")), numbered("z", 0, 30));
    const PublisherStats stats = publisher.stats();
    EXPECT_EQ(stats.rejected, 3u);
    EXPECT_EQ(stats.published, 60u);
    EXPECT_EQ(stats.queued, 0u);
}

// The port of the peer of socket `fd`, or -1 when it is no connected TCP socket.
int peer_port(int fd) {
    sockaddr_in peer{};
    socklen_t size = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) != 0) return -1;
    if (peer.sin_family != AF_INET) return -1;
    return ntohs(peer.sin_port);
}

TEST(Publisher, TurnsOffNagleOnItsConnection) {
    Broker broker;
    broker.start();
    CapturingLogger log;
    Publisher publisher(config_for(broker.port(), "nodelay"), log);
    publisher.start();
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.connected; }));
    // The publisher's socket is the only one of this process connected to the broker.
    int checked = 0;
    for (int fd = 0; fd < 1024; ++fd) {
        if (peer_port(fd) != broker.port()) continue;
        int nodelay = 0;
        socklen_t size = sizeof nodelay;
        ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &size), 0);
        EXPECT_EQ(nodelay, 1);
        ++checked;
    }
    EXPECT_EQ(checked, 1);
}

// What one wake-up of the network thread takes leaves in a few TCP segments, not one per
// message (TCP_NODELAY alone would send each message in a segment of its own): the broker
// and every subscriber read the burst at once. Counted by a proxy in front of the broker.
TEST(Publisher, SendsABurstInAFewSegmentsNotOnePerMessage) {
    Broker broker;
    broker.start();
    Subscriber subscriber(broker.port(), {"burst/#", "test/burst/status"});
    test::DelayProxy proxy(broker.port());
    CapturingLogger log;
    Publisher publisher(config_for(proxy.port(), "burst"), log);
    publisher.start();
    ASSERT_TRUE(wait_for_stats(publisher, [](const auto& s) { return s.connected; }));
    ASSERT_TRUE(subscriber.wait_for_message("test/burst/status", 5s).has_value());
    // Bursts of five, the size of one event-loop turn's readings at a few thousand a second.
    constexpr int kBursts = 20;
    constexpr int kBurst = 5;
    const std::uint64_t before = proxy.client_segments();
    for (int b = 0; b < kBursts; ++b) {
        std::vector<Message> burst;
        for (int i = 0; i < kBurst; ++i) {
            burst.push_back(message("burst/" + std::to_string(b) + "/" + std::to_string(i),
                                    "{\"value\":" + std::to_string(i) + "}", 0));
        }
        publisher.publish(burst);
        const std::string last = "burst/" + std::to_string(b) + "/" + std::to_string(kBurst - 1);
        ASSERT_TRUE(wait_until([&] { return subscriber.on_topic(last).size() == 1; }, 10s)) << b;
    }
    const std::uint64_t segments = proxy.client_segments() - before;
    std::printf("%d bursts of %d messages in %llu segments\n", kBursts, kBurst,
                static_cast<unsigned long long>(segments));
    EXPECT_GE(segments, static_cast<std::uint64_t>(kBursts));
    EXPECT_LE(segments, static_cast<std::uint64_t>(kBursts * 3 / 2));  // one a burst, a few more
    EXPECT_EQ(subscriber.messages().size(), kBursts * kBurst + 1u);    // and the birth
}

TEST(Publisher, SeveralPublishersShareTheProcess) {
    Broker broker;
    broker.start();
    Subscriber subscriber(broker.port(), {"multi/#"});
    CapturingLogger log;
    auto first = std::make_unique<Publisher>(config_for(broker.port(), "multi-1"), log);
    Publisher second(config_for(broker.port(), "multi-2"), log);
    first->start();
    second.start();
    first->publish(message("multi/1", "a"));
    second.publish(message("multi/2", "b"));
    ASSERT_TRUE(subscriber.wait_for([](const auto& got) { return got.size() >= 2; }, 10s));
    first.reset();  // destroyed without stop(): stops with a short grace
    second.publish(message("multi/2", "c"));
    ASSERT_TRUE(subscriber.wait_for_message("multi/2", 10s, "c").has_value());
}

TEST(Publisher, StopWhileTheBrokerIsAwayEndsWithinTheGrace) {
    CapturingLogger log;
    auto config = config_for(test::free_port(), "away");
    config.buffer.dir.clear();  // memory only: what is queued is lost at stop
    Publisher publisher(config, log);
    EXPECT_FALSE(publisher.stats().spooling);
    publisher.start();
    for (const auto& p : numbered("m", 0, 3)) publisher.publish(message("away/x", p, 1));
    std::this_thread::sleep_for(200ms);
    const auto before = std::chrono::steady_clock::now();
    publisher.stop(300ms);
    EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
    const auto stats = publisher.stats();
    EXPECT_EQ(stats.dropped, 3u);
    EXPECT_EQ(stats.queued, 0u);
    EXPECT_EQ(log.count_containing("3 queued"), 1);
}

// A "broker" that completes the TCP handshake (the kernel does) but never answers.
TEST(Publisher, AbandonsAnAttemptWithoutConnack) {
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(listen(listener, 8), 0);
    socklen_t length = sizeof address;
    ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);

    CapturingLogger log;
    auto config = config_for(ntohs(address.sin_port), "silent");
    config.keepalive = 60s;  // longer than kConnectTimeout, so the Publisher's own timeout acts
    Publisher publisher(config, log);
    publisher.start();
    EXPECT_TRUE(wait_until([&] { return log.count_containing("no CONNACK") == 1; },
                           Publisher::kConnectTimeout + 5s))
        << ::testing::PrintToString(log.lines());
    EXPECT_FALSE(publisher.stats().connected);
    publisher.stop(100ms);
    close(listener);
}

TEST(Publisher, StopWithoutStartDropsWhatWasQueued) {
    CapturingLogger log;
    auto config = config_for(test::free_port(), "never");
    config.buffer.dir.clear();
    Publisher publisher(config, log);
    publisher.publish(message("x/y", "1"));
    publisher.stop(100ms);
    publisher.publish(message("x/y", "2"));
    const auto stats = publisher.stats();
    EXPECT_EQ(stats.dropped, 2u);
    EXPECT_EQ(stats.queued, 0u);
}

// ---- broker refusals (MQTT 5 reason codes) ------------------------------------------------

// A broker whose ACL lets anonymous clients write only under allowed/ (and read everything).
Broker acl_broker(const test::TempDir& dir) {
    const std::string acl = dir.write("acl", "topic read #\ntopic write allowed/#\n");
    return Broker(Broker::Options{.persistence = false, .extra_config = "acl_file " + acl + "\n"});
}

Message rule_message(std::string topic, std::string payload, std::string rule) {
    Message m = message(std::move(topic), std::move(payload), 1);
    m.rule = std::move(rule);
    return m;
}

TEST(PublisherRefusals, DeniedTopicIsCountedPerRuleDroppedFromTheSpoolAndOthersFlow) {
    test::TempDir dir;
    Broker broker = acl_broker(dir);
    broker.start();
    Subscriber subscriber(broker.port(), {"#"});
    CapturingLogger log;
    auto config = config_for(broker.port(), "refused-v5", 5);
    config.health.topic.clear();  // the ACL would deny it too; not what this test is about
    Publisher publisher(config, log);
    publisher.start();
    constexpr int kDenied = Logger::kBurst + 5;
    for (int i = 0; i < kDenied; ++i) {
        publisher.publish(rule_message("denied/x", "d" + std::to_string(i), "denied-rule"));
    }
    for (int i = 0; i < 5; ++i) {
        publisher.publish(rule_message("allowed/x", "a" + std::to_string(i), "allowed-rule"));
    }
    ASSERT_TRUE(wait_for_stats(publisher, [](const PublisherStats& s) {
        return s.refused == kDenied && s.delivered == 5 && s.spooled_records == 0;
    })) << ::testing::PrintToString(log.lines());
    // Acknowledged by the broker does not mean passed on yet: wait for the reader.
    EXPECT_TRUE(
        subscriber.wait_for([](const std::vector<Received>& got) { return got.size() >= 5; }, 10s));
    EXPECT_EQ(payloads(subscriber.on_topic("allowed/x")), numbered("a", 0, 5));
    EXPECT_TRUE(subscriber.on_topic("denied/x").empty());
    const PublisherStats stats = publisher.stats();
    EXPECT_EQ(stats.refused_by_rule,
              (std::map<std::string, std::uint64_t>{{"denied-rule", kDenied}}));
    EXPECT_EQ(stats.rejected, 0u);
    EXPECT_TRUE(stats.spooling);  // the refused records left the spool (spooled_records == 0)
    // Logged with the topic, the rule and the reason, and rate-limited: not once per message.
    const int lines = log.count_containing(
        "the broker refused the message on 'denied/x' (rule denied-rule): Not authorized (0x87)");
    EXPECT_GE(lines, 1) << ::testing::PrintToString(log.lines());
    EXPECT_LE(lines, Logger::kBurst) << ::testing::PrintToString(log.lines());

    // Nothing is retried: after a reconnect the refused messages do not come back.
    broker.stop();
    broker.start();
    Subscriber after(broker.port(), {"#"});
    publisher.publish(rule_message("allowed/x", "after", "allowed-rule"));
    ASSERT_TRUE(after.wait_for_message("allowed/x", 20s, "after").has_value());
    EXPECT_EQ(publisher.stats().refused, std::uint64_t{kDenied});
    EXPECT_TRUE(after.on_topic("denied/x").empty());
}

// MQTT 3.1.1 has no way to say no: the broker acknowledges the denied message and drops it.
// The publisher can only count it as delivered (docs/security.md tells users what to look at).
TEST(PublisherRefusals, Mqtt311BrokerDropsDeniedMessagesSilently) {
    test::TempDir dir;
    Broker broker = acl_broker(dir);
    broker.start();
    Subscriber subscriber(broker.port(), {"#"});
    CapturingLogger log;
    auto config = config_for(broker.port(), "refused-v311", 4);
    config.health.topic.clear();
    Publisher publisher(config, log);
    publisher.start();
    publisher.publish(rule_message("denied/x", "d", "denied-rule"));
    publisher.publish(rule_message("allowed/x", "a", "allowed-rule"));
    ASSERT_TRUE(subscriber.wait_for_message("allowed/x", 10s, "a").has_value());
    ASSERT_TRUE(
        wait_for_stats(publisher, [](const PublisherStats& s) { return s.delivered == 2; }));
    EXPECT_EQ(publisher.stats().refused, 0u);
    EXPECT_TRUE(subscriber.on_topic("denied/x").empty());
}

// ---- subscriptions (write-back commands) -----------------------------------------------------

struct Inbox {
    struct Item {
        std::string topic, payload;
        bool retained;
    };
    mutable std::mutex mutex;
    std::vector<Item> items;

    Publisher::IncomingHandler handler() {
        return [this](std::string_view topic, std::string_view payload, bool retained) {
            std::lock_guard lock(mutex);
            items.push_back({std::string(topic), std::string(payload), retained});
        };
    }
    std::vector<Item> all() const {
        std::lock_guard lock(mutex);
        return items;
    }
    bool wait_for(std::string_view topic, std::string_view payload, test::Millis timeout = 10s) {
        return wait_until(
            [&] {
                for (const auto& item : all()) {
                    if (item.topic == topic && item.payload == payload) return true;
                }
                return false;
            },
            timeout);
    }
};

// Publishes one message with mosquitto_pub and waits for it to be handed over.
void send(int port, const std::string& topic, const std::string& payload, bool retain = false) {
    static const test::TempDir logs;
    const std::string log = logs.file("pub-" + std::to_string(test::free_port()) + ".log");
    ASSERT_EQ(test::publish_with_mosquitto_pub(port, topic, payload, retain, log), "");
}

TEST_P(PublisherProtocolTest, SubscribedTopicsReachTheHandlerAcrossReconnectsAndChanges) {
    Broker broker;
    broker.start();
    CapturingLogger log;
    Inbox inbox;
    send(broker.port(), "cmd/stale", "old", /*retain=*/true);
    Publisher publisher(
        config_for(broker.port(), "subscriber-" + std::to_string(GetParam()), GetParam()), log);
    publisher.set_subscriptions({"cmd/a", "cmd/stale"}, inbox.handler());
    publisher.start();
    // The retained message comes first, flagged as such.
    ASSERT_TRUE(inbox.wait_for("cmd/stale", "old"));
    EXPECT_TRUE(inbox.all().front().retained);
    send(broker.port(), "cmd/a", "1");
    ASSERT_TRUE(inbox.wait_for("cmd/a", "1"));
    EXPECT_FALSE(inbox.all().back().retained);

    // A new set replaces the old one while connected.
    publisher.set_subscriptions({"cmd/b"}, inbox.handler());
    ASSERT_TRUE(wait_until(
        [&] {
            send(broker.port(), "cmd/b", "probe");
            return inbox.wait_for("cmd/b", "probe", 500ms);
        },
        10s));
    send(broker.port(), "cmd/a", "2");
    send(broker.port(), "cmd/b", "3");
    ASSERT_TRUE(inbox.wait_for("cmd/b", "3"));
    EXPECT_FALSE(inbox.wait_for("cmd/a", "2", 300ms));

    // A clean session loses subscriptions with the connection: they are made again.
    broker.stop();
    broker.start();
    ASSERT_TRUE(wait_for_stats(publisher, [](const PublisherStats& s) { return s.connects >= 2; }));
    ASSERT_TRUE(wait_until(
        [&] {
            send(broker.port(), "cmd/b", "after-restart");
            return inbox.wait_for("cmd/b", "after-restart", 500ms);
        },
        15s));
}

}  // namespace
}  // namespace nodebridge

namespace nodebridge {
namespace {

// Session hooks (Sparkplug's Will and births): a fresh Will per connect, the connected
// messages before anything queued, end_session() delivering the Will and reconnecting.
TEST(PublisherSessionHooks, WillPerConnectFirstMessagesAndEndSession) {
    Broker broker(Broker::Options{.persistence = false});
    broker.start();
    Subscriber reader(broker.port(), {"hooks/#"});
    CapturingLogger log;
    MqttConfig config = config_for(broker.port(), "hooks-client");
    config.buffer.dir.clear();
    config.health.topic = "hooks/status";
    Publisher publisher(config, log);
    std::mutex mutex;
    int wills = 0;
    int ups = 0;
    int downs = 0;
    publisher.set_session_hooks(Publisher::SessionHooks{
        .will =
            [&] {
                std::lock_guard lock(mutex);
                return message("hooks/will", "will-" + std::to_string(wills++), 1);
            },
        .connected =
            [&] {
                std::lock_guard lock(mutex);
                ++ups;
                return std::vector<Message>{
                    message("hooks/first", "first-" + std::to_string(ups), 0)};
            },
        .disconnected =
            [&] {
                std::lock_guard lock(mutex);
                ++downs;
            },
    });
    publisher.publish(message("hooks/data", "queued", 0));  // queued before any connection
    publisher.start();
    ASSERT_TRUE(reader.wait_for_message("hooks/data", 10s, "queued"));
    auto all = reader.messages();
    const auto first = std::find_if(all.begin(), all.end(),
                                    [](const Received& r) { return r.topic == "hooks/first"; });
    const auto data = std::find_if(all.begin(), all.end(),
                                   [](const Received& r) { return r.topic == "hooks/data"; });
    ASSERT_NE(first, all.end());
    EXPECT_LT(first - all.begin(), data - all.begin()) << "connected messages go first";

    // end_session(): the Will of this connection is delivered, and the next connection
    // registers the next Will and sends its first messages again.
    publisher.end_session();
    EXPECT_TRUE(reader.wait_for_message("hooks/will", 10s, "will-0"));
    EXPECT_TRUE(reader.wait_for_message("hooks/first", 15s, "first-2"));
    {
        std::lock_guard lock(mutex);
        EXPECT_EQ(wills, 2);
        EXPECT_EQ(downs, 1);
    }
    // A stop delivers the current Will (will-1), since the hooks set one.
    publisher.stop(2s);
    EXPECT_TRUE(reader.wait_for_message("hooks/will", 10s, "will-1"));
    // The health topic's offline message is still published at a clean stop.
    EXPECT_TRUE(reader.wait_for_message("hooks/status", 5s, "offline"));
}

}  // namespace
}  // namespace nodebridge

namespace nodebridge {
namespace {

// session_scoped: what was queued before a connection is never sent on it; the connected
// messages are its first.
TEST(PublisherSessionHooks, SessionScopedQueueNeverCrossesAConnection) {
    Broker broker(Broker::Options{.persistence = false});
    broker.start();
    Subscriber reader(broker.port(), {"scoped/#"});
    CapturingLogger log;
    MqttConfig config = config_for(broker.port(), "scoped-client");
    config.buffer.dir.clear();
    config.health.topic.clear();
    Publisher publisher(config, log);
    publisher.set_session_hooks(Publisher::SessionHooks{
        .will = [] { return message("scoped/will", "gone", 1); },
        .connected = [] { return std::vector<Message>{message("scoped/first", "birth", 0)}; },
        .session_scoped = true,
    });
    publisher.publish(message("scoped/data", "before", 0));  // no connection to belong to
    publisher.start();
    ASSERT_TRUE(reader.wait_for_message("scoped/first", 10s, "birth"));
    publisher.publish(message("scoped/data", "during", 0));
    ASSERT_TRUE(reader.wait_for_message("scoped/data", 10s, "during"));
    const auto all = reader.messages();
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.front().topic, "scoped/first");
    for (const Received& r : all) EXPECT_NE(r.payload, "before");
    EXPECT_EQ(publisher.stats().dropped_session_end, 1u);
    EXPECT_EQ(publisher.stats().dropped, 1u);
    publisher.stop(2s);
}

// end_session(true): a connection ended at once counts as a failed attempt, so the
// reconnects back off (doubling up to reconnect_max) instead of restarting at 500 ms.
TEST(PublisherSessionHooks, SessionsEndedAsFailedAttemptsBackOff) {
    Broker broker(Broker::Options{.persistence = false});
    broker.start();
    CapturingLogger log;
    MqttConfig config = config_for(broker.port(), "backoff-client");
    config.buffer.dir.clear();
    config.reconnect_max = 2s;
    Publisher publisher(config, log);
    publisher.set_session_hooks(Publisher::SessionHooks{
        .will = [] { return message("backoff/will", "gone", 1); },
    });
    publisher.start();
    const auto started = std::chrono::steady_clock::now();
    std::uint64_t ended = 0;
    while (std::chrono::steady_clock::now() - started < 5s) {
        const auto connects = publisher.stats().connects;
        if (connects > ended && publisher.stats().connected) {
            ended = connects;
            publisher.end_session(true);
        }
        std::this_thread::sleep_for(5ms);
    }
    const auto elapsed =
        std::chrono::duration_cast<test::Millis>(std::chrono::steady_clock::now() - started);
    // The first connect at once, then waits of at least half of 0.5 s, 1 s, 2 s, 2 s, ...
    std::size_t allowed = 1;
    test::Millis ceiling = Publisher::kFirstRetryDelay;
    for (test::Millis waited{0};; ceiling *= 2) {
        waited += std::min<test::Millis>(ceiling, config.reconnect_max) / 2;
        if (waited > elapsed) break;
        ++allowed;
    }
    EXPECT_GE(publisher.stats().connects, 3u);
    EXPECT_LE(publisher.stats().connects, allowed) << "in " << elapsed.count() << " ms";
    publisher.stop(1s);
}

}  // namespace
}  // namespace nodebridge
