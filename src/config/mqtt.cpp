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
        map.text("degraded", out.degraded);
        map.integer("qos", 0, 2, out.qos);
        map.boolean("retain", out.retain);
        map.finish();
    }
    expand_gateway_topic(topic, topic_where, ctx, gateway, "health", out.topic);
}

}  // namespace

// ---- mqtt.buffer, mqtt.hosts, mqtt.reconnect_max: store-and-forward and failover ---------
namespace {

constexpr std::uint64_t kMinSpoolBytes = 1ull << 20;  // 1 MiB
constexpr std::uint64_t kMaxSpoolBytes = 1ull << 40;  // 1 TiB
constexpr std::size_t kMaxBrokers = 32;
constexpr Millis kMinReconnectMax{500};
constexpr Millis kMaxReconnectMax{3'600'000};

// A size: a whole number of bytes, or a whole number with KB/MB/GB (powers of 1000) or
// KiB/MiB/GiB (powers of 1024) right after it: 512MiB, 2GB.
std::optional<std::uint64_t> parse_size(const std::string& text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0 || digits > 15) return std::nullopt;
    const std::uint64_t number = std::stoull(text.substr(0, digits));
    const std::string unit = text.substr(digits);
    static const std::pair<const char*, std::uint64_t> kUnits[] = {{"", 1},
                                                                   {"B", 1},
                                                                   {"KB", 1000},
                                                                   {"MB", 1000'000},
                                                                   {"GB", 1000'000'000},
                                                                   {"KiB", 1ull << 10},
                                                                   {"MiB", 1ull << 20},
                                                                   {"GiB", 1ull << 30}};
    for (const auto& [name, factor] : kUnits) {
        if (unit == name) {
            if (number > kMaxSpoolBytes / factor) return std::nullopt;
            return number * factor;
        }
    }
    return std::nullopt;
}

void read_buffer(MapReader& mqtt, BufferConfig& out) {
    const Context& ctx = mqtt.context();
    auto node = mqtt.find("buffer");
    if (!node) return;
    MapReader map(*node, ctx, "buffer");
    map.text("dir", out.dir);  // empty: memory only
    if (!out.dir.empty() && out.dir.front() != '/') {
        ctx.error(map.value_position("dir"), "dir: must be an absolute path, or \"\" for none");
    }
    if (auto size = map.find("max_bytes")) {
        const std::string text = size->IsScalar() ? size->Scalar() : std::string();
        const auto bytes = parse_size(text);
        if (!bytes || *bytes < kMinSpoolBytes) {
            ctx.error(map.value_position("max_bytes"),
                      "max_bytes: expected a size from 1MiB to 1TiB (bytes, or with KB, MB, GB, "
                      "KiB, MiB or GiB), got " +
                          describe_value(*size));
        } else {
            out.max_bytes = *bytes;
        }
    }
    map.duration("max_age", out.max_age);
    map.choice("on_full",
               {std::pair{std::string_view("drop_oldest"), SpoolOnFull::drop_oldest},
                std::pair{std::string_view("drop_newest"), SpoolOnFull::drop_newest}},
               out.on_full);
    map.boolean("required", out.required);
    map.finish();
}

// "host:port", "host" (port 1883) or "[v6 address]:port".
std::optional<BrokerAddress> parse_broker(const std::string& text) {
    BrokerAddress broker;
    std::string port_text;
    if (text.starts_with("[")) {
        const auto close = text.find(']');
        if (close == std::string::npos || close == 1) return std::nullopt;
        broker.host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') return std::nullopt;
            port_text = text.substr(close + 2);
            if (port_text.empty()) return std::nullopt;
        }
    } else {
        const auto colon = text.rfind(':');
        if (colon != std::string::npos && text.find(':') != colon) return std::nullopt;
        broker.host = text.substr(0, colon);
        if (colon != std::string::npos) {
            port_text = text.substr(colon + 1);
            if (port_text.empty()) return std::nullopt;
        }
    }
    if (broker.host.empty()) return std::nullopt;
    if (!port_text.empty()) {
        if (port_text.size() > 5 ||
            port_text.find_first_not_of("0123456789") != std::string::npos) {
            return std::nullopt;
        }
        broker.port = std::stoi(port_text);
        if (broker.port < 1 || broker.port > 65535) return std::nullopt;
    }
    return broker;
}

void read_hosts(MapReader& mqtt, MqttConfig& out) {
    const Context& ctx = mqtt.context();
    std::vector<std::string> hosts;
    if (!mqtt.text_list("hosts", hosts)) return;
    const Position where = mqtt.value_position("hosts");
    if (mqtt.find("host") || mqtt.find("port")) {
        ctx.error(mqtt.key_position("hosts"), "hosts: give either hosts or host/port, not both");
        return;
    }
    if (hosts.empty() || hosts.size() > kMaxBrokers) {
        ctx.error(where, "hosts: expected 1 to 32 brokers");
        return;
    }
    for (const auto& text : hosts) {
        auto broker = parse_broker(text);
        if (!broker) {
            ctx.error(where, "hosts: expected \"host:port\", got \"" + shown(text) + "\"");
            continue;
        }
        out.hosts.push_back(std::move(*broker));
    }
}

void read_store_and_forward(MapReader& mqtt, MqttConfig& out) {
    read_buffer(mqtt, out.buffer);
    read_hosts(mqtt, out);
    Millis reconnect_max{0};
    if (mqtt.duration("reconnect_max", reconnect_max)) {
        if (reconnect_max < kMinReconnectMax || reconnect_max > kMaxReconnectMax) {
            mqtt.context().error(mqtt.value_position("reconnect_max"),
                                 "reconnect_max: must be between 500ms and 1h");
        } else {
            out.reconnect_max = reconnect_max;
        }
    }
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
    read_store_and_forward(map, out);
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
