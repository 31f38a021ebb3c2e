// `mqtt:`: the broker connection and the health (birth / last will) topic.

#include "nodebridge/topic_template.hpp"
#include "sections.hpp"

namespace nodebridge::config_detail {
namespace {

constexpr std::size_t kMaxClientId = 65535;
constexpr long long kMinKeepaliveSeconds = 5;  // libmosquitto refuses less
constexpr long long kMaxKeepaliveSeconds = 65535;

std::string replace_gateway(std::string text, const std::string& gateway) {
    const std::string field = "{gateway}";
    for (std::size_t at = text.find(field); at != std::string::npos;
         at = text.find(field, at + gateway.size())) {
        text.replace(at, field.size(), gateway);
    }
    return text;
}

// Checks a topic of the daemon's own (health, stats): a valid template that uses no field
// but {gateway}. Sets `out` to the expanded topic, or reports at `where`.
void expand_gateway_topic(const std::string& topic, const Position& where, const Context& ctx,
                          const std::string& gateway, std::string_view what, std::string& out) {
    std::string error;
    auto parsed = TopicTemplate::parse(topic, error);
    if (!parsed) {
        ctx.error(where, "topic: " + error);
        return;
    }
    for (TopicField field :
         {TopicField::source, TopicField::node, TopicField::attribute, TopicField::unit}) {
        if (parsed->uses(field)) {
            ctx.error(where, "topic: only {gateway} can be used in the " + std::string(what) +
                                 " topic");
            return;
        }
    }
    out = parsed->expand(TopicValues{.gateway = gateway});
}

void read_health(MapReader& mqtt, const std::string& gateway, HealthConfig& out) {
    const Context& ctx = mqtt.context();
    std::string topic = "nodebridge/{gateway}/status";
    Position topic_where = mqtt.where();
    if (auto node = mqtt.find("health")) {
        MapReader map(*node, ctx, "health");
        if (map.text("topic", topic)) topic_where = map.value_position("topic");
        map.text("online", out.online);
        map.text("offline", out.offline);
        map.integer("qos", 0, 2, out.qos);
        map.boolean("retain", out.retain);
        map.finish();
    }
    expand_gateway_topic(topic, topic_where, ctx, gateway, "health", out.topic);
}

}  // namespace

void read_mqtt(const YAML::Node& node, const Context& ctx, const std::string& gateway,
               MqttConfig& out) {
    std::string client_id = "nodebridge-{gateway}";
    if (!node.IsDefined()) {
        out.client_id = replace_gateway(client_id, gateway);
        out.health.topic = "nodebridge/" + gateway + "/status";
        return;
    }
    MapReader map(node, ctx, "mqtt");
    if (map.text("host", out.host) && out.host.empty()) {
        ctx.error(map.value_position("host"), "host: must not be empty");
    }
    map.integer("port", 1, 65535, out.port);
    if (map.text("client_id", client_id) && client_id.empty()) {
        ctx.error(map.value_position("client_id"), "client_id: must not be empty");
    }
    out.client_id = replace_gateway(client_id, gateway);
    if (out.client_id.size() > kMaxClientId) {
        ctx.error(map.value_position("client_id"), "client_id: longer than 65535 bytes");
    }
    Millis keepalive{0};
    if (map.duration("keepalive", keepalive)) {
        if (keepalive.count() % 1000 != 0 || keepalive.count() / 1000 < kMinKeepaliveSeconds ||
            keepalive.count() / 1000 > kMaxKeepaliveSeconds) {
            ctx.error(map.value_position("keepalive"),
                      "keepalive: must be whole seconds between 5s and 65535s");
        } else {
            out.keepalive = keepalive;
        }
    }
    if (auto protocol = map.find("protocol")) {
        // Written "3.1.1" or 5; a plain 5 reaches us as the text "5".
        const std::string text = protocol->IsScalar() ? protocol->Scalar() : std::string();
        if (text == "3.1.1") {
            out.protocol = 4;
        } else if (text == "5") {
            out.protocol = 5;
        } else {
            ctx.error(map.value_position("protocol"),
                      "protocol: expected \"3.1.1\" or 5, got " + describe_value(*protocol));
        }
    }
    read_mqtt_security(map, out);
    read_health(map, gateway, out.health);
    map.finish();
}

}  // namespace nodebridge::config_detail

namespace nodebridge::config_detail {

void read_stats(const YAML::Node& node, const Context& ctx, const std::string& gateway,
                StatsConfig& out) {
    std::string topic = "nodebridge/{gateway}/stats";
    Position topic_where{ctx.file, 1, 1};
    if (node.IsDefined()) {
        MapReader map(node, ctx, "stats");
        topic_where = map.where();
        if (map.text("topic", topic)) topic_where = map.value_position("topic");
        map.duration("interval", out.interval);
        map.boolean("enabled", out.enabled);
        map.finish();
    }
    expand_gateway_topic(topic, topic_where, ctx, gateway, "stats", out.topic);
}

}  // namespace nodebridge::config_detail
