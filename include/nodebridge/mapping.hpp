#pragma once
// The Mapping turns Samples into Messages by the configured rules. Pure logic: no I/O,
// no threads, no clock of its own (callers pass `now`), so it is tested without waiting.
//
// Behaviour in short (docs/mapping.md has the user's reference):
//   - A rule matches a sample when its source and node globs (`*`, `?`, `[...]`) match;
//     its `attributes` (names or globs, empty = all) select which attributes it takes. A
//     sample can match several rules; their messages come in rule order, and inside a rule
//     in the sample's attribute order.
//   - A topic with {attribute} gives one message per selected attribute; otherwise one
//     message per sample carrying all its selected attributes (none selected: no message).
//     In a per-node topic {unit} expands to "".
//   - Payload `value`: the bare value (append_value_text). Payload `json` per attribute:
//     {"value":230.5,"unit":"V","ts":"..."} (no "unit" when empty); per node:
//     {"node":"pdu-1","ts":"...","voltage":230.5,...}. A per-node rule always sends JSON.
//     "ts" is the sample's time. The loader refuses configured attributes named "node" or
//     "ts"; a received key of that name that no schema declares is still written as is.
//   - Policies keep state per (rule, source, node, attribute) for per-attribute rules and
//     per (rule, source, node) for per-node rules: on_change (numbers must move more than
//     deadband), heartbeat (tick() republishes the latest reading when nothing was
//     published for that long and a reading was seen since the last publish) and
//     min_interval (at most one message per interval; the latest reading wins and tick()
//     publishes it when the interval ends). A per-node message passes on_change when any
//     selected attribute changed, and then carries all selected attributes of the sample.
//   - Republished messages (tick) carry the latest reading with its own sample time.
//   - An availability sample (Sample::online set) publishes no readings: every rule whose
//     globs match and that has an availability_topic sends "online" or "offline" there,
//     retained, QoS 1, once per distinct topic. It touches no policy state.
//   - Bounds: at most 65536 (source, node) pairs and 1024 attributes per node are tracked;
//     readings beyond them are dropped and counted in dropped_attributes().
//   - Reload: adopt_state() carries the policy state of unchanged rules from the previous
//     Mapper into a new one, so a reload neither repeats on_change values nor restarts
//     heartbeat and min_interval timers of rules it did not touch.
//   - Every message names the rule that made it in Message::rule.
//   - Coded attributes (`states:`, docs/models.md): a reading whose value is one of the
//     attribute's codes is published as the code's name (text: "battery" bare, "battery"
//     as a JSON string); any other value is published as it is and counted in
//     unknown_states(), once per reading. StateNames says which attributes are coded.
// A Mapper is used by one thread at a time.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/message.hpp"
#include "nodebridge/sample.hpp"

namespace nodebridge {

// The code -> name tables of a config's coded attributes (`states:`), by source, node and
// published attribute name: a Modbus node's attributes, a serial-nodes source's schema and
// the schemas its `models:` give nodes whose id matches.
class StateNames {
  public:
    using Table = std::vector<std::pair<std::int64_t, std::string>>;

    StateNames() = default;
    explicit StateNames(const Config& config);

    bool empty() const { return sources_.empty(); }
    // The table of `attribute` as published by `node` of `source`; null when not coded.
    const Table* find(std::string_view source, std::string_view node,
                      std::string_view attribute) const;
    // The name `value` stands for in `table`: an integer, or a number with no fraction, that
    // is one of its codes. Null for anything else (an unknown code, text, a bool).
    static const std::string* name_of(const Table& table, const Value& value);

    friend bool operator==(const StateNames&, const StateNames&) = default;

  private:
    using Attributes = std::map<std::string, Table, std::less<>>;
    struct Source {
        std::map<std::string, Attributes, std::less<>> nodes;         // Modbus: by node id
        Attributes schema;                                            // serial-nodes: every node's
        std::vector<std::pair<std::string, Attributes>> node_models;  // glob, schema
        friend bool operator==(const Source&, const Source&) = default;
    };
    std::map<std::string, Source, std::less<>> sources_;
};

class Mapper {
  public:
    // `rules` must be valid (as load_config() returns them); a rule whose topic template
    // does not parse is skipped. `states` names the coded attributes (none by default).
    Mapper(std::string gateway, const std::vector<MappingRule>& rules, StateNames states = {});
    ~Mapper();
    Mapper(Mapper&&) noexcept;
    Mapper& operator=(Mapper&&) noexcept;

    // Appends to `out` the messages `sample` produces at steady time `now`, by every rule
    // that matches it, in rule order. Keeps the per-(rule, node, attribute) state that
    // on_change, deadband, heartbeat and min_interval need.
    void map(const Sample& sample, SteadyClock::time_point now, std::vector<Message>& out);

    // Appends messages that are due without a new sample: heartbeat republishes of
    // unchanged values, and the latest value held back by min_interval.
    void tick(SteadyClock::time_point now, std::vector<Message>& out);

    // The earliest time tick() may have something to do; time_point::max() when nothing is
    // pending.
    SteadyClock::time_point next_due() const;

    // Readings dropped because a source sent more distinct nodes or attributes than the
    // bounds above allow.
    std::uint64_t dropped_attributes() const;

    // Readings of coded attributes whose value was none of the codes, published as they
    // were. A reload (adopt_state) continues the count.
    std::uint64_t unknown_states() const;

    // A reload: replaces this Mapper's state by the state `previous` kept for every rule
    // that is unchanged here (a rule of the same name that compares equal, Position aside,
    // under the same gateway): on_change references, held min_interval readings and
    // heartbeat deadlines carry over, and next_due() includes them. Changed and new rules
    // start afresh; state of rules that are gone is dropped; a different gateway keeps
    // nothing. dropped_attributes() continues from the previous count. Tracked nodes and
    // attributes are at most what `previous` had, so the bounds still hold. `previous` is
    // left empty (only destruction or assignment are valid) and its memory is freed.
    void adopt_state(Mapper&& previous);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Formats a value as a payload or JSON fragment: numbers as number_text() writes them
// ("230.5", "0.0001", "1e+21"; non-finite numbers as "null" in JSON and "nan", "inf",
// "-inf" as text), integers as integers, bools as true/false, text as is (value) or as an
// escaped JSON string (json; control characters as \u00XX, invalid UTF-8 as U+FFFD).
void append_value_text(const Value& value, std::string& out);
void append_value_json(const Value& value, std::string& out);

// "2026-11-24T12:00:00.123Z": UTC, truncated to milliseconds.
std::string format_timestamp(WallClock::time_point time);

}  // namespace nodebridge
