// The Announcer: queues discovery configs and removals, hands them out in batches.

#include <algorithm>

#include "nodebridge/homeassistant.hpp"

namespace nodebridge::homeassistant {

void Announcer::update(DiscoveryPlan plan) {
    std::vector<Message> configs = plan.messages();
    if (has_plan_) {
        for (Message& removal : plan.removals_since(plan_)) {
            // A removed config is no longer announced: drop it from the queue as well.
            if (removal.payload.empty()) {
                std::erase_if(queue_, [&](const Pending& pending) {
                    return pending.config && pending.message.topic == removal.topic;
                });
            }
            queue_.push_back({std::move(removal), false});
        }
        for (const Message& config : configs) {
            const auto found = announced_.find(config.topic);
            if (found != announced_.end() && found->second == config.payload) continue;
            std::erase_if(queue_, [&](const Pending& pending) {
                return pending.config && pending.message.topic == config.topic;
            });
            queue_.push_back({config, true});
        }
    }
    announced_.clear();
    for (Message& config : configs) announced_.emplace(config.topic, std::move(config.payload));
    plan_ = std::move(plan);
    has_plan_ = true;
}

void Announcer::announce() {
    std::erase_if(queue_, [](const Pending& pending) { return pending.config; });
    for (Message& config : plan_.messages()) queue_.push_back({std::move(config), true});
}

bool Announcer::remove_leftover(const std::string& topic) {
    if (announced_.contains(topic)) return false;
    const bool queued = std::any_of(queue_.begin(), queue_.end(), [&](const Pending& pending) {
        return pending.message.topic == topic && pending.message.payload.empty();
    });
    if (queued) return false;
    queue_.push_back(
        {Message{.topic = topic, .payload = {}, .qos = 1, .retain = true, .rule = {}}, false});
    return true;
}

std::vector<Message> Announcer::take(std::size_t count) {
    std::vector<Message> out;
    while (!queue_.empty() && out.size() < count) {
        out.push_back(std::move(queue_.front().message));
        queue_.pop_front();
    }
    return out;
}

}  // namespace nodebridge::homeassistant
