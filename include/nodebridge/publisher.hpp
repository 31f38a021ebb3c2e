#pragma once
// The Publisher owns the MQTT session: connect with the Last Will, publish the birth
// message, reconnect by itself, and hand messages to the broker.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "nodebridge/config.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/message.hpp"

namespace nodebridge {

struct PublisherStats {
    bool connected = false;
    std::uint64_t published = 0;   // messages handed to the broker
    std::uint64_t delivered = 0;   // QoS>0 messages acknowledged by the broker
    std::uint64_t dropped = 0;     // messages given up on (queue full)
    std::uint64_t queued = 0;      // messages waiting for a connection
    std::uint64_t connects = 0;    // successful connections since start
};

class Publisher {
public:
    Publisher(const MqttConfig& config, Logger& log);
    ~Publisher();
    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;

    // Starts the network thread and connects in the background; returns at once.
    void start();

    // Queues `message` for the broker. Thread-safe; never blocks on the network. While the
    // broker is away, messages wait in a bounded in-memory queue (oldest dropped, counted).
    void publish(Message message);

    // Publishes the offline health message, waits up to `grace` for QoS>0 messages in flight
    // to be acknowledged, disconnects and stops the network thread.
    void stop(std::chrono::milliseconds grace);

    PublisherStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nodebridge
