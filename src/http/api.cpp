#include "api.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include "nodebridge/mapping.hpp"
#include "nodebridge/number_text.hpp"
#include "nodebridge/version.hpp"

namespace nodebridge::http {
namespace {

void append_string(std::string_view text, std::string& out) {
    append_value_json(Value(std::string(text)), out);
}

void append_double(double value, std::string& out) { append_value_json(Value(value), out); }

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

double age_of(const NodeSummary& node, SteadyClock::time_point now) {
    return std::max(0.0, std::chrono::duration<double>(now - node.last_reading).count());
}

// Each node's availability as its source last published it, by source '\0' node.
class Availability {
  public:
    explicit Availability(const View& view) {
        for (const auto& [name, source] : view.stats.sources) {
            for (const auto& [id, online] : source.nodes) by_key_[name + '\0' + id] = online;
        }
    }
    // The availability the source published, where it did; else the mapping thread's view.
    bool online(const NodeSummary& node) const {
        auto found = by_key_.find(node.source + '\0' + node.node);
        return found == by_key_.end() ? node.online : found->second;
    }

  private:
    std::unordered_map<std::string, bool> by_key_;
};

void append_node(const Availability& availability, const NodeSummary& node,
                 SteadyClock::time_point now, std::string& out) {
    out += "{\"source\":";
    append_string(node.source, out);
    out += ",\"node\":";
    append_string(node.node, out);
    out += availability.online(node) ? ",\"online\":true" : ",\"online\":false";
    out += ",\"age_s\":";
    if (node.has_reading) {
        append_double(age_of(node, now), out);
        out += ",\"time\":";
        append_string(format_timestamp(node.last_reading_wall), out);
    } else {
        out += "null,\"time\":null";
    }
    out += ",\"readings\":" + std::to_string(node.readings);
    out += ",\"interval_s\":";
    if (node.readings >= 2) {
        append_double(node.interval_s, out);
    } else {
        out += "null";
    }
    out += ",\"attributes\":[";
    bool first = true;
    for (const Attribute& attribute : node.attributes) {
        if (!first) out += ',';
        first = false;
        out += "{\"name\":";
        append_string(attribute.name, out);
        out += ",\"value\":";
        append_value_json(attribute.value, out);
        out += ",\"unit\":";
        append_string(attribute.unit, out);
        out += '}';
    }
    out += "]}";
}

}  // namespace

std::string status_json(const View& view, SteadyClock::time_point now) {
    (void)now;
    const StatsSnapshot& s = view.stats;
    const PublisherStats& mqtt = s.publisher;
    int online = 0;
    int total = 0;
    std::uint64_t errors = 0;
    for (const auto& [name, source] : s.sources) {
        online += source.nodes_online;
        total += source.nodes_total;
        for (const auto& [kind, count] : source.errors) errors += count;
    }
    std::vector<std::string> problems;
    if (!mqtt.connected) problems.emplace_back("broker disconnected");
    if (!mqtt.spool_unavailable.empty() || !mqtt.spool_problem.empty()) {
        problems.push_back("spool " + view.spool_state);
    }
    if (online < total) {
        problems.push_back(std::to_string(total - online) + " of " + std::to_string(total) +
                           " nodes offline");
    }
    if (s.samples_dropped + mqtt.dropped > 0) {
        problems.push_back(std::to_string(s.samples_dropped + mqtt.dropped) + " dropped");
    }

    std::string out = "{\"gateway\":{\"name\":";
    append_string(view.gateway, out);
    out += ",\"version\":";
    append_string(kVersion, out);
    out += ",\"uptime_s\":";
    append_double(std::floor(s.uptime_seconds), out);
    out += ",\"health\":";
    append_string(problems.empty() ? "ok" : "degraded", out);
    out += ",\"problems\":[";
    for (std::size_t i = 0; i < problems.size(); ++i) {
        if (i > 0) out += ',';
        append_string(problems[i], out);
    }
    out += "],\"broker\":{\"address\":";
    append_string(mqtt.broker, out);
    out += mqtt.connected ? ",\"connected\":true" : ",\"connected\":false";
    out += ",\"connects\":" + std::to_string(mqtt.connects);
    out += "},\"spool\":{\"state\":";
    append_string(view.spool_state, out);
    out += ",\"bytes\":" + std::to_string(mqtt.spooled_bytes);
    out += ",\"records\":" + std::to_string(mqtt.spooled_records);
    out += "},\"samples_total\":" + std::to_string(s.samples);
    out += ",\"messages_total\":" + std::to_string(s.messages);
    out += ",\"messages_published\":" + std::to_string(mqtt.published);
    out += ",\"messages_queued\":" + std::to_string(mqtt.queued);
    out += ",\"messages_dropped\":" + std::to_string(mqtt.dropped);
    out += ",\"samples_dropped\":" + std::to_string(s.samples_dropped);
    out += ",\"nodes_online\":" + std::to_string(online);
    out += ",\"nodes_total\":" + std::to_string(total);
    out += ",\"errors_total\":" + std::to_string(errors);
    out += "},\"sources\":[";
    bool first = true;
    for (const auto& [name, source] : s.sources) {
        if (!first) out += ',';
        first = false;
        out += "{\"name\":";
        append_string(name, out);
        out += ",\"polls\":" + std::to_string(source.polls);
        out += ",\"samples\":" + std::to_string(source.samples);
        out += ",\"nodes_online\":" + std::to_string(source.nodes_online);
        out += ",\"nodes_total\":" + std::to_string(source.nodes_total);
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
    out += "]}";
    return out;
}

std::string nodes_json(const View& view, const NodeQuery& query, SteadyClock::time_point now) {
    static const NodesSnapshot kEmpty;
    const NodesSnapshot& nodes = view.nodes ? *view.nodes : kEmpty;
    const std::string text = lower(query.text);
    const std::size_t limit = std::clamp<std::size_t>(query.limit, 1, kMaxPage);
    const Availability availability(view);
    std::size_t matched = 0;
    std::string page;
    for (const NodeSummary& node : nodes.nodes) {
        if (!query.source.empty() && node.source != query.source) continue;
        if (!query.state.empty()) {
            const bool online = availability.online(node);
            if ((query.state == "online") != online) continue;
        }
        if (!text.empty() && lower(node.node).find(text) == std::string::npos &&
            lower(node.source).find(text) == std::string::npos) {
            continue;
        }
        if (matched >= query.offset && matched < query.offset + limit) {
            if (!page.empty()) page += ',';
            append_node(availability, node, now, page);
        }
        ++matched;
    }
    std::string out = "{\"total\":" + std::to_string(nodes.nodes.size());
    out += ",\"matched\":" + std::to_string(matched);
    out += ",\"offset\":" + std::to_string(query.offset);
    out += ",\"limit\":" + std::to_string(limit);
    out += ",\"nodes\":[" + page + "]}";
    return out;
}

std::optional<std::string> node_json(const View& view, const std::string& source,
                                     const std::string& node,
                                     const std::optional<std::vector<Series>>& history,
                                     SteadyClock::time_point now) {
    if (!view.nodes) return std::nullopt;
    const auto& all = view.nodes->nodes;
    auto found = std::find_if(all.begin(), all.end(), [&](const NodeSummary& n) {
        return n.source == source && n.node == node;
    });
    if (found == all.end()) return std::nullopt;
    std::string out = "{\"node\":";
    append_node(Availability(view), *found, now, out);
    out += ",\"history\":[";
    if (history) {
        bool first = true;
        for (const Series& series : *history) {
            if (!first) out += ',';
            first = false;
            out += "{\"attribute\":";
            append_string(series.attribute, out);
            out += ",\"unit\":";
            append_string(series.unit, out);
            out += ",\"points\":[";
            for (std::size_t i = 0; i < series.points.size(); ++i) {
                if (i > 0) out += ',';
                out += '[' + std::to_string(series.points[i].first) + ',';
                append_double(series.points[i].second, out);
                out += ']';
            }
            out += "]}";
        }
    }
    out += "]}";
    return out;
}

}  // namespace nodebridge::http
