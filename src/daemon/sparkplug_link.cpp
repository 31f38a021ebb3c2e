#include "sparkplug_link.hpp"

#include <span>

namespace nodebridge {

SparkplugLink::SparkplugLink(const Config& config, Logger& log, Write write, Metrics metrics)
    : log_(log), write_(std::move(write)), metrics_(std::move(metrics)), edge_(config) {
    topics_ = edge_.topics();
}

SparkplugLink::~SparkplugLink() { stop(Publisher::kDestructorGrace); }

MqttConfig SparkplugLink::session_config(const MqttConfig& mqtt) {
    MqttConfig session = mqtt;
    if (!session.client_id.empty()) session.client_id += "-sparkplug";
    session.health = HealthConfig{.topic = "", .online = "", .offline = ""};
    session.buffer.dir.clear();
    session.buffer.required = false;
    return session;
}

void SparkplugLink::start(const MqttConfig& mqtt) {
    stop(Publisher::kDestructorGrace);
    auto session = std::make_unique<Publisher>(session_config(mqtt), log_);
    session->set_subscriptions(
        topics_, [this](std::string_view topic, std::string_view payload, bool retained) {
            receive(topic, payload, retained);
        });
    session->set_session_hooks(hooks());
    Publisher* started = session.get();
    {
        std::lock_guard lock(mutex_);
        session_ = std::move(session);
    }
    started->start();
}

void SparkplugLink::stop(std::chrono::milliseconds grace) {
    std::unique_ptr<Publisher> session;
    {
        std::lock_guard lock(mutex_);
        session = std::move(session_);
        // From now on readings are held for the next session, never sent in this one.
        edge_.disconnected();
    }
    if (!session) return;
    session->stop(grace);  // delivers the NDEATH (the hooks' Will)
    const PublisherStats last = session->stats();
    std::lock_guard lock(mutex_);
    edge_.disconnected();  // again: a connection accepted while stopping may have run hooks
    ended_connects_ += last.connects;
    ended_unsent_ += last.dropped_session_end;
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
        .session_scoped = true,
    };
}

void SparkplugLink::send(std::vector<Message>&& messages) {
    if (messages.empty() || !session_) return;
    session_->publish(std::span<Message>(messages));
}

void SparkplugLink::receive(std::string_view topic, std::string_view payload, bool retained) {
    const sparkplug::NodeMetrics metrics = metrics_();
    sparkplug::Received received;
    {
        std::lock_guard lock(mutex_);
        received = edge_.receive(topic, payload, retained, WallClock::now(), metrics);
        send(std::move(received.publish));
        // Asked under the lock: stop() cannot take the session away meanwhile. A session
        // that ends before its births counts as a failed connection attempt, so a host that
        // stays offline is retried with the reconnect backoff, not at once.
        if (received.disconnect && session_) session_->end_session(!received.was_born);
    }
    for (const std::string& reason : received.refusals) {
        log_.log_limited("sparkplug-refused:" + std::string(topic), LogLevel::warning,
                         "Sparkplug: message on '" + std::string(topic) + "' refused: " + reason,
                         {.topic = std::string(topic), .event = "sparkplug-refused"});
    }
    for (WriteCommand& command : received.writes) write_(std::move(command));
    if (received.disconnect) {
        log_.log(LogLevel::notice,
                 received.was_born
                     ? "Sparkplug: the primary host went offline; ending the session to rebirth "
                       "later"
                     : "Sparkplug: the primary host is offline; reconnecting with backoff",
                 {.event = "sparkplug-state"});
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
    sparkplug::EdgeNodeStats stats = edge_.stats();
    stats.connects = ended_connects_;
    stats.unsent_dropped = ended_unsent_;
    if (session_) {
        const PublisherStats now = session_->stats();
        stats.connects += now.connects;
        stats.unsent_dropped += now.dropped_session_end;
    }
    return stats;
}

}  // namespace nodebridge
