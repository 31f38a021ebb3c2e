#pragma once
// Home Assistant MQTT discovery: what the bridge announces so that every node it publishes
// shows up in Home Assistant as a device with typed entities (docs/homeassistant.md).
//
// Pure logic, no I/O and no clock: plan_discovery() turns a Config (and the serial-nodes nodes
// heard so far) into the retained discovery configs; DiscoveryPlan::removals_since() says
// what a reload took away; the Announcer queues them and hands them out in paced batches;
// HeardNodes remembers which serial-nodes nodes were heard with which attributes. The daemon
// publishes what they return; the Mapper and the Publisher know nothing of discovery.
//
// Topics and payload keys follow home-assistant.io source/_integrations/mqtt.markdown
// ("Discovery messages", "Device discovery payload", availability), sensor.markdown,
// binary_sensor.markdown, number.mqtt.markdown and switch.mqtt.markdown; docs/homeassistant.md
// cites the versions read.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/message.hpp"
#include "nodebridge/sample.hpp"

namespace nodebridge::homeassistant {

// The kind of value an attribute of a serial-nodes node was heard with.
enum class HeardKind { number, boolean, text };

struct HeardAttribute {
    std::string name;  // the published attribute name
    HeardKind kind = HeardKind::number;
    std::string unit;

    friend bool operator==(const HeardAttribute&, const HeardAttribute&) = default;
};

// A serial-nodes node as heard at run time: every attribute it was ever heard with.
struct HeardNode {
    std::string source;
    std::string node;
    std::vector<HeardAttribute> attributes;  // in order of first appearance

    friend bool operator==(const HeardNode&, const HeardNode&) = default;
};

// One entity of a device: the key under "cmps" (device mode) or the object id in the topic
// (entity mode), its platform and its options.
struct DiscoveryComponent {
    std::string key;       // [a-zA-Z0-9_-]; stable for the attribute
    std::string platform;  // "sensor", "binary_sensor", "number", "switch"
    std::string options;   // the component's options as JSON members, without braces and
                           // without "p"; unique_id, state_topic, ... (never empty)
};

// One Home Assistant device: a node, or the gateway itself.
struct DiscoveryDevice {
    std::string id;            // [a-zA-Z0-9_-]; "nodebridge_<gateway>[_<source>_<node>]"
    std::string device;        // the "dev" object, with braces
    std::string availability;  // shared availability members (device mode root / each entity
                               // in entity mode), without braces; empty for none
    std::vector<DiscoveryComponent> components;
};

// Everything discovery announces for one Config.
struct DiscoveryPlan {
    DiscoveryMode mode = DiscoveryMode::device;
    std::string prefix;                    // the discovery prefix
    std::string origin;                    // the "o" object, with braces
    std::vector<DiscoveryDevice> devices;  // the gateway first, then nodes in config order
                                           // (serial-nodes nodes in the order heard)
    std::string gateway_id;                // "nodebridge_<gateway>", the gateway's device id
    std::vector<std::string> unheard;      // device id prefixes of the serial-nodes sources:
                                           // their nodes join the plan once heard

    // The retained, QoS 1 discovery messages, one per device (device mode) or per entity
    // (entity mode), in device order.
    std::vector<Message> messages() const;

    // What removes from Home Assistant what `previous` announced and this plan does not: an
    // empty retained message on every config topic that is gone; in device mode, for a device
    // that stays but lost entities, its new config with each lost entity as {"p": platform}
    // (Home Assistant's way to remove one component; the regular config must follow).
    std::vector<Message> removals_since(const DiscoveryPlan& previous) const;
};

// Builds the plan: nothing when config.homeassistant is unset. For every node a rule with
// discovery on publishes (Modbus nodes from the config, serial-nodes nodes from `heard`;
// heard nodes of sources no longer configured are left out), one device holding one entity
// per published attribute (the first such rule, in config order, decides its topic), plus
// the gateway's own device with its health and stats entities.
DiscoveryPlan plan_discovery(const Config& config, const std::vector<HeardNode>& heard = {});

// An id Home Assistant accepts in a discovery topic ([a-zA-Z0-9_-]): `text` itself when it
// only holds those, else every other byte made '_' and a hash of `text` appended, so two
// different names never share an id.
std::string safe_id(std::string_view text);

// Recognises this gateway's configs among the retained ones on the broker, so that those
// announced under an earlier config (changed while the daemon was stopped, which no reload
// saw) can be removed. Immutable once made: any thread may use it.
class OwnConfigs {
  public:
    OwnConfigs() = default;  // claims nothing
    explicit OwnConfigs(const DiscoveryPlan& plan);

    // The subscriptions that bring every retained config under the plan's prefix, in both
    // layouts whatever the mode: <prefix>/device/+/config and <prefix>/+/+/+/config. Empty
    // when the plan is (discovery off).
    std::vector<std::string> filters() const;

    // True when `topic` matches filters(): a config topic under the prefix, anybody's.
    bool covers(std::string_view topic) const;

    // True when `payload` on `topic` is a config this gateway announced: a config topic under
    // the prefix whose device id is the gateway's own, or starts with it and whose payload
    // names the gateway as `via_device` (so gateway "a" never claims gateway "a_b"'s
    // devices). Devices of serial-nodes sources are never claimed: a node not heard yet since
    // the start is not in the plan, yet still there.
    bool claims(std::string_view topic, std::string_view payload) const;

  private:
    std::string prefix_;       // "<prefix>/"
    std::string gateway_id_;   // empty: claims nothing
    std::string node_prefix_;  // "<gateway id>_": every node device id starts with it
    std::string via_;          // "\"via_device\":\"<gateway id>\"" as device payloads hold it
    std::vector<std::string> unheard_;
};

// Queues discovery messages and hands them out a batch at a time, so that announcing a
// thousand devices does not flood the broker. Not thread-safe: one thread drives it.
class Announcer {
  public:
    // Replaces the plan. Queues the removals of what the previous plan announced and this
    // one does not, then every config that is new or changed. The first plan queues nothing:
    // announce() does, once connected.
    void update(DiscoveryPlan plan);

    // Queues every config of the plan (after a connect, or when Home Assistant comes back
    // online); queued removals stay queued, queued configs are not repeated.
    void announce();

    // A config the broker still holds (one OwnConfigs claims): when the plan does not hold
    // its topic, queues its removal (an empty retained message) unless one is queued already,
    // and returns true.
    bool remove_leftover(const std::string& topic);

    // Takes up to `count` queued messages, oldest first.
    std::vector<Message> take(std::size_t count);

    bool idle() const { return queue_.empty(); }
    std::size_t queued() const { return queue_.size(); }
    const DiscoveryPlan& plan() const { return plan_; }

  private:
    struct Pending {
        Message message;
        bool config = false;  // a regular config of the plan (not a removal)
    };
    DiscoveryPlan plan_;
    bool has_plan_ = false;
    std::map<std::string, std::string> announced_;  // topic -> payload of the plan's configs
    std::deque<Pending> queue_;
};

// The serial-nodes nodes heard so far and the attributes each was heard with. observe() runs
// on the mapping thread for every sample; the rest on any thread. Bounded: at most kMaxNodes
// nodes and kMaxAttributes attributes per node are remembered.
class HeardNodes {
  public:
    static constexpr std::size_t kMaxNodes = 65536;
    static constexpr std::size_t kMaxAttributes = 256;

    // The serial-nodes sources whose samples count; samples of other sources are ignored.
    // Nodes of sources no longer listed are forgotten.
    void set_sources(const std::vector<std::string>& sources);

    // Notes a sample: a reading of a new node, or with an attribute (or kind, or unit) not
    // heard before, changes what is known and bumps generation(). Availability samples and
    // samples of other sources change nothing.
    void observe(const Sample& sample);

    // Counts the changes; a different value means snapshot() differs.
    std::uint64_t generation() const;
    std::vector<HeardNode> snapshot() const;

  private:
    mutable std::mutex mutex_;
    std::vector<std::string> sources_;
    std::map<std::pair<std::string, std::string>, HeardNode> nodes_;
    std::vector<std::pair<std::string, std::string>> order_;  // keys in order first heard
    std::uint64_t generation_ = 0;
};

}  // namespace nodebridge::homeassistant
