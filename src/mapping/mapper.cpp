#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "encode.hpp"
#include "glob.hpp"
#include "nodebridge/mapping.hpp"
#include "nodebridge/topic_template.hpp"
#include "policy.hpp"

namespace nodebridge {
namespace {

using mapping::Glob;
using mapping::KeyState;
using mapping::Policy;
using mapping::StoredValue;
using mapping::Verdict;

// Bounds against hostile sources that invent node ids or attribute names without end.
constexpr std::size_t kMaxNodes = 65536;
constexpr std::size_t kMaxAttributesPerNode = 1024;
constexpr std::uint16_t kNodeKey = 0xFFFF;      // heap entry for a per-node rule's message
constexpr std::uint16_t kUnresolved = 0xFFFF;   // sample attribute over the bound
constexpr std::uint32_t kNoNode = 0xFFFFFFFF;   // sample node over the bound
constexpr std::uint32_t kNotKept = 0xFFFFFFFF;  // a previous rule with no equal rule now

struct CompiledRule {
    MappingRule definition;  // as configured: a reload keeps state only for an equal rule
    Glob source;
    Glob node;
    std::vector<Glob> attributes;  // empty selects all
    TopicTemplate topic;
    std::optional<TopicTemplate> availability;  // the availability_topic, when set
    bool per_attribute = false;
    bool json = true;
    int qos = 0;
    bool retain = false;
    Policy policy;

    bool selects(std::string_view attribute) const {
        if (attributes.empty()) return true;
        for (const Glob& glob : attributes) {
            if (glob.matches(attribute)) return true;
        }
        return false;
    }
};

// Writes "<4-byte length of first><first><second>" into `out`: one map key for a pair of
// names, unambiguous whatever bytes they hold.
const std::string& pair_key(std::string_view first, std::string_view second, std::string& out) {
    const auto length = static_cast<std::uint32_t>(first.size());
    out.resize(sizeof length);
    std::memcpy(out.data(), &length, sizeof length);
    out.append(first);
    out.append(second);
    return out;
}

// An attribute's name and the unit of its latest reading, as messages show them.
struct AttributeLabel {
    std::string name;
    std::string unit;
};

// Every distinct label once, however many nodes carry it: 1,000 meters of one model share
// their 20 labels instead of holding 20,000 copies (issue #10's memory target). An id stays
// valid as long as the pool; labels are never removed (a reload that keeps no state starts
// a new pool).
class LabelPool {
  public:
    std::uint32_t intern(std::string_view name, std::string_view unit) {
        pair_key(name, unit, key_);
        if (const auto found = ids_.find(key_); found != ids_.end()) return found->second;
        const auto id = static_cast<std::uint32_t>(labels_.size());
        labels_.push_back({std::string(name), std::string(unit)});
        ids_.emplace(key_, id);
        return id;
    }

    const AttributeLabel& operator[](std::uint32_t id) const { return labels_[id]; }

  private:
    std::vector<AttributeLabel> labels_;
    std::unordered_map<std::string, std::uint32_t> ids_;  // pair_key(name, unit)
    std::string key_;                                     // scratch for intern()
};

// One rule that matches one (source, node): the cached match decision plus its keys.
struct Binding {
    std::uint32_t rule = 0;
    std::vector<std::uint8_t> selected;  // per node attribute: does the rule select it
    std::vector<KeyState> keys;          // per node attribute; empty for stateless rules
    KeyState node_key;                   // per-node rules: the node message's timing
};

struct NodeEntry {
    std::string source;
    std::string node;
    std::vector<std::uint32_t> attributes;  // LabelPool ids, in order of first appearance
    // Per attribute: its codes, or null; empty until some attribute has codes (most nodes
    // have none, and a site may have thousands of nodes).
    std::vector<const StateNames::Table*> states;
    bool coded = false;                     // some attribute has codes
    std::vector<Binding> bindings;          // matching rules, in rule order
};

struct HeapEntry {
    SteadyClock::time_point due;
    std::uint32_t node;
    std::uint32_t binding;
    std::uint16_t attribute;  // kNodeKey for the node message of a per-node rule

    bool operator>(const HeapEntry& other) const { return due > other.due; }
};

std::optional<CompiledRule> compile(const MappingRule& rule) {
    std::string error;
    auto topic = TopicTemplate::parse(rule.topic, error);
    if (!topic) return std::nullopt;
    CompiledRule compiled{
        .definition = rule,
        .source = Glob(rule.match_source),
        .node = Glob(rule.match_node),
        .attributes = {},
        .topic = std::move(*topic),
    };
    for (const std::string& pattern : rule.attributes) compiled.attributes.emplace_back(pattern);
    if (!rule.availability_topic.empty()) {
        compiled.availability = TopicTemplate::parse(rule.availability_topic, error);
    }
    compiled.per_attribute = compiled.topic.uses(TopicField::attribute);
    // A per-node message has no single value to send bare: it is always JSON.
    compiled.json = rule.payload == PayloadForm::json || !compiled.per_attribute;
    compiled.qos = std::clamp(rule.qos, 0, 2);
    compiled.retain = rule.retain;
    compiled.policy.on_change = rule.on_change;
    compiled.policy.deadband = rule.deadband > 0 ? rule.deadband : 0.0;
    compiled.policy.heartbeat = std::max(Millis{0}, rule.heartbeat);
    compiled.policy.min_interval = std::max(Millis{0}, rule.min_interval);
    return compiled;
}

void append_value(const Value& value, bool json, std::string& out) {
    if (json) {
        append_value_json(value, out);
    } else {
        append_value_text(value, out);
    }
}

void append_value(const StoredValue& value, bool json, std::string& out) {
    if (json) {
        value.append_json(out);
    } else {
        value.append_text(out);
    }
}

}  // namespace

struct Mapper::Impl {
    std::string gateway;
    std::vector<CompiledRule> rules;
    StateNames states;
    std::uint64_t unknown_states = 0;
    Sample scratch_sample;  // a coded sample with its codes replaced by names
    std::vector<std::unique_ptr<NodeEntry>> nodes;
    std::unordered_map<std::string, std::uint32_t> node_index;  // by pair_key(source, node)
    LabelPool labels;                                           // of every node's attributes
    std::vector<HeapEntry> heap;                                // min-heap on `due`
    std::string scratch_key;
    std::vector<std::uint16_t> scratch_indices;
    std::uint64_t dropped = 0;

    const std::string& node_key_of(std::string_view source, std::string_view node) {
        return pair_key(source, node, scratch_key);
    }

    // The index of the sample's node entry, created (with its match decisions) on first
    // sight; kNoNode when the node bound is reached.
    std::uint32_t find_or_add(const Sample& sample) {
        const std::string& key = node_key_of(sample.source, sample.node);
        if (const auto found = node_index.find(key); found != node_index.end()) {
            return found->second;
        }
        if (nodes.size() >= kMaxNodes) return kNoNode;
        auto entry = std::make_unique<NodeEntry>();
        entry->source = sample.source;
        entry->node = sample.node;
        for (std::uint32_t r = 0; r < rules.size(); ++r) {
            if (rules[r].source.matches(sample.source) && rules[r].node.matches(sample.node)) {
                entry->bindings.push_back(Binding{.rule = r});
            }
        }
        const auto index = static_cast<std::uint32_t>(nodes.size());
        node_index.emplace(key, index);
        nodes.push_back(std::move(entry));
        return index;
    }

    // The node's index for `attribute`, adding it (and its keys) on first sight; `hint` is
    // where it usually is, since sources send attributes in a stable order.
    std::uint16_t resolve(NodeEntry& node, std::size_t hint, const Attribute& attribute) {
        const auto name_at = [&](std::size_t i) -> const std::string& {
            return labels[node.attributes[i]].name;
        };
        std::size_t index = hint;
        if (index >= node.attributes.size() || name_at(index) != attribute.name) {
            index = 0;
            while (index < node.attributes.size() && name_at(index) != attribute.name) ++index;
            if (index == node.attributes.size()) {
                if (index >= kMaxAttributesPerNode) return kUnresolved;
                node.attributes.push_back(labels.intern(attribute.name, attribute.unit));
                note_states(node, index, attribute.name);
                for (Binding& binding : node.bindings) {
                    const CompiledRule& rule = rules[binding.rule];
                    binding.selected.push_back(rule.selects(attribute.name) ? 1 : 0);
                    if (rule.policy.stateful()) binding.keys.emplace_back();
                }
                return static_cast<std::uint16_t>(index);
            }
        }
        if (labels[node.attributes[index]].unit != attribute.unit) {
            node.attributes[index] = labels.intern(attribute.name, attribute.unit);
        }
        return static_cast<std::uint16_t>(index);
    }

    // Looks up whether `attribute`, the node's attribute `index` (all before it noted), is
    // coded.
    void note_states(NodeEntry& node, std::size_t index, std::string_view attribute) {
        const StateNames::Table* table =
            states.empty() ? nullptr : states.find(node.source, node.node, attribute);
        if (table != nullptr && !node.coded) {
            node.coded = true;
            node.states.assign(index, nullptr);
        }
        if (node.coded) node.states.push_back(table);
    }

    // `sample` with every code of a coded attribute replaced by its name, in scratch_sample;
    // values that are no code stay as they are and are counted.
    const Sample& named(const NodeEntry& node, const Sample& sample) {
        scratch_sample.source = sample.source;
        scratch_sample.node = sample.node;
        scratch_sample.time = sample.time;
        scratch_sample.attributes = sample.attributes;
        for (std::size_t i = 0; i < sample.attributes.size(); ++i) {
            const std::uint16_t index = scratch_indices[i];
            if (index == kUnresolved || node.states[index] == nullptr) continue;
            const std::string* name =
                StateNames::name_of(*node.states[index], sample.attributes[i].value);
            if (name != nullptr) {
                scratch_sample.attributes[i].value = *name;
            } else {
                ++unknown_states;
            }
        }
        return scratch_sample;
    }

    KeyState& key_of(const HeapEntry& entry) {
        Binding& binding = nodes[entry.node]->bindings[entry.binding];
        return entry.attribute == kNodeKey ? binding.node_key : binding.keys[entry.attribute];
    }

    const Policy& policy_of(const HeapEntry& entry) const {
        return rules[nodes[entry.node]->bindings[entry.binding].rule].policy;
    }

    void schedule(const Policy& policy, KeyState& key, std::uint32_t node, std::size_t binding,
                  std::uint16_t attribute) {
        const auto due = mapping::deadline(policy, key);
        if (due >= key.scheduled) return;  // an entry at or before `due` is already queued
        key.scheduled = due;
        heap.push_back({due, node, static_cast<std::uint32_t>(binding), attribute});
        std::push_heap(heap.begin(), heap.end(), std::greater<>{});
    }

    void pop_heap() {
        std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
        heap.pop_back();
    }

    // Drops stale heap entries until the top one is exactly its key's deadline (or the heap
    // is empty). Keys whose deadline moved later are re-queued at the new time.
    void settle_top() {
        while (!heap.empty()) {
            const HeapEntry top = heap.front();
            KeyState& key = key_of(top);
            if (key.scheduled != top.due) {
                pop_heap();
                continue;
            }
            const auto due = mapping::deadline(policy_of(top), key);
            if (due == top.due) return;
            pop_heap();
            key.scheduled = SteadyClock::time_point::max();
            if (due != SteadyClock::time_point::max()) {
                key.scheduled = due;
                heap.push_back({due, top.node, top.binding, top.attribute});
                std::push_heap(heap.begin(), heap.end(), std::greater<>{});
            }
        }
    }

    Message& start_message(const CompiledRule& rule, std::vector<Message>& out) {
        Message& message = out.emplace_back();
        message.rule = rule.definition.name;
        message.qos = rule.qos;
        message.retain = rule.retain;
        return message;
    }

    template <typename V>
    void emit_attribute(const CompiledRule& rule, const NodeEntry& node,
                        const AttributeLabel& attribute, const V& value, std::string_view timestamp,
                        std::vector<Message>& out) {
        Message& message = start_message(rule, out);
        message.topic.reserve(rule.topic.text().size() + gateway.size() + node.node.size() +
                              attribute.name.size() + 8);
        rule.topic.expand({gateway, node.source, node.node, attribute.name, attribute.unit},
                          message.topic);
        if (!rule.json) {
            append_value(value, false, message.payload);
            return;
        }
        message.payload.reserve(48 + attribute.unit.size());
        message.payload += "{\"value\":";
        append_value(value, true, message.payload);
        if (!attribute.unit.empty()) {
            message.payload += ",\"unit\":";
            mapping::append_json_string(attribute.unit, message.payload);
        }
        message.payload += ",\"ts\":\"";
        message.payload += timestamp;
        message.payload += "\"}";
    }

    Message& begin_node_message(const CompiledRule& rule, const NodeEntry& node,
                                std::string_view timestamp, std::size_t estimate,
                                std::vector<Message>& out) {
        Message& message = start_message(rule, out);
        rule.topic.expand({gateway, node.source, node.node, {}, {}}, message.topic);
        message.payload.reserve(48 + node.node.size() + estimate);
        message.payload += "{\"node\":";
        mapping::append_json_string(node.node, message.payload);
        message.payload += ",\"ts\":\"";
        message.payload += timestamp;
        message.payload += '"';
        return message;
    }

    void map(const Sample& sample, SteadyClock::time_point now, std::vector<Message>& out);
    void map_availability(const Sample& sample, bool online, std::vector<Message>& out);
    void map_per_attribute(std::uint32_t node_id, NodeEntry& node, std::size_t b,
                           const Sample& sample, std::string_view timestamp,
                           SteadyClock::time_point now, std::vector<Message>& out);
    void map_per_node(std::uint32_t node_id, NodeEntry& node, std::size_t b, const Sample& sample,
                      std::string_view timestamp, SteadyClock::time_point now,
                      std::vector<Message>& out);
    void emit_due(const HeapEntry& entry, SteadyClock::time_point now, std::vector<Message>& out);
    void adopt(Impl& previous);
    void carry_over(NodeEntry& old_node, const std::vector<std::uint32_t>& kept);
};

// Replaces this mapper's state by the state `previous` kept for rules that are unchanged
// here (equal definition, same gateway). Nodes keep their attribute order, so a carried
// binding's per-attribute vectors stay aligned; bindings of new rules are sized to match.
void Mapper::Impl::adopt(Impl& previous) {
    nodes.clear();
    node_index.clear();
    heap.clear();
    dropped = previous.dropped;  // a counter: a reload does not take it back
    unknown_states = previous.unknown_states;
    if (previous.gateway != gateway) return;

    // kept[old rule index] = the index of the equal rule here, or kNotKept.
    std::vector<std::uint32_t> kept(previous.rules.size(), kNotKept);
    bool any_kept = false;
    for (std::size_t o = 0; o < previous.rules.size(); ++o) {
        const MappingRule& old_rule = previous.rules[o].definition;
        for (std::uint32_t n = 0; n < rules.size(); ++n) {
            if (rules[n].definition.name != old_rule.name) continue;
            if (rules[n].definition == old_rule) {
                kept[o] = n;
                any_kept = true;
            }
            break;
        }
    }
    if (!any_kept) return;
    labels = std::move(previous.labels);  // the carried nodes' ids point into it
    // The previous mapper respected the node bound, and we take at most its nodes.
    for (auto& old_node : previous.nodes) carry_over(*old_node, kept);
}

void Mapper::Impl::carry_over(NodeEntry& old_node, const std::vector<std::uint32_t>& kept) {
    const bool has_kept =
        std::any_of(old_node.bindings.begin(), old_node.bindings.end(),
                    [&](const Binding& binding) { return kept[binding.rule] != kNotKept; });
    if (!has_kept) return;  // nothing of it survives; it comes back with its next sample

    const auto node_id = static_cast<std::uint32_t>(nodes.size());
    auto entry = std::make_unique<NodeEntry>();
    entry->source = std::move(old_node.source);
    entry->node = std::move(old_node.node);
    entry->attributes = std::move(old_node.attributes);
    for (std::size_t i = 0; i < entry->attributes.size(); ++i) {
        note_states(*entry, i, labels[entry->attributes[i]].name);
    }
    for (std::uint32_t r = 0; r < rules.size(); ++r) {
        const CompiledRule& rule = rules[r];
        if (!rule.source.matches(entry->source) || !rule.node.matches(entry->node)) continue;
        Binding& binding = entry->bindings.emplace_back(Binding{.rule = r});
        const auto old_binding =
            std::find_if(old_node.bindings.begin(), old_node.bindings.end(),
                         [&](const Binding& old) { return kept[old.rule] == r; });
        if (old_binding != old_node.bindings.end()) {
            binding.selected = std::move(old_binding->selected);
            binding.keys = std::move(old_binding->keys);
            binding.node_key = std::move(old_binding->node_key);
            continue;
        }
        // A new or changed rule: fresh state, one entry per attribute the node already has.
        binding.selected.reserve(entry->attributes.size());
        for (const std::uint32_t label : entry->attributes) {
            binding.selected.push_back(rule.selects(labels[label].name) ? 1 : 0);
        }
        if (rule.policy.stateful()) binding.keys.resize(entry->attributes.size());
    }

    // Re-queue the deadlines of carried keys: pending min_interval messages and heartbeats.
    for (std::size_t b = 0; b < entry->bindings.size(); ++b) {
        Binding& binding = entry->bindings[b];
        const CompiledRule& rule = rules[binding.rule];
        if (!rule.policy.stateful()) continue;
        if (rule.per_attribute) {
            for (std::size_t i = 0; i < binding.keys.size(); ++i) {
                binding.keys[i].scheduled = SteadyClock::time_point::max();
                schedule(rule.policy, binding.keys[i], node_id, b, static_cast<std::uint16_t>(i));
            }
        } else {
            binding.node_key.scheduled = SteadyClock::time_point::max();
            schedule(rule.policy, binding.node_key, node_id, b, kNodeKey);
        }
    }
    node_index.emplace(node_key_of(entry->source, entry->node), node_id);
    nodes.push_back(std::move(entry));
}

void Mapper::Impl::map_availability(const Sample& sample, bool online, std::vector<Message>& out) {
    const std::size_t first = out.size();
    for (const CompiledRule& rule : rules) {
        if (!rule.availability || !rule.source.matches(sample.source) ||
            !rule.node.matches(sample.node)) {
            continue;
        }
        Message message;
        rule.availability->expand({gateway, sample.source, sample.node, {}, {}}, message.topic);
        // Rules sharing an availability topic send it once.
        const bool repeated =
            std::any_of(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
                        [&](const Message& earlier) { return earlier.topic == message.topic; });
        if (repeated) continue;
        message.payload = online ? "online" : "offline";
        message.qos = 1;
        message.retain = true;
        message.rule = rule.definition.name;
        out.push_back(std::move(message));
    }
}

void Mapper::Impl::map(const Sample& sample, SteadyClock::time_point now,
                       std::vector<Message>& out) {
    if (sample.online) {
        map_availability(sample, *sample.online, out);
        return;
    }
    const std::uint32_t node_id = find_or_add(sample);
    if (node_id == kNoNode) {
        dropped += sample.attributes.size();
        return;
    }
    NodeEntry* node = nodes[node_id].get();
    if (node->bindings.empty()) return;

    if (node->attributes.empty()) {
        // Sources send the same attributes every time: size the node for them exactly.
        const std::size_t expected = std::min(sample.attributes.size(), kMaxAttributesPerNode);
        node->attributes.reserve(expected);
        for (Binding& binding : node->bindings) {
            binding.selected.reserve(expected);
            if (rules[binding.rule].policy.stateful()) binding.keys.reserve(expected);
        }
    }
    scratch_indices.resize(sample.attributes.size());
    for (std::size_t i = 0; i < sample.attributes.size(); ++i) {
        scratch_indices[i] = resolve(*node, i, sample.attributes[i]);
        if (scratch_indices[i] == kUnresolved) ++dropped;
    }
    char timestamp_buffer[mapping::kTimestampLength];
    mapping::write_timestamp(sample.time, timestamp_buffer);
    const std::string_view timestamp(timestamp_buffer, sizeof timestamp_buffer);

    const Sample& mapped = node->coded ? named(*node, sample) : sample;
    for (std::size_t b = 0; b < node->bindings.size(); ++b) {
        if (rules[node->bindings[b].rule].per_attribute) {
            map_per_attribute(node_id, *node, b, mapped, timestamp, now, out);
        } else {
            map_per_node(node_id, *node, b, mapped, timestamp, now, out);
        }
    }
}

void Mapper::Impl::map_per_attribute(std::uint32_t node_id, NodeEntry& node, std::size_t b,
                                     const Sample& sample, std::string_view timestamp,
                                     SteadyClock::time_point now, std::vector<Message>& out) {
    Binding& binding = node.bindings[b];
    const CompiledRule& rule = rules[binding.rule];
    const Policy& policy = rule.policy;
    const bool stateful = policy.stateful();
    for (std::size_t i = 0; i < sample.attributes.size(); ++i) {
        const std::uint16_t index = scratch_indices[i];
        if (index == kUnresolved || !binding.selected[index]) continue;
        const Attribute& attribute = sample.attributes[i];
        if (!stateful) {
            emit_attribute(rule, node, labels[node.attributes[index]], attribute.value, timestamp,
                           out);
            continue;
        }
        KeyState& key = binding.keys[index];
        const bool changed =
            !policy.on_change || key.last_published.differs(attribute.value, policy.deadband);
        if (policy.keeps_latest()) {
            key.latest.assign(attribute.value);
            key.latest_time = sample.time;
        }
        switch (mapping::admit(policy, key, changed, now)) {
            case Verdict::publish:
                if (policy.on_change) key.last_published.assign(attribute.value);
                emit_attribute(rule, node, labels[node.attributes[index]], attribute.value,
                               timestamp, out);
                break;
            case Verdict::hold:
            case Verdict::suppress:
                schedule(policy, key, node_id, b, index);
                break;
        }
    }
}

void Mapper::Impl::map_per_node(std::uint32_t node_id, NodeEntry& node, std::size_t b,
                                const Sample& sample, std::string_view timestamp,
                                SteadyClock::time_point now, std::vector<Message>& out) {
    Binding& binding = node.bindings[b];
    const CompiledRule& rule = rules[binding.rule];
    const Policy& policy = rule.policy;
    bool any_selected = false;
    bool changed = !policy.on_change;
    std::size_t estimate = 0;
    for (std::size_t i = 0; i < sample.attributes.size(); ++i) {
        const std::uint16_t index = scratch_indices[i];
        if (index == kUnresolved || !binding.selected[index]) continue;
        any_selected = true;
        estimate += labels[node.attributes[index]].name.size() + 24;
        if (!changed && binding.keys[index].last_published.differs(sample.attributes[i].value,
                                                                   policy.deadband)) {
            changed = true;
        }
    }
    if (!any_selected) return;

    Verdict verdict = Verdict::publish;
    if (policy.stateful()) {
        if (policy.keeps_latest()) {
            for (KeyState& key : binding.keys) key.in_latest = false;
            for (std::size_t i = 0; i < sample.attributes.size(); ++i) {
                const std::uint16_t index = scratch_indices[i];
                if (index == kUnresolved || !binding.selected[index]) continue;
                binding.keys[index].latest.assign(sample.attributes[i].value);
                binding.keys[index].in_latest = true;
            }
            binding.node_key.latest_time = sample.time;
        }
        verdict = mapping::admit(policy, binding.node_key, changed, now);
        if (verdict != Verdict::publish) {
            schedule(policy, binding.node_key, node_id, b, kNodeKey);
            return;
        }
    }

    Message& message = begin_node_message(rule, node, timestamp, estimate, out);
    for (std::size_t i = 0; i < sample.attributes.size(); ++i) {
        const std::uint16_t index = scratch_indices[i];
        if (index == kUnresolved || !binding.selected[index]) continue;
        message.payload += ',';
        mapping::append_json_string(sample.attributes[i].name, message.payload);
        message.payload += ':';
        append_value_json(sample.attributes[i].value, message.payload);
        if (policy.on_change) binding.keys[index].last_published.assign(sample.attributes[i].value);
    }
    message.payload += '}';
}

void Mapper::Impl::emit_due(const HeapEntry& entry, SteadyClock::time_point now,
                            std::vector<Message>& out) {
    NodeEntry& node = *nodes[entry.node];
    Binding& binding = node.bindings[entry.binding];
    const CompiledRule& rule = rules[binding.rule];
    const Policy& policy = rule.policy;
    char timestamp_buffer[mapping::kTimestampLength];

    if (entry.attribute != kNodeKey) {
        KeyState& key = binding.keys[entry.attribute];
        mapping::write_timestamp(key.latest_time, timestamp_buffer);
        emit_attribute(rule, node, labels[node.attributes[entry.attribute]], key.latest,
                       std::string_view(timestamp_buffer, sizeof timestamp_buffer), out);
        mapping::note_republished(policy, key, now);
        return;
    }

    mapping::write_timestamp(binding.node_key.latest_time, timestamp_buffer);
    Message& message =
        begin_node_message(rule, node, std::string_view(timestamp_buffer, sizeof timestamp_buffer),
                           binding.keys.size() * 24, out);
    for (std::size_t index = 0; index < binding.keys.size(); ++index) {
        KeyState& key = binding.keys[index];
        if (!key.in_latest || !binding.selected[index]) continue;
        message.payload += ',';
        mapping::append_json_string(labels[node.attributes[index]].name, message.payload);
        message.payload += ':';
        key.latest.append_json(message.payload);
        if (policy.on_change) key.last_published.assign(key.latest);
    }
    message.payload += '}';
    mapping::note_republished(policy, binding.node_key, now);
}

Mapper::Mapper(std::string gateway, const std::vector<MappingRule>& rules, StateNames states)
    : impl_(std::make_unique<Impl>()) {
    impl_->gateway = std::move(gateway);
    impl_->states = std::move(states);
    for (const MappingRule& rule : rules) {
        if (auto compiled = compile(rule)) impl_->rules.push_back(std::move(*compiled));
    }
}

Mapper::~Mapper() = default;
Mapper::Mapper(Mapper&&) noexcept = default;
Mapper& Mapper::operator=(Mapper&&) noexcept = default;

void Mapper::map(const Sample& sample, SteadyClock::time_point now, std::vector<Message>& out) {
    impl_->map(sample, now, out);
}

void Mapper::tick(SteadyClock::time_point now, std::vector<Message>& out) {
    Impl& impl = *impl_;
    for (;;) {
        impl.settle_top();
        if (impl.heap.empty() || impl.heap.front().due > now) return;
        const HeapEntry entry = impl.heap.front();
        impl.pop_heap();
        KeyState& key = impl.key_of(entry);
        key.scheduled = SteadyClock::time_point::max();
        impl.emit_due(entry, now, out);
        impl.schedule(impl.policy_of(entry), key, entry.node, entry.binding, entry.attribute);
    }
}

SteadyClock::time_point Mapper::next_due() const {
    impl_->settle_top();
    return impl_->heap.empty() ? SteadyClock::time_point::max() : impl_->heap.front().due;
}

std::uint64_t Mapper::dropped_attributes() const { return impl_->dropped; }

std::uint64_t Mapper::unknown_states() const { return impl_->unknown_states; }

void Mapper::adopt_state(Mapper&& previous) {
    if (&previous == this || !impl_) return;
    Mapper old = std::move(previous);  // freed on return, with whatever was not carried over
    if (old.impl_) impl_->adopt(*old.impl_);
}

}  // namespace nodebridge
