#pragma once
// A TCP proxy on 127.0.0.1 that can hold back what the server sends: a device that answers
// late (slower than the client's timeout) or freezes for a while, as a stalled field device
// does, in front of any real server. Bytes are never dropped or reordered, only delayed.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace nodebridge::test {

class DelayProxy {
  public:
    // Listens on 127.0.0.1 (port from port()) and forwards each accepted connection to
    // 127.0.0.1:`upstream_port`.
    explicit DelayProxy(int upstream_port);
    // Closes every connection and joins the thread.
    ~DelayProxy();
    DelayProxy(const DelayProxy&) = delete;
    DelayProxy& operator=(const DelayProxy&) = delete;

    int port() const { return port_; }

    // From now on, bytes the server sends reach the client `delay` after they arrived
    // (0: at once). Bytes already held keep the delay they were given.
    void set_reply_delay(std::chrono::milliseconds delay) { delay_ms_ = delay.count(); }

    // Connections accepted so far.
    int connections() const { return connections_; }
    // TCP segments with data received from clients so far (tcp_info's tcpi_data_segs_in),
    // counted as the proxy reads them: how many pieces a client sent its bytes in.
    std::uint64_t client_segments() const { return client_segments_; }

  private:
    void run();

    int upstream_port_;
    int listener_ = -1;
    int port_ = -1;
    int wake_[2] = {-1, -1};  // a pipe: the destructor writes to stop the thread
    std::atomic<long> delay_ms_{0};
    std::atomic<int> connections_{0};
    std::atomic<std::uint64_t> client_segments_{0};
    std::thread thread_;
};

}  // namespace nodebridge::test
