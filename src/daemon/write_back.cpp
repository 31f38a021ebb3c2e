#include "write_back.hpp"

#include <utility>
#include <variant>

#include "nodebridge/mapping.hpp"

namespace nodebridge {

namespace {

// How a value appears in the audit log line.
std::string value_text(const Value& value) {
    std::string text;
    append_value_text(value, text);
    return text;
}

}  // namespace

WriteBack::WriteBack(Logger& log, Publish publish) : log_(log), publish_(std::move(publish)) {}

Publisher::IncomingHandler WriteBack::handler(std::shared_ptr<const CommandRouter> router) {
    return [this, router = std::move(router)](std::string_view topic, std::string_view payload,
                                              bool retained) {
        receive(*router, topic, payload, retained);
    };
}

void WriteBack::set_sources(const std::vector<Source*>& sources) {
    std::map<std::string, Source*, std::less<>> by_name;
    for (Source* source : sources) by_name.emplace(source->name(), source);
    std::lock_guard lock(sources_mutex_);
    sources_ = std::move(by_name);
}

CommandStats WriteBack::stats() const {
    return CommandStats{.received = received_.load(),
                        .written = written_.load(),
                        .rejected = rejected_.load(),
                        .failed = failed_.load()};
}

void WriteBack::answer(const std::string& reply_topic, const std::string& rule,
                       std::string payload) {
    if (reply_topic.empty()) return;
    publish_(Message{.topic = reply_topic,
                     .payload = std::move(payload),
                     .qos = 1,
                     .retain = false,
                     .rule = rule});
}

void WriteBack::receive(const CommandRouter& router, std::string_view topic,
                        std::string_view payload, bool retained) {
    // A zero-length message deletes a topic's retained message (MQTT 3.1.1 section 3.3.1.3,
    // MQTT 5 section 3.3.1.3): it is no command, and it is what clear_retained() sends.
    if (payload.empty()) return;
    ++received_;
    auto routed = router.route(topic, payload, retained);
    if (auto* rejection = std::get_if<CommandRejection>(&routed)) {
        ++rejected_;
        // A retained command on one of our command topics would come back at every
        // connection (and to every other subscriber): remove it from the broker.
        const bool clear = retained && !rejection->reply_topic.empty();
        log_.log_limited("command-rejected:" + std::string(topic), LogLevel::warning,
                         "command on '" + std::string(topic) + "' rejected: " + rejection->reason +
                             (clear ? "; removing the retained message from the broker" : ""),
                         {.topic = std::string(topic), .event = "command-rejected"});
        answer(rejection->reply_topic, "", "error: " + rejection->reason);
        if (clear) {
            publish_(Message{.topic = std::string(topic), .payload = {}, .qos = 1, .retain = true});
        }
        return;
    }
    submit(std::move(std::get<WriteCommand>(routed)), std::string(topic));
}

void WriteBack::submit(WriteCommand command) {
    ++received_;
    const std::string from = "sparkplug:" + command.source + "/" + command.node;
    submit(std::move(command), from);
}

void WriteBack::submit(WriteCommand command, const std::string& topic) {
    const std::string what = command.source + "/" + command.node + "/" + command.attribute + " = " +
                             value_text(command.value);
    auto done = [this, what, topic, reply_topic = command.reply_topic,
                 rule = command.rule](std::string error) {
        if (error.empty()) {
            ++written_;
            log_.log_limited("command-written:" + topic, LogLevel::notice,
                             "command written: " + what + " (from '" + topic + "')",
                             {.topic = topic, .event = "command-written"});
            answer(reply_topic, rule, "ok");
            return;
        }
        ++failed_;
        log_.log_limited("command-failed:" + topic, LogLevel::warning,
                         "command failed: " + what + " (from '" + topic + "'): " + error,
                         {.topic = topic, .event = "command-failed"});
        answer(reply_topic, rule, "error: " + error);
    };
    std::lock_guard lock(sources_mutex_);
    const auto it = sources_.find(command.source);
    if (it == sources_.end()) {
        done("source " + command.source + " is not running");
        return;
    }
    it->second->write(std::move(command), std::move(done));
}

}  // namespace nodebridge
