#include "stats.hpp"

#include <chrono>
#include <cstdio>

#include "nodebridge/mapping.hpp"
#include "nodebridge/version.hpp"

namespace nodebridge {
namespace {

double rate(std::uint64_t now, std::uint64_t before, double seconds) {
    return seconds > 0 && now >= before ? static_cast<double>(now - before) / seconds : 0.0;
}

double seconds_between(const StatsSnapshot& current, const StatsSnapshot* previous) {
    if (previous == nullptr) return 0;
    return std::chrono::duration<double>(current.taken - previous->taken).count();
}

void append_string(std::string_view text, std::string& out) {
    append_value_json(Value(std::string(text)), out);
}

void append_number(double number, std::string& out) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f", number);
    out += buffer;
}

std::uint64_t total_errors(const SourceStats& source) {
    std::uint64_t total = 0;
    for (const auto& [kind, count] : source.errors) total += count;
    return total;
}

}  // namespace

std::string spool_state(const PublisherStats& mqtt) {
    if (!mqtt.spool_unavailable.empty()) return "unavailable (" + mqtt.spool_unavailable + ")";
    if (!mqtt.spool_problem.empty()) return "degraded (" + mqtt.spool_problem + ")";
    return mqtt.spooling ? "active" : "off";
}

std::string stats_json(const StatsSnapshot& current, const StatsSnapshot* previous) {
    const double seconds = seconds_between(current, previous);
    std::string out = "{\"version\":";
    append_string(kVersion, out);
    out += ",\"uptime_s\":";
    out += std::to_string(static_cast<std::uint64_t>(current.uptime_seconds));
    out += ",\"broker\":{\"connected\":";
    out += current.publisher.connected ? "true" : "false";
    out += ",\"connects\":" + std::to_string(current.publisher.connects);
    out += "},\"samples_per_s\":";
    append_number(rate(current.samples, previous ? previous->samples : 0, seconds), out);
    out += ",\"messages_per_s\":";
    append_number(rate(current.messages, previous ? previous->messages : 0, seconds), out);
    out += ",\"samples_total\":" + std::to_string(current.samples);
    out += ",\"messages_total\":" + std::to_string(current.messages);
    out += ",\"messages_published\":" + std::to_string(current.publisher.published);
    out += ",\"messages_delivered\":" + std::to_string(current.publisher.delivered);
    out += ",\"messages_queued\":" + std::to_string(current.publisher.queued);
    const PublisherStats& mqtt = current.publisher;
    out += ",\"messages_dropped\":" + std::to_string(mqtt.dropped);
    out += ",\"dropped\":{\"queue_full\":" + std::to_string(mqtt.dropped_queue_full) +
           ",\"spool_full\":" + std::to_string(mqtt.dropped_spool_full) +
           ",\"expired\":" + std::to_string(mqtt.dropped_expired) +
           ",\"at_stop\":" + std::to_string(mqtt.dropped_at_stop) + "}";
    out += ",\"messages_rejected\":" + std::to_string(mqtt.rejected);
    out += ",\"messages_refused\":" + std::to_string(mqtt.refused);
    out += ",\"refused_by_rule\":{";
    bool first_rule = true;
    for (const auto& [rule, count] : mqtt.refused_by_rule) {
        if (!first_rule) out += ',';
        first_rule = false;
        append_string(rule, out);
        out += ':' + std::to_string(count);
    }
    out += '}';
    const CommandStats& commands = current.commands;
    out += ",\"commands\":{\"received\":" + std::to_string(commands.received) +
           ",\"written\":" + std::to_string(commands.written) +
           ",\"rejected\":" + std::to_string(commands.rejected) +
           ",\"failed\":" + std::to_string(commands.failed) + "}";
    if (const auto& sp = current.sparkplug) {
        out += ",\"sparkplug\":{\"births\":" + std::to_string(sp->births) +
               ",\"device_births\":" + std::to_string(sp->device_births) +
               ",\"device_deaths\":" + std::to_string(sp->device_deaths) +
               ",\"data\":" + std::to_string(sp->data) +
               ",\"rebirths\":" + std::to_string(sp->rebirths) +
               ",\"writes\":" + std::to_string(sp->writes) +
               ",\"refused\":" + std::to_string(sp->refused) +
               ",\"historical\":" + std::to_string(sp->historical) +
               ",\"held_dropped\":" + std::to_string(sp->held_dropped) +
               ",\"dropped_metrics\":" + std::to_string(sp->dropped_metrics) +
               ",\"connects\":" + std::to_string(sp->connects) +
               ",\"unsent_dropped\":" + std::to_string(sp->unsent_dropped) + "}";
    }
    out += ",\"spool\":{\"active\":";
    out += mqtt.spooling ? "true" : "false";
    out += ",\"records\":" + std::to_string(mqtt.spooled_records) +
           ",\"bytes\":" + std::to_string(mqtt.spooled_bytes) +
           ",\"recovered\":" + std::to_string(mqtt.spool_recovered) +
           ",\"lost\":" + std::to_string(mqtt.spool_lost) +
           ",\"write_errors\":" + std::to_string(mqtt.spool_write_errors) + ",\"state\":";
    append_string(spool_state(mqtt), out);
    out += '}';
    out += ",\"samples_dropped\":" + std::to_string(current.samples_dropped);
    out += ",\"unknown_states\":" + std::to_string(current.unknown_states);
    out += ",\"queue_depth\":" + std::to_string(current.queue_depth);
    out += ",\"sources\":{";
    bool first_source = true;
    for (const auto& [name, source] : current.sources) {
        if (!first_source) out += ',';
        first_source = false;
        append_string(name, out);
        out += ":{\"nodes_online\":" + std::to_string(source.nodes_online);
        out += ",\"nodes_total\":" + std::to_string(source.nodes_total);
        out += ",\"nodes\":{";
        bool first_node = true;
        for (const auto& [node, online] : source.nodes) {
            if (!first_node) out += ',';
            first_node = false;
            append_string(node, out);
            out += online ? ":\"online\"" : ":\"offline\"";
        }
        out += '}';
        out += ",\"polls\":" + std::to_string(source.polls);
        out += ",\"samples\":" + std::to_string(source.samples);
        out += ",\"errors\":{";
        bool first_error = true;
        for (const auto& [kind, count] : source.errors) {
            if (!first_error) out += ',';
            first_error = false;
            append_string(kind, out);
            out += ':' + std::to_string(count);
        }
        out += "},\"last_error\":";
        append_string(source.last_error, out);
        out += '}';
    }
    out += "}}";
    return out;
}

std::string status_line(const StatsSnapshot& current, const StatsSnapshot* previous) {
    int online = 0;
    int total = 0;
    std::uint64_t errors = 0;
    for (const auto& [name, source] : current.sources) {
        online += source.nodes_online;
        total += source.nodes_total;
        errors += total_errors(source);
    }
    const double seconds = seconds_between(current, previous);
    const PublisherStats& mqtt = current.publisher;
    std::string line = mqtt.broker.empty() ? "broker" : "broker " + mqtt.broker;
    line += mqtt.connected ? " connected" : " disconnected";
    line += "; nodes " + std::to_string(online) + "/" + std::to_string(total) + " online; ";
    append_number(rate(current.messages, previous ? previous->messages : 0, seconds), line);
    line += " msg/s; " + std::to_string(errors) + " errors";
    if (current.publisher.dropped + current.samples_dropped > 0) {
        line +=
            "; " + std::to_string(current.publisher.dropped + current.samples_dropped) + " dropped";
    }
    if (!mqtt.spool_unavailable.empty() || !mqtt.spool_problem.empty()) {
        line += "; spool: " + spool_state(mqtt);
    }
    return line;
}

}  // namespace nodebridge
