#pragma once
// The `serial-nodes` source: a receiver on a serial port printing one line per node report.
//
// One thread owns the port. It opens the device (retrying every Timing::retry while it is
// missing), frames and parses lines in the configured format, applies the attribute schema
// and pushes one Sample per good line. A device that vanishes (hangup, read error, or its
// path now leading to another device) is closed and reopened when it returns. Bad lines are
// counted by kind in SourceStats::errors and logged at a bounded rate:
//   long_line, garbage, invalid_utf8, no_node_id, bad_node_id, bad_time (line kept, receive
//   time used), reopen, write_failed (poll request), untracked_node, config.
// SourceStats::polls counts received lines, samples the readings pushed, and nodes_total /
// nodes_online / nodes come from NodeAvailability.
//
// Availability: when a node is heard for the first time, or again after being offline, an
// availability Sample (online = true, no attributes) is pushed before its reading; when it
// has been silent for its offline_after, one with online = false. Nodes beyond
// NodeAvailability::kMaxNodes are not tracked and get none.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/source.hpp"
#include "sources/serial/node_availability.hpp"

namespace nodebridge {

namespace serial {

// Intervals of the source's housekeeping; tests shorten them.
struct SerialTiming {
    Millis retry{1000};           // between attempts to open a missing device
    Millis presence_check{1000};  // how often the device path is checked for replacement
    Millis counters_log{60'000};  // at most one counters line per this, only when they moved
};

class SerialNodesSource final : public Source {
  public:
    // `config.settings` should hold a SerialNodesSourceConfig that load_config() accepted.
    // If it cannot work (wrong settings type, a parser that cannot be built), the source
    // still constructs: its thread logs the error once, counts errors["config"] and idles.
    SerialNodesSource(const SourceConfig& config, SampleQueue& samples, Logger& log,
                      SerialTiming timing = {});
    ~SerialNodesSource() override;

    const std::string& name() const override { return name_; }
    void start() override;
    // Wakes the thread through an eventfd and joins it; returns within milliseconds.
    void stop() override;
    SourceStats stats() const override;

    // Every node heard so far and whether it is online. Thread-safe.
    std::vector<NodeStatus> nodes() const;

  private:
    struct Loop;

    void run();

    std::string name_;
    SourceConfig config_;
    SampleQueue& samples_;
    Logger& log_;
    SerialTiming timing_;
    int wake_fd_ = -1;
    std::thread thread_;

    mutable std::mutex mutex_;
    SourceStats stats_;
    std::vector<NodeStatus> nodes_;
};

}  // namespace serial

// Builds the serial-nodes source for `config` (see serial::SerialNodesSource). Never null.
std::unique_ptr<Source> make_serial_nodes_source(const SourceConfig& config, SampleQueue& samples,
                                                 Logger& log);

}  // namespace nodebridge
