#pragma once
// What a Modbus source knows and says about its nodes, whatever drives its bus (the RTU
// line's blocking thread or the Modbus TCP event loop): each node's request plan, health and
// availability, the counters and error log, the samples a finished poll makes, and the checks a
// write command passes before it is queued.
//
// Threads: the node states are touched only by the thread that drives the bus; stats(),
// node_errors() and prepare_write() may be called from any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "encode.hpp"
#include "nodebridge/config.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/source.hpp"
#include "nodebridge/turn_samples.hpp"
#include "request_plan.hpp"
#include "unit_health.hpp"

namespace nodebridge::modbus {

// One node's polling state.
struct NodeState {
    const ModbusNode* config = nullptr;
    // Its attributes by read interval, shortest first (plan_groups()). One plan is shared by
    // the source's nodes with the same attribute list and limits (a `units:` range, a model's
    // nodes); a node gets its own copy when a refused coalesced read is split in it
    // (own_groups()), and that stays split.
    std::shared_ptr<std::vector<PollGroup>> plan;
    const std::vector<PollGroup>& groups() const { return *plan; }
    std::vector<PollGroup>& own_groups() {
        if (plan.use_count() > 1) plan = std::make_shared<std::vector<PollGroup>>(*plan);
        return *plan;
    }
    UnitHealth health{3, Millis{30000}};
    Millis request_gap{0};  // extra silence before each of its requests
    int retries = 0;        // repeats of a request without a valid reply
    bool online = false;    // the last poll read every attribute (set by SourceBook only)
    bool ever_polled = false;
    // Availability, as published: unset until the first reading or the first offline_after.
    Millis offline_after{30000};
    SteadyClock::time_point last_reading;  // or the start, before the first reading
    std::optional<bool> available;
};

// A write command checked and encoded, waiting for the bus.
struct PendingWrite {
    std::size_t node = 0;       // index into the nodes
    std::size_t attribute = 0;  // index into that node's attributes
    WriteData data;
    WriteCommand command;
    Source::WriteDone done;
};

// What one poll of a node found, for SourceBook::finish_poll().
struct PollOutcome {
    std::vector<std::optional<Value>> values;  // one slot per attribute
    bool complete = true;                      // every attribute read
    bool answered = false;                     // any reply, an exception too: the unit is there
    std::optional<WallClock::time_point> reply_time;  // of the last valid reply
};

class SourceBook {
  public:
    // Plans every node's requests. `config`, `queue` and `log` must outlive the book.
    SourceBook(std::string name, const ModbusSourceConfig& config, SampleQueue& queue, Logger& log);

    const std::string name;
    const ModbusSourceConfig& config;
    const std::string link;  // "HOST:PORT" or the serial device, for messages
    std::vector<NodeState> nodes;

    // ---- counters: thread-safe ----
    SourceStats stats() const;
    std::map<std::string, std::map<std::string, std::uint64_t>> node_errors() const;
    void count_request();
    // Counts `kind` (for `node`, when given) and logs `message` at warning level,
    // rate-limited per node and kind (event "modbus-<kind>").
    void record_error(const NodeState* node, std::string_view kind, const std::string& message);
    // As record_error(), without the log line: for a failure already logged and repeated.
    void count_error(const NodeState* node, std::string_view kind, const std::string& message);
    void set_last_error(std::string text);

    // ---- the bus thread's ----
    // Logs each attribute the plan could not place in one request (once, at start), and
    // starts every node's offline_after allowance at `start`.
    void started(SteadyClock::time_point start);
    // Takes nodes without a reading for their offline_after offline. Returns when it next
    // has something to do (time_point::max() when every node is offline already).
    SteadyClock::time_point check_availability(SteadyClock::time_point now);
    // The link is gone: no node is online (nodes_online 0) until its next complete poll.
    void link_lost();
    // Ends a poll of `node`: logs a recovery, updates online and the dead-unit rule (when
    // `connected`), and pushes the reading (after an online availability sample when the
    // node was not available). Returns how long the node's next poll is held back at least,
    // for NodeSchedule::polled(): zero, or dead_poll for a dead unit.
    Millis finish_poll(NodeState& node, PollOutcome outcome, bool connected);

    // Hands the samples made from now on to `turn` (an event loop's, which hands every
    // source's samples of a turn to the queue together) rather than to the queue one by one,
    // as the RTU thread does. `turn` must outlive the book.
    void batch_samples(TurnSamples& turn) { turn_ = &turn; }
    // With batch_samples(): hands over at once what the turn holds (a source that stops).
    void flush_samples();

    // ---- writes ----
    // Checks `command` against the configuration (source, node, attribute, writable,
    // min/max, encodable) and returns it ready to queue, or why not.
    std::variant<PendingWrite, std::string> prepare_write(WriteCommand command,
                                                          Source::WriteDone done) const;
    // Logs why `command` was refused (rate-limited per node) and answers `done` with it.
    void refuse_write(const WriteCommand& command, const Source::WriteDone& done,
                      const std::string& reason);
    // Counts a write's outcome and answers `done`; never call it with a lock held, so
    // `done` may queue another write.
    void finish_write(const Source::WriteDone& done, const std::string& error);
    // What the log says of `write`: "pdu-1: writing setpoint = 42.5 (holding 20 of unit 1)".
    std::string describe_write(const PendingWrite& write) const;

    Logger& log() { return log_; }

  private:
    void hand_over(Sample sample);
    void push_availability(const NodeState& node, bool online);
    void note_health(NodeState& node, bool answered);
    // Sets node.online and keeps the count of online nodes (nodes_online) with it.
    void set_online(NodeState& node, bool online);

    SampleQueue& queue_;
    Logger& log_;
    mutable std::mutex stats_mutex_;
    SourceStats stats_;
    std::map<std::string, std::map<std::string, std::uint64_t>> node_errors_;
    TurnSamples* turn_ = nullptr;  // batch_samples()
    int online_count_ = 0;         // nodes with online set, the bus thread's
};

// The intervals of every node's groups, node by node: what NodeSchedule is laid out from.
std::vector<std::vector<Millis>> group_intervals(const SourceBook& book);

// The silence after which `node` is offline: its own offline_after, else the source's, else
// max(3x its fastest_interval(), kMinimumOfflineAfter).
inline constexpr std::chrono::milliseconds kMinimumOfflineAfter{30000};
Millis offline_after_for(const ModbusSourceConfig& source, const ModbusNode& node);
// The node's request_gap, else its model's, else the source's.
Millis request_gap_for(const ModbusSourceConfig& source, const ModbusNode& node);
// The source's max_registers, lowered by the node's model's; 1..125.
std::uint16_t max_registers_for(const ModbusSourceConfig& source, const ModbusNode& node);
// The node's model's max_gap, else the source's.
std::uint16_t max_gap_for(const ModbusSourceConfig& source, const ModbusNode& node);

}  // namespace nodebridge::modbus
