#pragma once
// The Publisher owns the MQTT session: connect with the Last Will, publish the birth
// message, reconnect by itself, and hand messages to the broker in the order they came.
//
// Threading: one network thread per Publisher (started by start()) is the only thread that
// touches the libmosquitto client; publish() and stats() may be called from any thread and
// only take a short lock. Messages wait in a bounded in-memory outbox until the network
// thread hands them to the broker; at most kMaxInFlight QoS>0 messages are unacknowledged
// at a time, so neither the outbox nor libmosquitto's own queue grows without bound.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "nodebridge/config.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/message.hpp"

namespace nodebridge {

// Counters since construction. Health messages (birth, offline) are not counted.
struct PublisherStats {
    bool connected = false;
    std::uint64_t published = 0;  // messages handed to the broker
    std::uint64_t delivered = 0;  // QoS>0 messages acknowledged by the broker
    std::uint64_t dropped = 0;    // messages given up on (outbox full, or left at stop)
    std::uint64_t rejected = 0;   // messages refused as invalid (bad topic, qos, oversize)
    std::uint64_t queued = 0;     // messages waiting in the outbox for the broker
    std::uint64_t in_flight = 0;  // QoS>0 messages handed over, not yet acknowledged
    std::uint64_t connects = 0;   // successful connections (CONNACK accepted) since start
};

class Publisher {
  public:
    static constexpr std::size_t kDefaultQueueCapacity = 100'000;
    // QoS>0 messages handed to the broker and not yet acknowledged, at most.
    static constexpr std::size_t kMaxInFlight = 100;
    // Reconnect delays grow from the first to the last, doubling, with random jitter.
    static constexpr std::chrono::milliseconds kFirstRetryDelay{500};
    static constexpr std::chrono::milliseconds kMaxRetryDelay{30'000};
    // A connection attempt without CONNACK within this time is abandoned and retried.
    static constexpr std::chrono::milliseconds kConnectTimeout{10'000};

    // Builds the client from `config` (client id already expanded) but opens nothing.
    // `queue_capacity` bounds the outbox (0 is taken as 1). `log` must outlive the Publisher.
    Publisher(const MqttConfig& config, Logger& log,
              std::size_t queue_capacity = kDefaultQueueCapacity);
    // Stops with a short grace (kDestructorGrace) when stop() was not called.
    ~Publisher();
    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;

    static constexpr std::chrono::milliseconds kDestructorGrace{500};

    // Starts the network thread, which connects in the background and reconnects by itself
    // with backoff; returns at once. Calling it twice, or after stop(), does nothing.
    void start();

    // Queues `message` for the broker. Thread-safe; never blocks on the network. Messages
    // leave in the order publish() was called. While the broker is away they wait in the
    // bounded outbox (when full the oldest is dropped and counted). A message with an
    // invalid topic or QoS is refused and counted in `rejected`; after stop() messages are
    // counted as dropped.
    void publish(Message message);

    // Hands the outbox to the broker while `grace` lasts, then publishes the offline health
    // message, waits for QoS>0 messages in flight to be acknowledged (until `grace` is
    // spent), disconnects cleanly (so the broker does not send the Will) and joins the
    // network thread. What is still queued afterwards is counted as dropped. Idempotent.
    void stop(std::chrono::milliseconds grace);

    // A consistent snapshot of the counters. Thread-safe.
    PublisherStats stats() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nodebridge
