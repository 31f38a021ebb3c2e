#pragma once
// A Modbus TCP source driven by an IoLoop that it shares with every other: one non-blocking
// connection to its endpoint, our own MBAP framing (mbap.hpp), up to `max_in_flight` requests
// outstanding on it, and each reply matched to its request by transaction id.
//
// It keeps the rules of the RTU line's thread, through the same SourceBook, PollRound,
// NodeSchedule and UnitHealth: each interval group polled on its grid, reads coalesced and split
// when refused, retries, request_gap, dead units polled every dead_poll, availability, writes
// before due polls and their read-back, counters by kind. What differs is the transport:
// - Several nodes' polls may be under way at once (max_in_flight > 1); one node's reads
//   still go one after the other. With max_in_flight 1 (the default) one request is on the
//   wire at a time, as a TCP-to-RTU gateway wants.
// - A reply is taken only for the request whose transaction id it carries. One with no such
//   request in flight (a late reply to a request that timed out, or one sent twice) is
//   counted as "stale" and dropped; one from another unit as "wrong-unit", or to another
//   function as "garbled", and dropped too, the request still waiting for its own. So a
//   device that was slow for a while is read again on its next poll, without a reconnect.
// - A stream that cannot be framed (a protocol id other than 0, a length field outside
//   2..254, a frame left unfinished for longer than the timeout) is counted ("garbled",
//   "truncated") and the connection closed and opened again; nothing past the bad frame is
//   read.
// - Connecting is non-blocking and bounded by the timeout; a lost or refused connection is
//   retried after 0.5 s, doubling to 30 s, and answered writes meanwhile get "not connected".
// - A host name is resolved when the source starts, on the caller's thread. Once every
//   address it gave has failed to connect, or when it did not resolve, it is resolved again
//   before the next attempt, on a thread of its own: a device that moved to another address
//   is found, and a slow resolver never holds up the loop. Numeric addresses are never
//   looked up.
// - The loop reads at most kMaxBytesPerTurn of one connection per turn, so a device that
//   floods bytes cannot starve the others on the loop.
// The connection has TCP_NODELAY, TCP keepalive (idle 10 s, then 3 probes 5 s apart) and a TCP
// user timeout of 25 s, so a device powered off is noticed whether or not requests are in
// flight.

#include <sys/socket.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/io_loop.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/source.hpp"
#include "nodebridge/turn_samples.hpp"

namespace nodebridge::modbus {

// What resolving a host gave: its addresses, or why there are none.
struct Resolved {
    std::vector<sockaddr_storage> addresses;
    std::string error;  // empty when there are addresses
};

// Resolves host and port (getaddrinfo() by default; tests give a slow or failing one). May
// block; TcpEndpoint never calls it on the loop's thread.
using Resolver = std::function<Resolved(const std::string& host, int port)>;

// The most bytes the loop reads from one connection in one turn.
inline constexpr std::size_t kMaxBytesPerTurn = 64 * 1024;

class TcpEndpoint {
  public:
    // `config.link` must be a ModbusTcpEndpoint. It runs on `samples.loop()` and hands its
    // samples to `samples`, which with `log` must outlive it; the loop must be running by
    // start(). An empty `resolver` is getaddrinfo().
    TcpEndpoint(std::string name, ModbusSourceConfig config, TurnSamples& samples, Logger& log,
                Resolver resolver = {});
    // Stops it if it still runs, and waits for a resolution under way.
    ~TcpEndpoint();
    TcpEndpoint(const TcpEndpoint&) = delete;
    TcpEndpoint& operator=(const TcpEndpoint&) = delete;

    const std::string& name() const;
    // Resolves the host and starts connecting on the loop. A second call does nothing.
    void start();
    // Closes the connection and answers every write still queued or in flight with "source
    // stopped"; once it returns, the loop runs nothing of this endpoint's and no resolution
    // is under way. Safe to repeat.
    void stop();
    SourceStats stats() const;
    std::map<std::string, std::map<std::string, std::uint64_t>> node_errors() const;
    // As Source::write(): checked here, performed on the loop.
    void write(WriteCommand command, Source::WriteDone done);

  private:
    struct State;
    std::shared_ptr<State> state_;  // also held by the tasks it posts
};

}  // namespace nodebridge::modbus
