#pragma once
// The Modbus source: polls the nodes of one bus (a TCP endpoint or a serial line) and pushes
// one Sample per node poll. A modbus-rtu line has a thread of its own that drives libmodbus
// (a serial line is bound by the wire, not the CPU); a modbus-tcp endpoint is driven by an
// IoLoop that every Modbus TCP source of the daemon shares (TcpEndpoint, tcp_endpoint.hpp),
// with its own MBAP framing, pipelining and transaction matching.
//
// Both keep the same rules (SourceBook, PollRound). Nodes are polled in deadline order. The
// deadlines are a NodeSchedule: a node's attributes are read in groups by interval (its poll,
// or an attribute's own `poll`), each group's polls keep to a grid of its interval, the groups
// that share an interval spread evenly across it (so many nodes make a steady stream, not a
// burst per interval), missed deadlines are skipped rather than caught up in a burst, and
// after a reconnect every group resumes at its next grid point. A poll reads the node's
// groups that are due; each group's first poll comes within one interval of start(). A node that does not answer costs one response timeout per
// poll (times 1 + retries) and nothing more; after dead_after such polls in a row it is dead:
// offline, logged once, and polled only every dead_poll (on its grid) until it answers
// (UnitHealth). Errors are counted by kind ("timeout", "truncated", "crc", "wrong-unit",
// "garbled", "exception", "connection", "decode", and on TCP "stale": a reply to no request in
// flight) and logged rate-limited per node and kind; nothing from a bad frame is published.
// After a request that got no valid reply an RTU line is drained until silent; on TCP a late
// reply is told by its transaction id and dropped. Lost connections are closed and reopened
// with exponential backoff (0.5 s doubling up to 30 s).
//
// On the wire: before every request the source keeps the line silent for t3.5 (RTU,
// rtu_timing.hpp) plus the node's request_gap since the bus last went quiet; requests hold at
// most max_registers registers (the source's, lowered by the node's model); a coalesced read
// refused with "illegal data address" is split (split_request) and stays split.
//
// Availability: a node is online from the poll that first returns a reading (any attribute)
// and offline once no poll returned one for its offline_after (counted from the start for a
// node that never answers), whether the bus is connected or not. Each change is pushed as an
// availability Sample (online set, no attributes; an online one just before the reading)
// and listed in SourceStats::nodes. SourceStats::nodes_online counts the nodes whose last
// poll read every attribute.
//
// Writes (write-back commands) are queued, at most kMaxPendingWrites, and performed before
// the next due poll, one per turn so polls are not starved: FC05 for a coil, FC06 for one
// holding register, FC16 for several. A node just written is polled next, so its new value is
// read back at once; other nodes keep their schedule.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "nodebridge/config.hpp"
#include "nodebridge/io_loop.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/source.hpp"
#include "nodebridge/turn_samples.hpp"
#include "source_book.hpp"
#include "tcp_endpoint.hpp"

namespace nodebridge {

namespace modbus {
inline constexpr std::chrono::milliseconds kFirstReconnectDelay{500};
inline constexpr std::chrono::milliseconds kMaxReconnectDelay{30000};
// The longest the source drains a noisy RTU line after a bad frame.
inline constexpr std::chrono::milliseconds kMaxDrain{1000};
// Writes queued for the source's thread at most; more are refused at once.
inline constexpr std::size_t kMaxPendingWrites = 64;

// The error kind libmodbus's `errnum` belongs to: "timeout" (ETIMEDOUT), "exception" (an
// exception reply, EMBXILFUN..EMBXGTAR), "crc" (EMBBADCRC), "wrong-unit" (a reply from
// another unit, EMBBADSLAVE), "garbled" (a malformed reply: EMBBADDATA..EMBMDATA) or
// "connection" (anything else: refused, reset, broken pipe, ...).
std::string_view classify_error(int errnum);

// As classify_error(), but a timeout that came sooner than the response `timeout` is
// "truncated": a reply started and stopped (libmodbus's byte timeout ran out mid-frame).
std::string_view classify_failure(int errnum, Millis elapsed, Millis timeout);
}  // namespace modbus

class ModbusSource final : public Source {
  public:
    // `config.link` chooses TCP or RTU. Nothing is opened until start(). `queue`, `log` and
    // `tcp` must outlive the source. A TCP source runs on `tcp->loop()`, which must be running
    // by start(), and hands its samples to `tcp` (whose queue is `queue`); without one it
    // starts an IoLoop of its own.
    ModbusSource(std::string name, ModbusSourceConfig config, SampleQueue& queue, Logger& log,
                 TurnSamples* tcp = nullptr);
    // Stops it if it still runs.
    ~ModbusSource() override;
    ModbusSource(const ModbusSource&) = delete;
    ModbusSource& operator=(const ModbusSource&) = delete;

    const std::string& name() const override;

    // Starts polling; a second call does nothing. Connecting happens in the background, and
    // failures there are counted, logged and retried.
    void start() override;

    // Stops polling. Returns within about one response timeout on RTU (the longest a
    // libmodbus call can block), at once on TCP. Safe to call more than once.
    void stop() override;

    SourceStats stats() const override;

    // Queues `command` for the thread; `done` gets "" once the device acknowledged it, or
    // the reason: at once (wrong source, no such node or attribute, not writable, outside
    // min/max, a value encode_value() refuses, "write queue full", "source stopped"), or
    // from the thread ("not connected to HOST:PORT", "timeout", "exception: illegal data
    // address", ...). Writes still queued when stop() returns get "source stopped".
    void write(WriteCommand command, WriteDone done) override;

    // Error counts per node id, then per kind. Thread-safe snapshot.
    std::map<std::string, std::map<std::string, std::uint64_t>> node_errors() const;

  private:
    struct Impl;                                // the RTU line's thread
    std::unique_ptr<Impl> impl_;                // modbus-rtu
    std::unique_ptr<IoLoop> own_loop_;          // modbus-tcp without a shared loop
    std::unique_ptr<TurnSamples> own_samples_;  // and its samples
    std::unique_ptr<modbus::TcpEndpoint> tcp_;  // modbus-tcp
};

// Builds a ModbusSource for a "modbus-tcp" or "modbus-rtu" source. Returns nullptr when
// `config.settings` does not hold a ModbusSourceConfig.
std::unique_ptr<Source> make_modbus_source(const SourceConfig& config, SampleQueue& queue,
                                           Logger& log, TurnSamples* tcp = nullptr);

}  // namespace nodebridge
