#pragma once
// The Sparkplug B 3.0 edge node: nodebridge's nodes as Sparkplug devices. Pure logic (no
// I/O, no threads, no clock of its own: callers pass the times), so every rule of the
// session is unit-tested; the daemon serialises calls and hands what it returns to the
// Publisher (docs/sparkplug.md is the user's reference, with the specification's sections).
//
// The session, as the specification's chapter 5 describes it:
//   - will() is called before every MQTT CONNECT: it returns the NDEATH to register as the
//     Will (QoS 1, not retained) with the next bdSeq (0 for the first, then +1, 255 -> 0).
//   - connected() after CONNACK returns the births: NBIRTH (seq 0, the same bdSeq, the
//     gateway's metrics, "Node Control/Rebirth" = false) and a DBIRTH for every device that
//     is not known to be offline, then the readings held while there was no session, as
//     DDATA flagged is_historical. With a primary host it returns nothing until that host's
//     STATE says online (receive()).
//   - map() turns a Sample into DDATA by exception (the rule's on_change, deadband,
//     heartbeat and min_interval; tick() sends what is due later), a DBIRTH for a device's
//     first reading in the session or when it comes back, and a DDEATH when it goes
//     offline. Without a session, data is held (bounded) for the historical replay.
//   - receive() takes NCMD (Rebirth), DCMD (writes, checked like write-back commands) and
//     the primary host's STATE; anything else is refused and counted. An offline STATE
//     ends the session at once: from then on readings are held, and nothing is born again
//     before the next connected().
// Every message but NDEATH carries seq 0..255 in the order the functions return them; the
// caller must publish them in that order, before calling again. All messages but the Will
// are QoS 0 and not retained, as the specification requires.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nodebridge/command.hpp"
#include "nodebridge/config.hpp"
#include "nodebridge/message.hpp"
#include "nodebridge/sample.hpp"

namespace nodebridge::sparkplug {

inline constexpr std::string_view kNamespace = "spBv1.0";
inline constexpr std::string_view kRebirthMetric = "Node Control/Rebirth";
inline constexpr std::string_view kUnitsProperty = "engUnit";  // a String property

// Bounds against hostile or huge inputs.
inline constexpr std::size_t kMaxDevices = 65536;
inline constexpr std::size_t kMaxMetricsPerDevice = 1024;
inline constexpr std::size_t kMaxHeldMetrics = 100'000;  // historical store, oldest dropped

// The gateway's own metrics: "Node Info/Version" and one UInt64 "Node Info/<name>" per
// counter. The names must be the same in every call.
struct NodeMetrics {
    std::string version;
    std::vector<std::pair<std::string, std::uint64_t>> counters;
};

struct EdgeNodeStats {
    std::uint64_t births = 0;           // NBIRTH sequences sent (connects and rebirths)
    std::uint64_t device_births = 0;    // DBIRTH
    std::uint64_t device_deaths = 0;    // DDEATH
    std::uint64_t data = 0;             // NDATA and DDATA
    std::uint64_t rebirths = 0;         // NCMD Rebirth requests honoured
    std::uint64_t writes = 0;           // DCMD metrics that passed the checks
    std::uint64_t refused = 0;          // NCMD/DCMD/STATE messages or metrics refused
    std::uint64_t historical = 0;       // held metrics replayed as historical
    std::uint64_t held_dropped = 0;     // held metrics dropped (kMaxHeldMetrics)
    std::uint64_t dropped_metrics = 0;  // readings beyond kMaxDevices / kMaxMetricsPerDevice
    // Filled in by the daemon's link from its MQTT session, not by EdgeNode:
    std::uint64_t connects = 0;        // connections the broker accepted
    std::uint64_t unsent_dropped = 0;  // messages of a connection that ended before they left
};

// What a received message asks of the daemon.
struct Received {
    std::vector<Message> publish;       // births (primary host online, rebirth)
    std::vector<WriteCommand> writes;   // checked DCMD writes, for the owning source
    std::vector<std::string> refusals;  // one line each, for the log
    bool disconnect = false;            // the primary host went offline: end the session
    // With `disconnect`: the session had published its births. False when it ended before
    // them (the host's offline STATE, retained, greeted a new connection): that connection
    // counts as a failed connection attempt for the reconnect backoff.
    bool was_born = false;
};

class EdgeNode {
  public:
    // `config.sparkplug` must be set and `config` valid (as load_config() returns it).
    explicit EdgeNode(const Config& config);
    ~EdgeNode();
    EdgeNode(EdgeNode&&) noexcept;
    EdgeNode& operator=(EdgeNode&&) noexcept;

    // "spBv1.0/<group>/<type>/<edge node>[/<device>]"
    std::string topic(std::string_view type, std::string_view device = {}) const;

    // What to subscribe to: NCMD, DCMD/+ and, with a primary host, its STATE topic.
    std::vector<std::string> topics() const;

    // The NDEATH for the next CONNECT (bdSeq advances by one per call).
    Message will();

    // The connection was accepted: the births, then the held data (see above).
    std::vector<Message> connected(WallClock::time_point now, const NodeMetrics& metrics);

    // The connection is gone: nothing more is sent until connected().
    void disconnected();

    // A reading or availability change, at steady time `steady` and wall time `now`.
    std::vector<Message> map(const Sample& sample, SteadyClock::time_point steady,
                             WallClock::time_point now);

    // Heartbeats and min_interval readings due at `steady`.
    std::vector<Message> tick(SteadyClock::time_point steady, WallClock::time_point now);
    SteadyClock::time_point next_due() const;

    // NDATA with the gateway metrics that changed since they were last sent.
    std::vector<Message> node_data(const NodeMetrics& metrics, WallClock::time_point now);

    // A message on one of topics(). `metrics` fills a rebirth's NBIRTH.
    Received receive(std::string_view topic, std::string_view payload, bool retained,
                     WallClock::time_point now, const NodeMetrics& metrics);

    // True between the births and the end of the session.
    bool born() const;
    std::uint8_t bd_seq() const;  // the bdSeq of the last will()
    EdgeNodeStats stats() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    friend struct SparkplugSummary summarize(const Config& config);
};

// The devices and metrics `config` gives Sparkplug before any reading (Modbus nodes of
// rules with `sparkplug: true`): for --check-config. Serial-nodes devices are learned when
// heard and are not counted.
struct SparkplugSummary {
    std::size_t devices = 0;
    std::size_t metrics = 0;
};
SparkplugSummary summarize(const Config& config);

// A primary host's STATE payload (chapter 6, "STATE", JSON
// {"online": bool, "timestamp": ms}). nullopt when it is not exactly that shape.
struct HostState {
    bool online = false;
    std::uint64_t timestamp = 0;
};
std::optional<HostState> parse_state(std::string_view payload);

}  // namespace nodebridge::sparkplug
