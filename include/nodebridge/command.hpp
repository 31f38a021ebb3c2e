#pragma once
// Write-back: MQTT commands that set a Modbus coil or holding register. Off by default: a
// command is only ever written for an attribute with `writable: true`, reached through a
// rule with a `command_topic`. docs/write-back.md is the user's reference.
//
// The CommandRouter is pure logic (no I/O, no threads, no clock): built from a valid Config
// it knows every command topic to subscribe to, and turns one received MQTT message into
// either a validated WriteCommand for the owning source or a rejection with its reason.
// The source's own thread performs the write (Source::write) and reports the outcome.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/sample.hpp"

namespace nodebridge {

// A validated command: the value passed the attribute's type, min/max and allowed checks.
struct WriteCommand {
    std::string source;       // the owning source's name
    std::string node;         // node id
    std::string attribute;    // attribute name
    Value value;              // bool for boolean attributes; double for numbers, in published
                              // units (the source applies the inverse of scale and offset)
    std::string reply_topic;  // where the outcome is published
    std::string rule;         // the rule whose command_topic it came through

    friend bool operator==(const WriteCommand&, const WriteCommand&) = default;
};

// A command refused before reaching the device; `reason` is one line for the result topic
// and the log, e.g. "value 150 is above max 100".
struct CommandRejection {
    std::string reply_topic;  // empty when the topic is not a command topic at all
    std::string reason;

    friend bool operator==(const CommandRejection&, const CommandRejection&) = default;
};

// One command topic the daemon subscribes to.
struct CommandTarget {
    std::string topic;        // the expanded command topic
    std::string reply_topic;  // topic + "/result"
    std::string rule;
    std::string source;
    std::string node;
    ModbusAttribute attribute;  // its config; attribute.writable says if commands are accepted

    friend bool operator==(const CommandTarget&, const CommandTarget&) = default;
};

// Every command target `config` gives, as CommandRouter(config).targets() holds them: for
// each rule with a command_topic, each Modbus source and node it matches and each attribute
// it selects, in config order. Left out, and appended to `shadowed` when it is given: a
// target whose topic an earlier one already has, and one whose topic or result topic the
// bridge publishes itself (a rule's topic or availability topic for a Modbus node, the
// health or stats topic). Bounded against hostile configs: at most kMaxCommandTargets
// targets and kMaxCommandTopicBytes of topics (the rest are dropped), each topic with
// "/result" at most 65535 bytes; a config too large to check for topics the bridge
// publishes gets no targets at all. In nb_config so that --check-config lists the same.
inline constexpr std::size_t kMaxCommandTargets = 65536;
inline constexpr std::size_t kMaxCommandTopicBytes = 16u << 20;
std::vector<CommandTarget> command_targets(const Config& config,
                                           std::vector<CommandTarget>* shadowed = nullptr);

// The largest command payload accepted; longer ones are rejected unread.
inline constexpr std::size_t kMaxCommandPayload = 256;

// Parses a command payload strictly: a bare JSON scalar ("42", "-1.5", "true", "false"), or
// an object with exactly one key, {"value": <scalar>}. Surrounding ASCII whitespace is
// allowed; anything else (strings, nulls, NaN, trailing bytes, other keys, nesting) is an
// error. Returns the value (bool, or double for every number) or the reason it is refused.
std::variant<Value, std::string> parse_command_payload(std::string_view payload);

// The reason `value` (bool, or a double in published units) is refused for `attribute` of
// `node`: its type, min, max, allowed values and, for integers, whole steps of scale from
// offset. "" when it fits. The checks every write passes, whichever way it came (command
// topics, Sparkplug DCMD).
std::string check_command_value(const ModbusAttribute& attribute, const std::string& node,
                                const Value& value);

class CommandRouter {
  public:
    // Expands every rule's command_topic for each attribute the rule selects on every node
    // of every Modbus source (serial-nodes sources take no commands). Topics that two
    // targets would share keep the first (config order).
    explicit CommandRouter(const Config& config);

    // Every subscribed topic with what it addresses, in config order, topics unique.
    const std::vector<CommandTarget>& targets() const { return targets_; }

    // The command topics, for the subscription.
    std::vector<std::string> topics() const;

    // Checks one received message: the topic must be a command topic, the message must not
    // be a retained one (a stale command is never replayed), the attribute must be
    // writable, the payload must parse and the value must fit the attribute's type, min,
    // max and allowed values.
    std::variant<WriteCommand, CommandRejection> route(std::string_view topic,
                                                       std::string_view payload,
                                                       bool retained) const;

  private:
    std::vector<CommandTarget> targets_;
    std::unordered_map<std::string, std::size_t> index_;  // topic -> index in targets_
};

}  // namespace nodebridge
