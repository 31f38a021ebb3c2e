#include "sparkplug_link.hpp"

namespace nodebridge {

SparkplugLink::SparkplugLink(const Config& config, Logger& log, Publish publish, Write write,
                             Metrics metrics, std::function<void()> end_session)
    : log_(log),
      publish_(std::move(publish)),
      write_(std::move(write)),
      metrics_(std::move(metrics)),
      end_session_(std::move(end_session)),
      prefix_(std::string(sparkplug::kNamespace) + "/"),
      edge_(config) {
    topics_ = edge_.topics();
}

Publisher::SessionHooks SparkplugLink::hooks() {
    return Publisher::SessionHooks{
        .will =
            [this] {
                std::lock_guard lock(mutex_);
                return edge_.will();
            },
        .connected =
            [this] {
                const sparkplug::NodeMetrics metrics = metrics_();
                std::lock_guard lock(mutex_);
                return edge_.connected(WallClock::now(), metrics);
            },
        .disconnected =
            [this] {
                std::lock_guard lock(mutex_);
                edge_.disconnected();
            },
    };
}

bool SparkplugLink::owns(std::string_view topic) const { return topic.starts_with(prefix_); }

void SparkplugLink::send(std::vector<Message>&& messages) {
    for (Message& message : messages) publish_(std::move(message));
}

void SparkplugLink::receive(std::string_view topic, std::string_view payload, bool retained) {
    const sparkplug::NodeMetrics metrics = metrics_();
    sparkplug::Received received;
    {
        std::lock_guard lock(mutex_);
        received = edge_.receive(topic, payload, retained, WallClock::now(), metrics);
        send(std::move(received.publish));
    }
    for (const std::string& reason : received.refusals) {
        log_.log_limited("sparkplug-refused:" + std::string(topic), LogLevel::warning,
                         "Sparkplug: message on '" + std::string(topic) + "' refused: " + reason,
                         {.topic = std::string(topic), .event = "sparkplug-refused"});
    }
    for (WriteCommand& command : received.writes) write_(std::move(command));
    if (received.disconnect) {
        log_.log(LogLevel::notice,
                 "Sparkplug: the primary host went offline; ending the session to rebirth later",
                 {.event = "sparkplug-state"});
        end_session_();
    }
}

void SparkplugLink::observe(const Sample& sample, SteadyClock::time_point now) {
    std::lock_guard lock(mutex_);
    send(edge_.map(sample, now, WallClock::now()));
}

void SparkplugLink::tick(SteadyClock::time_point now) {
    std::lock_guard lock(mutex_);
    if (edge_.next_due() <= now) send(edge_.tick(now, WallClock::now()));
}

SteadyClock::time_point SparkplugLink::next_due() const {
    std::lock_guard lock(mutex_);
    return edge_.next_due();
}

void SparkplugLink::publish_node_data() {
    const sparkplug::NodeMetrics metrics = metrics_();
    std::lock_guard lock(mutex_);
    send(edge_.node_data(metrics, WallClock::now()));
}

sparkplug::EdgeNodeStats SparkplugLink::stats() const {
    std::lock_guard lock(mutex_);
    return edge_.stats();
}

}  // namespace nodebridge
