#include "metrics.hpp"

#include <chrono>
#include <cmath>
#include <map>
#include <variant>

#include "nodebridge/number_text.hpp"
#include "nodebridge/version.hpp"

namespace nodebridge::http {
namespace {

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// A sample value: Go's ParseFloat syntax, with NaN, +Inf and -Inf spelled so.
void append_sample_value(double value, std::string& out) {
    if (std::isnan(value)) {
        out += "NaN";
    } else if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
    } else {
        append_number_text(value, out);
    }
}

class Writer {
  public:
    explicit Writer(std::string& out) : out_(out) {}

    // The HELP and TYPE lines of a family; its samples follow.
    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;  // our own text: no backslash or line feed to escape
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }

    void sample(std::string_view name, Labels labels, double value) {
        out_ += name;
        if (labels.size() > 0) {
            out_ += '{';
            bool first = true;
            for (const auto& [label, text] : labels) {
                if (!first) out_ += ',';
                first = false;
                out_ += label;
                out_ += "=\"";
                append_label_value(text, out_);
                out_ += '"';
            }
            out_ += '}';
        }
        out_ += ' ';
        append_sample_value(value, out_);
        out_ += '\n';
    }

    void sample(std::string_view name, double value) { sample(name, {}, value); }

    // A family with one unlabelled sample.
    void single(std::string_view name, std::string_view type, std::string_view help, double value) {
        family(name, type, help);
        sample(name, value);
    }

  private:
    std::string& out_;
};

double as_double(std::uint64_t value) { return static_cast<double>(value); }

}  // namespace

void append_label_value(std::string_view value, std::string& out) {
    for (const char c : value) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
}

std::string render_metrics(const View& view, SteadyClock::time_point now, bool readings) {
    std::string out;
    out.reserve(4096);
    Writer w(out);
    const StatsSnapshot& s = view.stats;
    const PublisherStats& mqtt = s.publisher;

    w.family("nodebridge_build_info", "gauge", "Version of nodebridged; always 1.");
    w.sample("nodebridge_build_info", {{"version", kVersion}, {"gateway", view.gateway}}, 1);
    w.single("nodebridge_uptime_seconds", "gauge", "Seconds since nodebridged started.",
             s.uptime_seconds);
    w.single("nodebridge_samples_total", "counter", "Samples mapped by the rules since start.",
             as_double(s.samples));
    w.single("nodebridge_samples_dropped_total", "counter",
             "Samples lost because the sample queue was full.", as_double(s.samples_dropped));
    w.single("nodebridge_sample_queue_depth", "gauge", "Samples waiting to be mapped.",
             as_double(s.queue_depth));
    w.single("nodebridge_rule_messages_total", "counter",
             "Messages the rules produced since start.", as_double(s.messages));
    w.single("nodebridge_unknown_states_total", "counter",
             "Readings of coded attributes that were none of their codes.",
             as_double(s.unknown_states));

    w.single("nodebridge_mqtt_connected", "gauge",
             "1 while the MQTT session is connected to the broker, else 0.",
             mqtt.connected ? 1 : 0);
    w.single("nodebridge_mqtt_connects_total", "counter",
             "Successful connections to the broker since start.", as_double(mqtt.connects));
    w.single("nodebridge_mqtt_messages_published_total", "counter",
             "Messages handed to the broker.", as_double(mqtt.published));
    w.single("nodebridge_mqtt_messages_delivered_total", "counter",
             "QoS 1 and 2 messages the broker acknowledged.", as_double(mqtt.delivered));
    w.single("nodebridge_mqtt_messages_queued", "gauge",
             "Messages waiting in the outbox for the broker.", as_double(mqtt.queued));
    w.single("nodebridge_mqtt_messages_in_flight", "gauge",
             "QoS 1 and 2 messages handed over and not yet acknowledged.",
             as_double(mqtt.in_flight));
    w.single("nodebridge_mqtt_messages_rejected_total", "counter",
             "Messages refused as invalid (bad topic, QoS or size).", as_double(mqtt.rejected));
    w.single("nodebridge_mqtt_messages_refused_total", "counter",
             "Messages the broker refused (MQTT 5 reason code 0x80 or above).",
             as_double(mqtt.refused));
    w.family("nodebridge_mqtt_messages_dropped_total", "counter",
             "Messages given up on, by reason.");
    w.sample("nodebridge_mqtt_messages_dropped_total", {{"reason", "queue_full"}},
             as_double(mqtt.dropped_queue_full));
    w.sample("nodebridge_mqtt_messages_dropped_total", {{"reason", "spool_full"}},
             as_double(mqtt.dropped_spool_full));
    w.sample("nodebridge_mqtt_messages_dropped_total", {{"reason", "expired"}},
             as_double(mqtt.dropped_expired));
    w.sample("nodebridge_mqtt_messages_dropped_total", {{"reason", "at_stop"}},
             as_double(mqtt.dropped_at_stop));
    w.sample("nodebridge_mqtt_messages_dropped_total", {{"reason", "session_end"}},
             as_double(mqtt.dropped_session_end));

    w.single("nodebridge_spool_active", "gauge",
             "1 while QoS 1 and 2 messages are kept in the disk spool, else 0.",
             mqtt.spooling ? 1 : 0);
    w.single("nodebridge_spool_bytes", "gauge", "Size of the spool's segment files.",
             as_double(mqtt.spooled_bytes));
    w.single("nodebridge_spool_records", "gauge", "Messages in the spool not yet acknowledged.",
             as_double(mqtt.spooled_records));
    w.single("nodebridge_spool_recovered_total", "counter",
             "Unacknowledged messages found in the spool at start.",
             as_double(mqtt.spool_recovered));
    w.single("nodebridge_spool_lost_total", "counter",
             "Messages lost to damaged spool files at start.", as_double(mqtt.spool_lost));
    w.single("nodebridge_spool_write_errors_total", "counter",
             "Spool appends that failed (the message stayed in memory).",
             as_double(mqtt.spool_write_errors));
    w.family("nodebridge_spool_state", "gauge",
             "The spool's state as a label (active, off, degraded, unavailable); always 1.");
    {
        std::string state = view.spool_state.substr(0, view.spool_state.find(' '));
        w.sample("nodebridge_spool_state", {{"state", state}}, 1);
    }

    const CommandStats& commands = s.commands;
    w.family("nodebridge_commands_total", "counter",
             "Write commands received on the command topics, by outcome.");
    w.sample("nodebridge_commands_total", {{"outcome", "received"}}, as_double(commands.received));
    w.sample("nodebridge_commands_total", {{"outcome", "written"}}, as_double(commands.written));
    w.sample("nodebridge_commands_total", {{"outcome", "rejected"}}, as_double(commands.rejected));
    w.sample("nodebridge_commands_total", {{"outcome", "failed"}}, as_double(commands.failed));

    // ---- per source ----
    w.family("nodebridge_source_polls_total", "counter",
             "Requests (or received lines) the source attempted.");
    for (const auto& [name, source] : s.sources) {
        w.sample("nodebridge_source_polls_total", {{"source", name}}, as_double(source.polls));
    }
    w.family("nodebridge_source_samples_total", "counter",
             "Samples the source pushed to the queue.");
    for (const auto& [name, source] : s.sources) {
        w.sample("nodebridge_source_samples_total", {{"source", name}}, as_double(source.samples));
    }
    w.family("nodebridge_source_errors_total", "counter", "Errors of the source, by kind.");
    for (const auto& [name, source] : s.sources) {
        for (const auto& [kind, count] : source.errors) {
            w.sample("nodebridge_source_errors_total", {{"source", name}, {"kind", kind}},
                     as_double(count));
        }
    }
    w.family("nodebridge_source_writes_total", "counter",
             "Write-back commands the source's devices acknowledged.");
    for (const auto& [name, source] : s.sources) {
        w.sample("nodebridge_source_writes_total", {{"source", name}}, as_double(source.writes));
    }
    w.family("nodebridge_source_write_errors_total", "counter",
             "Write-back commands refused or failed.");
    for (const auto& [name, source] : s.sources) {
        w.sample("nodebridge_source_write_errors_total", {{"source", name}},
                 as_double(source.write_errors));
    }
    w.family("nodebridge_source_nodes", "gauge", "Nodes of the source.");
    for (const auto& [name, source] : s.sources) {
        w.sample("nodebridge_source_nodes", {{"source", name}}, source.nodes_total);
    }
    w.family("nodebridge_source_nodes_online", "gauge",
             "Nodes of the source whose last poll succeeded.");
    for (const auto& [name, source] : s.sources) {
        w.sample("nodebridge_source_nodes_online", {{"source", name}}, source.nodes_online);
    }

    // ---- per node ----
    // Availability as the sources last published it; ages from the mapping thread's table.
    w.family("nodebridge_node_online", "gauge", "1 while the node is online, else 0.");
    for (const auto& [name, source] : s.sources) {
        for (const auto& [node, online] : source.nodes) {
            w.sample("nodebridge_node_online", {{"source", name}, {"node", node}}, online ? 1 : 0);
        }
    }
    static const NodesSnapshot kEmpty;
    const NodesSnapshot& nodes = view.nodes ? *view.nodes : kEmpty;
    w.family("nodebridge_node_last_reading_age_seconds", "gauge",
             "Seconds since the node's last reading was mapped.");
    for (const NodeSummary& node : nodes.nodes) {
        if (!node.has_reading) continue;
        const double age = std::chrono::duration<double>(now - node.last_reading).count();
        w.sample("nodebridge_node_last_reading_age_seconds",
                 {{"source", node.source}, {"node", node.node}}, age < 0 ? 0 : age);
    }
    w.family("nodebridge_node_reading_interval_seconds", "gauge",
             "Seconds between the node's last two readings (compare with its poll interval).");
    for (const NodeSummary& node : nodes.nodes) {
        if (node.readings < 2) continue;
        w.sample("nodebridge_node_reading_interval_seconds",
                 {{"source", node.source}, {"node", node.node}}, node.interval_s);
    }
    w.family("nodebridge_node_poll_interval_seconds", "gauge",
             "The node's configured poll interval (Modbus nodes).");
    if (view.polls) {
        for (const NodeSummary& node : nodes.nodes) {
            auto found = view.polls->find(node.source + '\0' + node.node);
            if (found == view.polls->end()) continue;
            w.sample("nodebridge_node_poll_interval_seconds",
                     {{"source", node.source}, {"node", node.node}}, found->second);
        }
    }
    w.family("nodebridge_node_readings_total", "counter",
             "Readings of the node mapped since start.");
    for (const NodeSummary& node : nodes.nodes) {
        w.sample("nodebridge_node_readings_total", {{"source", node.source}, {"node", node.node}},
                 as_double(node.readings));
    }
    if (readings) {
        w.family("nodebridge_reading", "gauge",
                 "The last value of each numeric, integer or bool attribute (bool: 1 or 0).");
        for (const NodeSummary& node : nodes.nodes) {
            for (const Attribute& attribute : node.attributes) {
                double value = 0;
                if (const auto* number = std::get_if<double>(&attribute.value)) {
                    value = *number;
                } else if (const auto* integer = std::get_if<std::int64_t>(&attribute.value)) {
                    value = static_cast<double>(*integer);
                } else if (const auto* flag = std::get_if<bool>(&attribute.value)) {
                    value = *flag ? 1 : 0;
                } else {
                    continue;  // text has no number to show
                }
                w.sample("nodebridge_reading",
                         {{"source", node.source},
                          {"node", node.node},
                          {"attribute", attribute.name},
                          {"unit", attribute.unit}},
                         value);
            }
        }
    }
    return out;
}

}  // namespace nodebridge::http
