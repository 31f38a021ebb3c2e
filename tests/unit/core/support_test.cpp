// The test-support library is itself tested: a wrong helper would make every test wrong.
#include "support/support.hpp"

#include <gtest/gtest.h>
#include <mosquitto.h>

#include <filesystem>

namespace nodebridge::test {
namespace {

TEST(Support, TempDirIsRemoved) {
    std::string path;
    {
        TempDir dir;
        path = dir.write("a/b.txt", "hello");
        EXPECT_EQ(read_file(path), "hello");
    }
    EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Support, ProcessReportsExitCodeAndOutput) {
    TempDir dir;
    Process process({"/bin/sh", "-c", "echo hi; exit 3"}, dir.file("log"));
    EXPECT_EQ(process.wait_for_exit(10s), 3);
    EXPECT_EQ(process.output(), "hi\n");
}

TEST(Support, ProcessKilledBySignal) {
    TempDir dir;
    Process process({"/bin/sleep", "30"}, dir.file("log"));
    EXPECT_TRUE(process.running());
    process.signal(SIGTERM);
    EXPECT_EQ(process.wait_for_exit(10s), 128 + SIGTERM);
}

TEST(Support, SubscriberSeesRetainFlagAsPublished) {
    Broker broker;
    broker.start();
    Subscriber subscriber(broker.port(), {"t/#"});
    mosquitto* client = mosquitto_new(nullptr, true, nullptr);
    ASSERT_EQ(mosquitto_connect(client, "127.0.0.1", broker.port(), 10), MOSQ_ERR_SUCCESS);
    mosquitto_loop_start(client);
    mosquitto_publish(client, nullptr, "t/plain", 1, "a", 1, false);
    mosquitto_publish(client, nullptr, "t/kept", 1, "b", 1, true);
    ASSERT_TRUE(subscriber.wait_for_message("t/kept", 10s).has_value());
    ASSERT_TRUE(subscriber.wait_for_message("t/plain", 10s).has_value());
    EXPECT_FALSE(subscriber.on_topic("t/plain").front().retain);
    EXPECT_TRUE(subscriber.on_topic("t/kept").front().retain);
    EXPECT_EQ(subscriber.on_topic("t/kept").front().qos, 1);
    mosquitto_disconnect(client);
    mosquitto_loop_stop(client, true);
    mosquitto_destroy(client);
}

TEST(Support, BrokerRestartsOnSamePortAndKeepsRetained) {
    Broker broker;
    broker.start();
    {
        mosquitto* client = mosquitto_new(nullptr, true, nullptr);
        ASSERT_EQ(mosquitto_connect(client, "127.0.0.1", broker.port(), 10), MOSQ_ERR_SUCCESS);
        mosquitto_publish(client, nullptr, "r/x", 1, "v", 1, true);
        for (int i = 0; i < 20; ++i) mosquitto_loop(client, 50, 1);
        mosquitto_disconnect(client);
        mosquitto_destroy(client);
    }
    broker.stop(SIGTERM);
    broker.start();
    Subscriber subscriber(broker.port(), {"r/#"});
    auto kept = subscriber.wait_for_message("r/x", 10s);
    ASSERT_TRUE(kept.has_value());
    EXPECT_EQ(kept->payload, "v");
}

}  // namespace
}  // namespace nodebridge::test

namespace nodebridge::test {
namespace {

TEST(Support, PersistentSubscriberGetsWhatWasPublishedWhileAway) {
    Broker broker;
    broker.start();
    Subscriber::Options options;
    options.qos = 1;
    options.client_id = "support-persistent";
    options.persistent = true;
    { Subscriber first(broker.port(), {"p/#"}, options); }
    mosquitto* client = mosquitto_new(nullptr, true, nullptr);
    ASSERT_EQ(mosquitto_connect(client, "127.0.0.1", broker.port(), 10), MOSQ_ERR_SUCCESS);
    mosquitto_publish(client, nullptr, "p/away", 1, "x", 1, false);
    for (int i = 0; i < 20; ++i) mosquitto_loop(client, 50, 1);
    mosquitto_disconnect(client);
    mosquitto_destroy(client);
    Subscriber again(broker.port(), {"p/#"}, options);
    EXPECT_TRUE(again.wait_for_message("p/away", 10s).has_value());
}

}  // namespace
}  // namespace nodebridge::test
