#pragma once
// Home Assistant discovery in the daemon (docs/homeassistant.md): keeps the discovery plan of
// the running config and the serial-nodes nodes heard, listens on Home Assistant's status
// topic, and hands the daemon's loop the discovery messages due, a batch at a time. The
// daemon wires it in as a sample observer and through three calls (wrap, reload, due); the
// Mapper and the Publisher know nothing of it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/homeassistant.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/message.hpp"
#include "nodebridge/publisher.hpp"
#include "pipeline.hpp"

namespace nodebridge {

class Discovery final : public SampleObserver {
  public:
    // Messages handed out per due() call; the daemon calls it every kInterval while busy(),
    // so a thousand devices take about four seconds instead of one burst.
    static constexpr std::size_t kBatch = 25;
    static constexpr Millis kInterval{100};

    // `log` must outlive it.
    Discovery(const Config& config, Logger& log);

    // As the pipeline's observer: notes serial-nodes nodes and their attributes as heard, on
    // the mapping thread. It publishes nothing there; due() does, on the daemon's.
    void observe(const Sample& sample, SteadyClock::time_point) override { heard_.observe(sample); }
    void tick(SteadyClock::time_point) override {}
    SteadyClock::time_point next_due() const override { return SteadyClock::time_point::max(); }

    // The subscription for the Publisher: `topics` plus, when discovery is on, the status
    // topic and the config topics under the discovery prefix; a handler that takes "online"
    // on the status topic, notes the retained configs of this gateway that the broker holds
    // (homeassistant::OwnConfigs) and passes everything else to `handler`.
    void wrap(std::vector<std::string>& topics, Publisher::IncomingHandler& handler);

    // A reload: plans for `config`; what the previous config announced and this one does not
    // is removed, what changed is announced again. Call wrap() again afterwards.
    void reload(const Config& config);

    // The messages to publish now. `connected` and `connects` are the Publisher's; a new
    // connection (connects changed, or `fresh_session`: a new Publisher counting from 0) or
    // an "online" on the status topic queues every config again. Configs of this gateway
    // the broker still holds and the plan does not (left by a config changed while the
    // daemon was stopped) are removed. Nothing is handed out while disconnected.
    std::vector<Message> due(bool connected, std::uint64_t connects, bool fresh_session);

    // True while messages wait: the daemon then calls due() every kInterval.
    bool busy() const { return !announcer_.idle(); }

  private:
    void replan();

    // The configuration while discovery is on (`homeassistant:` set), which plans are made
    // from; unset while it is off, so a site of thousands of nodes without Home Assistant
    // keeps no second copy of their settings.
    std::optional<Config> config_;
    Logger& log_;
    homeassistant::HeardNodes heard_;
    homeassistant::Announcer announcer_;
    std::uint64_t heard_generation_ = 0;
    std::uint64_t connects_seen_ = 0;
    // Set on the network thread when the status topic says "online".
    std::shared_ptr<std::atomic<bool>> online_ = std::make_shared<std::atomic<bool>>(false);

    // Config topics of this gateway found retained on the broker, from the network thread.
    struct Found {
        static constexpr std::size_t kMax = 65536;  // more wait for the next connection
        std::mutex mutex;
        std::vector<std::string> topics;
    };
    std::shared_ptr<Found> found_ = std::make_shared<Found>();
};

}  // namespace nodebridge
