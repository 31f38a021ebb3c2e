#include "edge_node.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>

#include "codec.hpp"
#include "glob.hpp"
#include "policy.hpp"

namespace nodebridge::sparkplug {
namespace {

using mapping::KeyState;
using mapping::Policy;
using mapping::StoredValue;

// Metrics per DDATA of the historical replay.
constexpr std::size_t kHistoricalChunk = 500;

std::uint64_t ms(WallClock::time_point time) {
    const auto count =
        std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
    return count < 0 ? 0 : static_cast<std::uint64_t>(count);
}

// Chapter 6, "Data Types": the datatype an attribute's readings are published as. Modbus integers
// keep their type unless scale, offset or round make them fractional.
DataType type_of(const ModbusAttribute& attribute) {
    const bool exact = attribute.scale == 1.0 && attribute.offset == 0.0 && !attribute.round;
    switch (attribute.type) {
        case ModbusType::boolean:
            return DataType::boolean;
        case ModbusType::string:
            return DataType::string;
        case ModbusType::float32:
            return exact ? DataType::float32 : DataType::float64;
        case ModbusType::float64:
            return DataType::float64;
        case ModbusType::int16:
            return exact ? DataType::int16 : DataType::float64;
        case ModbusType::uint16:
            return exact ? DataType::uint16 : DataType::float64;
        case ModbusType::int32:
            return exact ? DataType::int32 : DataType::float64;
        case ModbusType::uint32:
            return exact ? DataType::uint32 : DataType::float64;
        case ModbusType::int64:
            return exact ? DataType::int64 : DataType::float64;
        case ModbusType::uint64:
            return exact ? DataType::uint64 : DataType::float64;
    }
    return DataType::float64;
}

// A received attribute's datatype, from its first value.
DataType type_of(const Value& value) {
    if (std::holds_alternative<std::int64_t>(value)) return DataType::int64;
    if (std::holds_alternative<bool>(value)) return DataType::boolean;
    if (std::holds_alternative<std::string>(value)) return DataType::string;
    return DataType::float64;
}

MetricValue metric_value(const Value& value) {
    return std::visit([](const auto& v) -> MetricValue { return v; }, value);
}

bool selects(const MappingRule& rule, std::string_view attribute) {
    if (rule.attributes.empty()) return true;
    for (const std::string& pattern : rule.attributes) {
        if (mapping::glob_match(pattern, attribute)) return true;
    }
    return false;
}

Policy policy_of(const MappingRule& rule) {
    return Policy{.on_change = rule.on_change,
                  .deadband = rule.deadband,
                  .heartbeat = rule.heartbeat,
                  .min_interval = rule.min_interval};
}

Message message(std::string topic, const Payload& payload) {
    return Message{.topic = std::move(topic),
                   .payload = encode(payload),
                   .qos = 0,
                   .retain = false,
                   .rule = "sparkplug"};
}

struct DeviceMetric {
    std::string name;
    std::uint64_t alias = 0;
    DataType type = DataType::unknown;
    std::string unit;
    Policy policy;
    const ModbusAttribute* attribute = nullptr;  // Modbus: its config (writes); else null
    KeyState state;
    std::optional<Value> latest;  // the latest reading
    WallClock::time_point latest_time{};
};

struct Device {
    std::string id;      // the node id
    std::string source;  // the source it was configured or heard on
    std::vector<DeviceMetric> metrics;
    std::unordered_map<std::string, std::size_t> by_name;
    bool alive = true;     // not known to be offline
    bool born = false;     // DBIRTH sent in this session
    bool learned = false;  // metrics are learned from readings (serial-nodes)
};

struct HeldMetric {
    std::size_t device;
    Metric metric;
};

}  // namespace

struct EdgeNode::Impl {
    SparkplugConfig config;
    std::vector<MappingRule> rules;  // the rules that feed Sparkplug, in config order
    bool timed = false;              // some rule has a heartbeat or min_interval: tick() has work
    std::map<std::string, ModbusNode> modbus_nodes;  // "source\nnode" -> its config
    std::vector<std::unique_ptr<Device>> devices;
    std::unordered_map<std::string, std::size_t> device_index;  // node id -> index
    std::uint64_t next_alias = 1;
    std::uint8_t bd_seq = 0;
    bool first_will = true;
    std::uint8_t seq = 0;
    bool connected = false;
    bool born = false;
    bool host_online = false;
    std::uint64_t host_timestamp = 0;
    std::deque<HeldMetric> held;
    // No tick() is due before this (it may be early, never late): map() lowers it for the
    // metrics it touches, tick() recomputes it.
    SteadyClock::time_point due_cache = SteadyClock::time_point::max();
    std::vector<std::pair<std::string, std::uint64_t>> sent_counters;  // last NBIRTH/NDATA
    std::map<std::string, std::uint64_t> counter_alias;
    EdgeNodeStats stats;

    explicit Impl(const Config& full) : config(*full.sparkplug) {
        for (const MappingRule& rule : full.mappings) {
            if (rule.sparkplug || config.all_rules) {
                rules.push_back(rule);
                timed |= policy_of(rule).keeps_latest();
            }
        }
        // Aliases 1..n are the gateway's counters (assigned at the first NBIRTH); devices
        // take theirs after a reserve, so the two never meet.
        next_alias = 1000;
        for (const SourceConfig& source : full.sources) {
            const auto* modbus = std::get_if<ModbusSourceConfig>(&source.settings);
            if (modbus == nullptr) continue;
            for (const ModbusNode& node : modbus->nodes) {
                for (const MappingRule& rule : rules) {
                    if (!mapping::glob_match(rule.match_source, source.name) ||
                        !mapping::glob_match(rule.match_node, node.id)) {
                        continue;
                    }
                    for (const ModbusAttribute& attribute : node.attributes) {
                        if (!selects(rule, attribute.name)) continue;
                        Device* device = device_for(source.name, node.id, false);
                        if (device == nullptr || device->by_name.contains(attribute.name)) continue;
                        if (device->metrics.size() >= kMaxMetricsPerDevice) continue;
                        keep_node(source.name, node);
                        DeviceMetric metric{.name = attribute.name,
                                            .alias = next_alias++,
                                            .type = type_of(attribute),
                                            .unit = attribute.unit,
                                            .policy = policy_of(rule)};
                        device->by_name.emplace(attribute.name, device->metrics.size());
                        device->metrics.push_back(std::move(metric));
                    }
                }
            }
        }
        // Point write targets at the kept copies (stable: std::map nodes do not move).
        for (auto& device : devices) {
            const auto it = modbus_nodes.find(device->source + "\n" + device->id);
            if (it == modbus_nodes.end()) continue;
            for (const ModbusAttribute& attribute : it->second.attributes) {
                const auto m = device->by_name.find(attribute.name);
                if (m != device->by_name.end()) device->metrics[m->second].attribute = &attribute;
            }
        }
    }

    void keep_node(const std::string& source, const ModbusNode& node) {
        modbus_nodes.try_emplace(source + "\n" + node.id, node);
    }

    Device* device_for(const std::string& source, const std::string& node, bool learned) {
        if (const auto it = device_index.find(node); it != device_index.end()) {
            return devices[it->second].get();
        }
        if (devices.size() >= kMaxDevices) return nullptr;
        auto device = std::make_unique<Device>();
        device->id = node;
        device->source = source;
        device->learned = learned;
        device_index.emplace(node, devices.size());
        devices.push_back(std::move(device));
        return devices.back().get();
    }

    const MappingRule* rule_for(const std::string& source, const std::string& node,
                                std::string_view attribute) const {
        for (const MappingRule& rule : rules) {
            if (mapping::glob_match(rule.match_source, source) &&
                mapping::glob_match(rule.match_node, node) && selects(rule, attribute)) {
                return &rule;
            }
        }
        return nullptr;
    }

    std::string topic(std::string_view type, std::string_view device = {}) const {
        std::string t = std::string(kNamespace) + "/" + config.group_id + "/" + std::string(type) +
                        "/" + config.edge_node_id;
        if (!device.empty()) t += "/" + std::string(device);
        return t;
    }

    std::uint64_t next_seq() {
        const std::uint64_t s = seq;
        seq = static_cast<std::uint8_t>(seq + 1);  // 255 -> 0
        return s;
    }

    Message will() {
        if (first_will) {
            first_will = false;
        } else {
            bd_seq = static_cast<std::uint8_t>(bd_seq + 1);
        }
        Payload payload;
        payload.metrics.push_back(Metric{.name = "bdSeq",
                                         .type = DataType::int64,
                                         .send_datatype = true,
                                         .value = std::int64_t(bd_seq)});
        Message m = message(topic("NDEATH"), payload);
        m.qos = 1;  // chapter 6, "NDEATH": the Will's QoS is 1, not retained
        return m;
    }

    // The gateway metrics' aliases, 1 up, stable for the node's life.
    std::uint64_t node_alias(const std::string& name) {
        return counter_alias.try_emplace(name, 1 + counter_alias.size()).first->second;
    }

    Metric node_metric(const std::string& name, std::uint64_t value, WallClock::time_point now,
                       bool birth) {
        auto [it, added] = counter_alias.try_emplace(name, 1 + counter_alias.size());
        (void)added;
        Metric metric{.alias = it->second,
                      .timestamp = ms(now),
                      .type = DataType::uint64,
                      .send_datatype = birth,
                      .value = value};
        if (birth) metric.name = "Node Info/" + name;
        return metric;
    }

    std::vector<Message> births(WallClock::time_point now, const NodeMetrics& node) {
        std::vector<Message> out;
        seq = 0;
        Payload nbirth{.timestamp = ms(now), .seq = next_seq()};
        // Every birth metric has a name and an alias (ch. 6 "Metric"), but Rebirth, which must not
        // have one (chapter 5 "Operational Behavior", "Commands").
        nbirth.metrics.push_back(Metric{.name = "bdSeq",
                                        .alias = node_alias("bdSeq"),
                                        .timestamp = ms(now),
                                        .type = DataType::int64,
                                        .send_datatype = true,
                                        .value = std::int64_t(bd_seq)});
        nbirth.metrics.push_back(Metric{.name = std::string(kRebirthMetric),
                                        .timestamp = ms(now),
                                        .type = DataType::boolean,
                                        .send_datatype = true,
                                        .value = false});
        nbirth.metrics.push_back(Metric{.name = "Node Info/Version",
                                        .alias = node_alias("Version"),
                                        .timestamp = ms(now),
                                        .type = DataType::string,
                                        .send_datatype = true,
                                        .value = node.version});
        for (const auto& [name, value] : node.counters) {
            nbirth.metrics.push_back(node_metric(name, value, now, true));
        }
        sent_counters = node.counters;
        out.push_back(message(topic("NBIRTH"), nbirth));
        born = true;
        ++stats.births;
        for (auto& device : devices) {
            device->born = false;
            if (device->alive) out.push_back(device_birth(*device, now));
        }
        replay_held(now, out);
        return out;
    }

    Message device_birth(Device& device, WallClock::time_point now) {
        Payload payload{.timestamp = ms(now), .seq = next_seq()};
        for (DeviceMetric& metric : device.metrics) {
            Metric m{.name = metric.name,
                     .alias = metric.alias,
                     .timestamp = ms(metric.latest ? metric.latest_time : now),
                     .type = metric.type,
                     .send_datatype = true};
            if (metric.latest) {
                m.value = metric_value(*metric.latest);
                metric.state.last_published.assign(*metric.latest);
                metric.state.has_published = true;
                metric.state.pending = false;
                metric.state.fresh = false;
            }
            if (!metric.unit.empty()) m.properties.emplace_back(kUnitsProperty, metric.unit);
            payload.metrics.push_back(std::move(m));
        }
        device.born = true;
        ++stats.device_births;
        return message(topic("DBIRTH", device.id), payload);
    }

    void replay_held(WallClock::time_point now, std::vector<Message>& out) {
        std::size_t i = 0;
        while (i < held.size()) {
            const std::size_t index = held[i].device;
            Payload payload{.timestamp = ms(now)};
            while (i < held.size() && held[i].device == index &&
                   payload.metrics.size() < kHistoricalChunk) {
                payload.metrics.push_back(std::move(held[i].metric));
                ++i;
            }
            Device& device = *devices[index];
            if (!device.born) continue;  // offline now: its history has no session to join
            stats.historical += payload.metrics.size();
            payload.seq = next_seq();
            ++stats.data;
            out.push_back(message(topic("DDATA", device.id), payload));
        }
        held.clear();
    }

    void hold(std::size_t device, Metric metric) {
        if (held.size() >= kMaxHeldMetrics) {
            held.pop_front();
            ++stats.held_dropped;
        }
        metric.is_historical = true;
        held.push_back(HeldMetric{device, std::move(metric)});
    }

    Metric data_metric(const DeviceMetric& metric) const {
        return Metric{.alias = metric.alias,
                      .timestamp = ms(metric.latest_time),
                      .type = metric.type,
                      .value = metric_value(*metric.latest)};
    }

    std::vector<Message> map(const Sample& sample, SteadyClock::time_point steady,
                             WallClock::time_point now) {
        std::vector<Message> out;
        if (sample.online) {
            const auto it = device_index.find(sample.node);
            if (it == device_index.end()) return out;
            Device& device = *devices[it->second];
            if (!*sample.online) {
                device.alive = false;
                if (born && device.born) {
                    Payload payload{.timestamp = ms(sample.time), .seq = next_seq()};
                    out.push_back(message(topic("DDEATH", device.id), payload));
                    ++stats.device_deaths;
                }
                device.born = false;
            } else {
                device.alive = true;  // DBIRTH with the next reading
            }
            return out;
        }
        Device* device = nullptr;
        if (const auto it = device_index.find(sample.node); it != device_index.end()) {
            device = devices[it->second].get();
        } else if (std::any_of(rules.begin(), rules.end(), [&](const MappingRule& rule) {
                       return mapping::glob_match(rule.match_source, sample.source) &&
                              mapping::glob_match(rule.match_node, sample.node);
                   })) {
            device = device_for(sample.source, sample.node, true);
            if (device == nullptr) ++stats.dropped_metrics;
        }
        if (device == nullptr) return out;
        const std::size_t index = device_index.at(device->id);
        device->alive = true;
        bool grew = false;
        std::vector<std::size_t> passed;
        for (const Attribute& attribute : sample.attributes) {
            auto found = device->by_name.find(attribute.name);
            if (found == device->by_name.end()) {
                if (!device->learned) continue;  // a Modbus attribute no Sparkplug rule selects
                const MappingRule* rule = rule_for(sample.source, sample.node, attribute.name);
                if (rule == nullptr) continue;
                if (device->metrics.size() >= kMaxMetricsPerDevice) {
                    ++stats.dropped_metrics;
                    continue;
                }
                device->by_name.emplace(attribute.name, device->metrics.size());
                device->metrics.push_back(DeviceMetric{.name = attribute.name,
                                                       .alias = next_alias++,
                                                       .type = type_of(attribute.value),
                                                       .unit = attribute.unit,
                                                       .policy = policy_of(*rule)});
                found = device->by_name.find(attribute.name);
                grew = true;
            }
            DeviceMetric& metric = device->metrics[found->second];
            const bool changed =
                !metric.policy.on_change ||
                metric.state.last_published.differs(attribute.value, metric.policy.deadband);
            metric.latest = attribute.value;
            metric.latest_time = sample.time;
            metric.state.latest.assign(attribute.value);
            metric.state.latest_time = sample.time;
            const auto verdict = mapping::admit(metric.policy, metric.state, changed, steady);
            if (timed)
                due_cache = std::min(due_cache, mapping::deadline(metric.policy, metric.state));
            if (verdict == mapping::Verdict::publish) {
                metric.state.last_published.assign(attribute.value);
                passed.push_back(found->second);
            }
        }
        if (!born) {
            for (std::size_t i : passed) hold(index, data_metric(device->metrics[i]));
            return out;
        }
        if (!device->born || grew) {
            out.push_back(device_birth(*device, now));
            return out;
        }
        if (passed.empty()) return out;
        Payload payload{.timestamp = ms(now), .seq = next_seq()};
        for (std::size_t i : passed) payload.metrics.push_back(data_metric(device->metrics[i]));
        ++stats.data;
        out.push_back(message(topic("DDATA", device->id), payload));
        return out;
    }

    std::vector<Message> tick(SteadyClock::time_point steady, WallClock::time_point now) {
        std::vector<Message> out;
        if (!timed) return out;
        for (std::size_t index = 0; index < devices.size(); ++index) {
            Device& device = *devices[index];
            std::vector<std::size_t> due;
            for (std::size_t i = 0; i < device.metrics.size(); ++i) {
                DeviceMetric& metric = device.metrics[i];
                if (!metric.latest || mapping::deadline(metric.policy, metric.state) > steady) {
                    continue;
                }
                mapping::note_republished(metric.policy, metric.state, steady);
                metric.state.last_published.assign(*metric.latest);
                due.push_back(i);
            }
            if (due.empty()) continue;
            if (!born) {
                for (std::size_t i : due) hold(index, data_metric(device.metrics[i]));
                continue;
            }
            if (!device.born) continue;
            Payload payload{.timestamp = ms(now), .seq = next_seq()};
            for (std::size_t i : due) payload.metrics.push_back(data_metric(device.metrics[i]));
            ++stats.data;
            out.push_back(message(topic("DDATA", device.id), payload));
        }
        due_cache = compute_due();
        return out;
    }

    SteadyClock::time_point compute_due() const {
        auto due = SteadyClock::time_point::max();
        if (!timed) return due;
        for (const auto& device : devices) {
            for (const DeviceMetric& metric : device->metrics) {
                if (metric.latest)
                    due = std::min(due, mapping::deadline(metric.policy, metric.state));
            }
        }
        return due;
    }

    std::vector<Message> node_data(const NodeMetrics& node, WallClock::time_point now) {
        std::vector<Message> out;
        if (!born) return out;
        Payload payload{.timestamp = ms(now)};
        for (std::size_t i = 0; i < node.counters.size(); ++i) {
            const auto& [name, value] = node.counters[i];
            const bool same = i < sent_counters.size() && sent_counters[i] == node.counters[i];
            if (same || !counter_alias.contains(name)) continue;
            payload.metrics.push_back(node_metric(name, value, now, false));
        }
        if (payload.metrics.empty()) return out;
        sent_counters = node.counters;
        payload.seq = next_seq();
        ++stats.data;
        out.push_back(message(topic("NDATA"), payload));
        return out;
    }

    void refuse(Received& result, std::string reason) {
        ++stats.refused;
        result.refusals.push_back(std::move(reason));
    }

    Received receive(std::string_view topic_text, std::string_view payload, bool retained,
                     WallClock::time_point now, const NodeMetrics& node) {
        Received result;
        if (!config.primary_host_id.empty() &&
            topic_text == std::string(kNamespace) + "/STATE/" + config.primary_host_id) {
            receive_state(payload, now, node, result);
            return result;
        }
        const std::string ncmd = topic("NCMD");
        const std::string dcmd = topic("DCMD", "x");
        const std::string dcmd_prefix = dcmd.substr(0, dcmd.size() - 1);
        const bool is_ncmd = topic_text == ncmd;
        const bool is_dcmd =
            topic_text.starts_with(dcmd_prefix) && topic_text.size() > dcmd_prefix.size();
        if (!is_ncmd && !is_dcmd) {
            refuse(result, "not a Sparkplug command topic");
            return result;
        }
        if (retained) {
            refuse(result, "retained commands are ignored");
            return result;
        }
        const auto decoded = decode(payload);
        if (!decoded) {
            refuse(result, "not a Sparkplug B payload");
            return result;
        }
        if (is_ncmd) {
            receive_ncmd(*decoded, now, node, result);
        } else {
            receive_dcmd(topic_text.substr(dcmd_prefix.size()), *decoded, result);
        }
        return result;
    }

    void receive_state(std::string_view payload, WallClock::time_point now, const NodeMetrics& node,
                       Received& result) {
        const auto state = parse_state(payload);
        if (!state) {
            refuse(result, "STATE of " + config.primary_host_id +
                               " is not {\"online\":..,\"timestamp\":..}");
            return;
        }
        // Chapter 5, "Edge Node Session Establishment": older STATE messages are ignored.
        if (state->timestamp < host_timestamp) return;
        host_timestamp = state->timestamp;
        host_online = state->online;
        if (state->online) {
            if (connected && !born) result.publish = births(now, node);
            return;
        }
        if (!born && !connected) return;
        // Chapter 5, "Edge Node Session Termination" (tck-id-operational-behavior-edge-node-
        // termination-host-offline) and chapter 5, "Edge Node Session Establishment"
        // (tck-id-message-flow-edge-node-birth-publish-phid-offline): disconnect and start
        // over. The session is over for the edge node now, not when the disconnect is
        // done: what maps from here on is held for the next session's births.
        result.disconnect = true;
        result.was_born = born;
        connected = false;
        born = false;
        for (auto& device : devices) device->born = false;
    }

    void receive_ncmd(const Payload& payload, WallClock::time_point now, const NodeMetrics& node,
                      Received& result) {
        bool rebirth = false;
        for (const Metric& metric : payload.metrics) {
            if (metric.name == kRebirthMetric) {
                const auto value = value_as(metric.value, DataType::boolean);
                if (value && std::get<bool>(*value)) {
                    rebirth = true;
                    continue;
                }
                refuse(result, std::string(kRebirthMetric) + " must be true");
                continue;
            }
            refuse(result, "NCMD metric '" + metric.name + "' is not writable");
        }
        if (payload.metrics.empty()) refuse(result, "NCMD without metrics");
        if (!rebirth) return;
        if (!born) {
            refuse(result, "Rebirth requested outside a session");
            return;
        }
        ++stats.rebirths;
        result.publish = births(now, node);
    }

    void receive_dcmd(std::string_view device_id, const Payload& payload, Received& result) {
        const auto it = device_index.find(std::string(device_id));
        if (it == device_index.end()) {
            refuse(result, "DCMD for unknown device '" + std::string(device_id) + "'");
            return;
        }
        Device& device = *devices[it->second];
        if (payload.metrics.empty()) refuse(result, "DCMD without metrics");
        for (const Metric& received : payload.metrics) {
            const DeviceMetric* metric = nullptr;
            if (received.alias) {
                for (const DeviceMetric& candidate : device.metrics) {
                    if (candidate.alias == *received.alias) metric = &candidate;
                }
            } else if (const auto m = device.by_name.find(received.name);
                       m != device.by_name.end()) {
                metric = &device.metrics[m->second];
            }
            const std::string label =
                "DCMD " + device.id + "/" +
                (metric                  ? metric->name
                 : received.name.empty() ? "alias " + std::to_string(received.alias.value_or(0))
                                         : received.name);
            if (metric == nullptr) {
                refuse(result, label + ": no such metric");
                continue;
            }
            if (metric->attribute == nullptr || !metric->attribute->writable) {
                refuse(result, label + ": not writable");
                continue;
            }
            const auto typed = value_as(received.value, metric->type);
            if (!typed) {
                refuse(result,
                       label + ": the value does not fit " + std::string(to_string(metric->type)));
                continue;
            }
            Value value;
            if (const auto* b = std::get_if<bool>(&*typed)) {
                value = *b;
            } else if (const auto* i = std::get_if<std::int64_t>(&*typed)) {
                value = double(*i);
            } else if (const auto* u = std::get_if<std::uint64_t>(&*typed)) {
                value = double(*u);
            } else if (const auto* d = std::get_if<double>(&*typed)) {
                value = *d;
            } else {
                refuse(result, label + ": text cannot be written");
                continue;
            }
            if (std::string reason = check_command_value(*metric->attribute, device.id, value);
                !reason.empty()) {
                refuse(result, label + ": " + reason);
                continue;
            }
            const MappingRule* rule = rule_for(device.source, device.id, metric->name);
            ++stats.writes;
            result.writes.push_back(WriteCommand{.source = device.source,
                                                 .node = device.id,
                                                 .attribute = metric->name,
                                                 .value = std::move(value),
                                                 .reply_topic = "",
                                                 .rule = rule ? rule->name : ""});
        }
    }
};

EdgeNode::EdgeNode(const Config& config) : impl_(std::make_unique<Impl>(config)) {}
EdgeNode::~EdgeNode() = default;
EdgeNode::EdgeNode(EdgeNode&&) noexcept = default;
EdgeNode& EdgeNode::operator=(EdgeNode&&) noexcept = default;

std::string EdgeNode::topic(std::string_view type, std::string_view device) const {
    return impl_->topic(type, device);
}

std::vector<std::string> EdgeNode::topics() const {
    std::vector<std::string> topics{impl_->topic("NCMD"), impl_->topic("DCMD", "+")};
    if (!impl_->config.primary_host_id.empty()) {
        topics.push_back(std::string(kNamespace) + "/STATE/" + impl_->config.primary_host_id);
    }
    return topics;
}

Message EdgeNode::will() { return impl_->will(); }

std::vector<Message> EdgeNode::connected(WallClock::time_point now, const NodeMetrics& metrics) {
    impl_->connected = true;
    impl_->born = false;
    impl_->host_online = false;
    if (!impl_->config.primary_host_id.empty()) return {};
    return impl_->births(now, metrics);
}

void EdgeNode::disconnected() {
    impl_->connected = false;
    impl_->born = false;
    for (auto& device : impl_->devices) device->born = false;
}

std::vector<Message> EdgeNode::map(const Sample& sample, SteadyClock::time_point steady,
                                   WallClock::time_point now) {
    return impl_->map(sample, steady, now);
}

std::vector<Message> EdgeNode::tick(SteadyClock::time_point steady, WallClock::time_point now) {
    return impl_->tick(steady, now);
}

SteadyClock::time_point EdgeNode::next_due() const { return impl_->due_cache; }

std::vector<Message> EdgeNode::node_data(const NodeMetrics& metrics, WallClock::time_point now) {
    return impl_->node_data(metrics, now);
}

Received EdgeNode::receive(std::string_view topic, std::string_view payload, bool retained,
                           WallClock::time_point now, const NodeMetrics& metrics) {
    return impl_->receive(topic, payload, retained, now, metrics);
}

bool EdgeNode::born() const { return impl_->born; }
std::uint8_t EdgeNode::bd_seq() const { return impl_->bd_seq; }
EdgeNodeStats EdgeNode::stats() const { return impl_->stats; }

SparkplugSummary summarize(const Config& config) {
    SparkplugSummary summary;
    if (!config.sparkplug) return summary;
    EdgeNode::Impl impl(config);
    summary.devices = impl.devices.size();
    for (const auto& device : impl.devices) summary.metrics += device->metrics.size();
    return summary;
}

}  // namespace nodebridge::sparkplug
