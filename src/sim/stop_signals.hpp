#pragma once
// SIGTERM and SIGINT as a readable file descriptor (signalfd), so an event loop can wait
// for them beside its sockets and exit cleanly. Also ignores SIGPIPE.

namespace nodebridge::sim {

class StopSignals {
  public:
    // Blocks SIGTERM and SIGINT for the process and opens the signalfd. fd() is -1 on failure.
    StopSignals();
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    int fd() const { return fd_; }
    // Reads the pending signal; returns its number, or 0 if none.
    int take();

  private:
    int fd_ = -1;
};

}  // namespace nodebridge::sim
