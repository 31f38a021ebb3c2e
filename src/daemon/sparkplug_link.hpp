#pragma once
// The Sparkplug edge node in the daemon: serialises the pure EdgeNode (src/sparkplug/)
// between the mapping thread (samples, ticks) and the publisher's network thread (session
// hooks, NCMD/DCMD/STATE), and publishes what it returns in its order while holding the
// lock, so seq numbers reach the broker in publish order. docs/sparkplug.md.

#include <functional>
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
    using Publish = std::function<void(Message&&)>;
    using Write = std::function<void(WriteCommand&&)>;
    using Metrics = std::function<sparkplug::NodeMetrics()>;

    // `config.sparkplug` must be set. `publish` queues a message on the publisher, `write`
    // hands a checked DCMD write to its source, `metrics` gives the gateway's counters; all
    // must outlive the link. `end_session` asks the publisher to end the MQTT session.
    SparkplugLink(const Config& config, Logger& log, Publish publish, Write write, Metrics metrics,
                  std::function<void()> end_session);

    // The hooks to give Publisher::set_session_hooks.
    Publisher::SessionHooks hooks();
    // NCMD, DCMD and STATE: add them to the publisher's subscriptions.
    const std::vector<std::string>& topics() const { return topics_; }
    // True for a topic receive() takes.
    bool owns(std::string_view topic) const;
    // A message on one of topics() (network thread).
    void receive(std::string_view topic, std::string_view payload, bool retained);

    // SampleObserver (mapping thread).
    void observe(const Sample& sample, SteadyClock::time_point now) override;
    void tick(SteadyClock::time_point now) override;
    SteadyClock::time_point next_due() const override;

    // NDATA for the gateway counters that changed (the stats interval).
    void publish_node_data();
    sparkplug::EdgeNodeStats stats() const;

  private:
    void send(std::vector<Message>&& messages);  // caller holds mutex_

    Logger& log_;
    Publish publish_;
    Write write_;
    Metrics metrics_;
    std::function<void()> end_session_;
    std::vector<std::string> topics_;
    std::string prefix_;  // "spBv1.0/"
    mutable std::mutex mutex_;
    sparkplug::EdgeNode edge_;
};

}  // namespace nodebridge
