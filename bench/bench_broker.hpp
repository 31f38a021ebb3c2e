#pragma once
// The benchmarks' mosquitto: on 127.0.0.1, no persistence, TCP_NODELAY on its sockets (so
// the broker-to-subscriber hop adds no Nagle delay), and a per-client queue deep enough
// that a QoS 1 subscriber falling behind is held, not dropped.

#include <mosquitto.h>
#include <sys/types.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/support.hpp"

namespace nodebridge::bench {

class BrokerProcess {
  public:
    // Starts mosquitto on `port` and waits (10 s at most) until it accepts a client.
    // Throws std::runtime_error with its log when it does not.
    explicit BrokerProcess(const test::TempDir& dir, int port = test::free_port(),
                           long max_queued_messages = 100'000)
        : port_(port) {
        using namespace std::chrono_literals;
        const std::string conf = dir.write(
            "mosquitto.conf", "listener " + std::to_string(port_) +
                                  " 127.0.0.1\nallow_anonymous true\npersistence false\n"
                                  "max_queued_messages " +
                                  std::to_string(max_queued_messages) + "\nset_tcp_nodelay true\n");
        process_ = std::make_unique<test::Process>(
            std::vector<std::string>{"/usr/sbin/mosquitto", "-c", conf}, dir.file("mosquitto.log"));
        const bool up = test::wait_until(
            [this] {
                mosquitto* probe = mosquitto_new(nullptr, true, nullptr);
                const bool ok = mosquitto_connect(probe, "127.0.0.1", port_, 5) == MOSQ_ERR_SUCCESS;
                if (ok) mosquitto_disconnect(probe);
                mosquitto_destroy(probe);
                return ok;
            },
            10s);
        if (!up) throw std::runtime_error("mosquitto did not start:\n" + process_->output());
    }
    ~BrokerProcess() {
        using namespace std::chrono_literals;
        process_->signal(SIGTERM);
        process_->wait_for_exit(5s);
    }
    BrokerProcess(const BrokerProcess&) = delete;
    BrokerProcess& operator=(const BrokerProcess&) = delete;

    int port() const { return port_; }
    pid_t pid() const { return process_->pid(); }

  private:
    int port_;
    std::unique_ptr<test::Process> process_;
};

}  // namespace nodebridge::bench
