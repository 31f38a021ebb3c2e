// publish_spool_writer SPOOL_DIR PORT TOPIC COUNT: a Publisher (spool in SPOOL_DIR, broker on
// 127.0.0.1:PORT) that publishes COUNT QoS 1 messages "0".."COUNT-1" on TOPIC, prints
// "accepted COUNT" once publish() returned for all, then waits to be killed. The
// store-and-forward tests SIGKILL it to play a daemon that dies without a clean stop.

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include "nodebridge/publisher.hpp"

namespace {

class StderrLogger final : public nodebridge::Logger {
  public:
    StderrLogger() : Logger(nodebridge::LogLevel::info) {}

  protected:
    void write(nodebridge::LogLevel, std::string_view message,
               const nodebridge::LogContext&) override {
        // One write per line: the test reads stdout and stderr from one file, and a line
        // written in pieces can land inside the "accepted" line it waits for.
        std::cerr << (std::string(message) + '\n') << std::flush;
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: publish_spool_writer SPOOL_DIR PORT TOPIC COUNT\n";
        return 2;
    }
    nodebridge::MqttConfig config;
    config.host = "127.0.0.1";
    config.port = std::stoi(argv[2]);
    config.client_id = "spool-writer";
    config.keepalive = std::chrono::seconds(5);
    config.buffer.dir = argv[1];
    StderrLogger log;
    // Never stopped: it lives until the test kills it.
    auto* publisher = new nodebridge::Publisher(config, log);
    publisher->start();
    const int count = std::stoi(argv[4]);
    for (int i = 0; i < count; ++i) {
        publisher->publish(
            nodebridge::Message{.topic = argv[3], .payload = std::to_string(i), .qos = 1});
    }
    std::cout << ("accepted " + std::to_string(count) + '\n') << std::flush;
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}
