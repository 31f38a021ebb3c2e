#pragma once
// A Source owns one bus (a TCP endpoint or a serial port) and the thread that polls it.
// It pushes Samples into the queue it was given; it never blocks on anything but its own
// bus, with every wait bounded by a timeout.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nodebridge/bounded_queue.hpp"
#include "nodebridge/command.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/sample.hpp"

namespace nodebridge {

using SampleQueue = BoundedQueue<Sample>;

// A snapshot of a source's counters, for logs, the stats topic and the status line.
struct SourceStats {
    std::uint64_t polls = 0;       // requests (or received lines) attempted
    std::uint64_t samples = 0;     // samples pushed to the queue
    std::uint64_t writes = 0;        // write-back commands the device acknowledged
    std::uint64_t write_errors = 0;  // write-back commands refused or failed (any reason)
    std::map<std::string, std::uint64_t> errors;  // by kind: "timeout", "exception", "crc", ...
    std::string last_error;        // the most recent error message, empty if none
    int nodes_total = 0;
    int nodes_online = 0;          // nodes whose last poll succeeded
    // Each node's availability as last published (true = online): Modbus nodes in config
    // order once first decided, serial nodes by id once heard.
    std::vector<std::pair<std::string, bool>> nodes;
};

class Source {
public:
    virtual ~Source() = default;

    virtual const std::string& name() const = 0;

    // Starts the source's thread and returns at once. Opening the bus happens on that
    // thread; failures there are logged and retried, never thrown.
    virtual void start() = 0;

    // Asks the thread to finish and joins it. Returns within about one I/O timeout.
    virtual void stop() = 0;

    // Thread-safe snapshot of the counters.
    virtual SourceStats stats() const = 0;

    // The outcome of a write: an empty string when the device took it, else the reason.
    using WriteDone = std::function<void(std::string error)>;

    // Queues `command` (already validated by the CommandRouter) for the source's own thread,
    // which writes it between polls. Calls `done` exactly once: from that thread after the
    // write, or at once from the caller's thread when the write is refused (no such node or
    // attribute, queue full, source stopped, or a source that cannot write). Thread-safe;
    // never blocks on the bus.
    virtual void write(WriteCommand command, WriteDone done) {
        (void)command;
        done("source " + name() + " does not accept writes");
    }
};

}  // namespace nodebridge
