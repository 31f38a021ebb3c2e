#pragma once
// The daemon: wires sources -> queue -> pipeline -> publisher from a Config, and runs the
// signal loop (TERM/INT stop, HUP reload) with the periodic stats topic and status line.

#include <csignal>
#include <memory>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/source.hpp"
#include "nodebridge/turn_samples.hpp"

namespace nodebridge {

// Builds the source a config entry describes (Modbus TCP/RTU, serial-nodes). Modbus TCP
// sources run on `tcp.loop()`, which the daemon shares among them, and hand their samples to
// `tcp` (whose queue is `samples`).
std::unique_ptr<Source> make_source(const SourceConfig& config, SampleQueue& samples, Logger& log,
                                    TurnSamples& tcp);

// The signals the daemon handles synchronously. Block them in the main thread before any
// other thread starts, so every thread inherits the mask and only sigtimedwait sees them.
sigset_t daemon_signals();

class Daemon {
  public:
    // `config_path` is re-read on SIGHUP, with the model dirs of `load_options`.
    Daemon(Config config, std::string config_path, Logger& log, LoadOptions load_options = {});
    ~Daemon();

    // Starts everything and blocks until SIGTERM or SIGINT, then shuts down in order:
    // sources stop, queued samples are mapped, the offline health message is published and
    // in-flight QoS>0 messages are waited for (bounded). Returns the process exit code.
    int run();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nodebridge
