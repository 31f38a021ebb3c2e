#pragma once
// The Sparkplug edge node in the daemon: serialises the pure EdgeNode (src/sparkplug/)
// between the mapping thread (samples, ticks) and the network thread of its own MQTT
// session (session hooks, NCMD/DCMD/STATE), and publishes what it returns in its order
// while holding the lock, so seq numbers reach the broker in publish order.
//
// The session is a Publisher of its own (client id "<mqtt.client_id>-sparkplug"), so
// Sparkplug's Will (NDEATH) and the health topic's Will (on the daemon's main session) are
// both delivered when the gateway dies. Its messages belong to one connection: what is
// still queued when a connection ends is dropped and counted, never sent in the next one
// (whose first message is always NBIRTH). docs/sparkplug.md.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "edge_node.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/publisher.hpp"
#include "pipeline.hpp"

namespace nodebridge {

class SparkplugLink final : public SampleObserver {
  public:
    using Write = std::function<void(WriteCommand&&)>;
    using Metrics = std::function<sparkplug::NodeMetrics()>;

    // `config.sparkplug` must be set. `write` hands a checked DCMD write to its source,
    // `metrics` gives the gateway's counters; both must outlive the link and may be called
    // on the session's network thread. Connects to nothing until start().
    SparkplugLink(const Config& config, Logger& log, Write write, Metrics metrics);
    // Stops the session (stop() with Publisher::kDestructorGrace) if still running.
    ~SparkplugLink() override;
    SparkplugLink(const SparkplugLink&) = delete;
    SparkplugLink& operator=(const SparkplugLink&) = delete;

    // The settings of the Sparkplug session, from the daemon's `mqtt`: the same brokers,
    // credentials, TLS and backoff; client id "<client_id>-sparkplug" (empty stays empty: a
    // random id); no health topic (the main session has it) and no spool (every Sparkplug
    // message is QoS 0 and belongs to one connection).
    static MqttConfig session_config(const MqttConfig& mqtt);

    // Opens the Sparkplug session with `mqtt` (session_config() of it) and its NCMD, DCMD
    // and STATE subscriptions. Stops the previous one first, if any.
    void start(const MqttConfig& mqtt);
    // Ends the session: the NDEATH is delivered (docs/sparkplug.md, "The session", 6).
    // Readings from then on are held for the next session's historical replay. Idempotent.
    void stop(std::chrono::milliseconds grace);

    // NCMD, DCMD and STATE: what the session subscribes to.
    const std::vector<std::string>& topics() const { return topics_; }

    // SampleObserver (mapping thread).
    void observe(const Sample& sample, SteadyClock::time_point now) override;
    void tick(SteadyClock::time_point now) override;
    SteadyClock::time_point next_due() const override;

    // NDATA for the gateway counters that changed (the stats interval).
    void publish_node_data();
    // The edge node's counters, with `connects` and `unsent_dropped` of its session.
    sparkplug::EdgeNodeStats stats() const;

  private:
    Publisher::SessionHooks hooks();
    void receive(std::string_view topic, std::string_view payload, bool retained);
    void send(std::vector<Message>&& messages);  // caller holds mutex_

    Logger& log_;
    Write write_;
    Metrics metrics_;
    std::vector<std::string> topics_;
    mutable std::mutex mutex_;
    sparkplug::EdgeNode edge_;
    std::unique_ptr<Publisher> session_;  // guarded by mutex_; null when stopped
    // Counters of sessions already stopped, so stats() keeps counting across restarts.
    std::uint64_t ended_connects_ = 0;
    std::uint64_t ended_unsent_ = 0;
};

}  // namespace nodebridge
