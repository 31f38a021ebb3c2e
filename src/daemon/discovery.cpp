#include "discovery.hpp"

#include <variant>

namespace nodebridge {
namespace {

// The serial-nodes sources whose nodes discovery announces: none while it is off, so that
// observe() costs nothing then.
std::vector<std::string> serial_sources(const Config& config) {
    std::vector<std::string> names;
    if (!config.homeassistant) return names;
    for (const SourceConfig& source : config.sources) {
        if (std::holds_alternative<SerialNodesSourceConfig>(source.settings)) {
            names.push_back(source.name);
        }
    }
    return names;
}

}  // namespace

Discovery::Discovery(const Config& config, Logger& log) : log_(log) { reload(config); }

void Discovery::replan() {
    heard_generation_ = heard_.generation();
    announcer_.update(config_ ? homeassistant::plan_discovery(*config_, heard_.snapshot())
                              : homeassistant::DiscoveryPlan{});
}

void Discovery::wrap(std::vector<std::string>& topics, Publisher::IncomingHandler& handler) {
    if (!config_) return;
    const std::string status = config_->homeassistant->status_topic;
    topics.push_back(status);
    homeassistant::OwnConfigs own(announcer_.plan());
    for (std::string& filter : own.filters()) topics.push_back(std::move(filter));
    handler = [status, own = std::move(own), online = online_, found = found_,
               next = std::move(handler)](std::string_view topic, std::string_view payload,
                                          bool retained) {
        if (topic == status) {
            if (payload == "online") online->store(true);
            return;
        }
        if (!own.covers(topic)) {
            if (next) next(topic, payload, retained);
            return;
        }
        // A retained config this gateway claims: one the broker held before this
        // connection, or (under MQTT 5, whose subscriptions keep the retain flag) one of our
        // own coming back live, which the plan holds, so remove_leftover() leaves it.
        if (!retained || !own.claims(topic, payload)) return;
        std::lock_guard lock(found->mutex);
        if (found->topics.size() < Found::kMax) found->topics.emplace_back(topic);
    };
}

void Discovery::reload(const Config& config) {
    if (config.homeassistant) {
        config_ = config;
    } else {
        config_.reset();
    }
    heard_.set_sources(serial_sources(config));
    replan();
}

std::vector<Message> Discovery::due(bool connected, std::uint64_t connects, bool fresh_session) {
    if (heard_.generation() != heard_generation_) replan();  // a serial node heard or changed
    if (fresh_session) connects_seen_ = 0;
    bool again = false;
    if (connects != connects_seen_) {
        connects_seen_ = connects;
        again = connects > 0;
    }
    if (online_->exchange(false)) {
        again = true;
        log_.log(LogLevel::info, "Home Assistant is online: announcing discovery again",
                 {.event = "discovery"});
    }
    if (again && config_) {
        announcer_.announce();
        log_.log(LogLevel::info,
                 "announcing " + std::to_string(announcer_.plan().devices.size()) +
                     " devices to Home Assistant on " + config_->homeassistant->discovery_prefix,
                 {.event = "discovery"});
    }
    std::vector<std::string> found;
    {
        std::lock_guard lock(found_->mutex);
        found.swap(found_->topics);
    }
    std::size_t leftovers = 0;
    for (const std::string& topic : found) leftovers += announcer_.remove_leftover(topic);
    if (leftovers > 0) {
        log_.log(LogLevel::info,
                 "removing " + std::to_string(leftovers) +
                     " Home Assistant configs this gateway announced under an earlier "
                     "configuration",
                 {.event = "discovery"});
    }
    if (!connected) return {};
    return announcer_.take(kBatch);
}

}  // namespace nodebridge
