#include "delay_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/tcp.h>  // tcp_info with tcpi_data_segs_in (not in glibc's netinet/tcp.h)
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace nodebridge::test {

namespace {

using Clock = std::chrono::steady_clock;

sockaddr_in loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

// One client connection and its connection to the server.
struct Pair {
    int client = -1;
    int server = -1;
    std::uint32_t client_segments = 0;  // data segments received from the client so far
    // Server bytes not yet passed on, each chunk with the time it may leave.
    std::deque<std::pair<Clock::time_point, std::vector<char>>> held;

    ~Pair() {
        if (client >= 0) ::close(client);
        if (server >= 0) ::close(server);
    }
};

}  // namespace

DelayProxy::DelayProxy(int upstream_port) : upstream_port_(upstream_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address = loopback(0);
    socklen_t length = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
        ::pipe2(wake_, O_CLOEXEC) != 0) {
        throw std::runtime_error("DelayProxy: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
}

DelayProxy::~DelayProxy() {
    const char stop = 1;
    [[maybe_unused]] const auto written = ::write(wake_[1], &stop, 1);
    thread_.join();
    ::close(listener_);
    ::close(wake_[0]);
    ::close(wake_[1]);
}

void DelayProxy::run() {
    std::vector<std::unique_ptr<Pair>> pairs;
    std::array<char, 4096> buffer{};
    for (;;) {
        // What to watch: the stop pipe, the listener, each client and server.
        std::vector<pollfd> watched{{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}};
        int timeout_ms = -1;
        const auto now = Clock::now();
        for (const auto& pair : pairs) {
            watched.push_back({pair->client, POLLIN, 0});
            watched.push_back({pair->server, POLLIN, 0});
            if (!pair->held.empty()) {
                const auto wait =
                    std::chrono::ceil<std::chrono::milliseconds>(pair->held.front().first - now);
                const int ms = static_cast<int>(std::max<long>(0, wait.count()));
                timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
            }
        }
        if (::poll(watched.data(), watched.size(), timeout_ms) < 0) continue;
        if (watched[0].revents != 0) return;
        if (watched[1].revents & POLLIN) {
            auto pair = std::make_unique<Pair>();
            pair->client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            pair->server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const sockaddr_in upstream = loopback(upstream_port_);
            if (pair->client >= 0 && pair->server >= 0 &&
                ::connect(pair->server, reinterpret_cast<const sockaddr*>(&upstream),
                          sizeof upstream) == 0) {
                ++connections_;
                pairs.push_back(std::move(pair));
            }
        }
        // Forward: client bytes at once, server bytes held for the delay. A pair accepted in
        // this turn was not polled yet.
        std::vector<bool> closed(pairs.size(), false);
        const std::size_t polled = (watched.size() - 2) / 2;
        for (std::size_t i = 0; i < polled; ++i) {
            Pair& pair = *pairs[i];
            const pollfd& from_client = watched[2 + 2 * i];
            const pollfd& from_server = watched[3 + 2 * i];
            if (from_client.revents != 0) {
                const ssize_t n = ::read(pair.client, buffer.data(), buffer.size());
                if (n <= 0 || ::send(pair.server, buffer.data(), n, MSG_NOSIGNAL) != n) {
                    closed[i] = true;
                    continue;
                }
                tcp_info info{};
                socklen_t size = sizeof info;
                if (::getsockopt(pair.client, IPPROTO_TCP, TCP_INFO, &info, &size) == 0) {
                    client_segments_ += info.tcpi_data_segs_in - pair.client_segments;
                    pair.client_segments = info.tcpi_data_segs_in;
                }
            }
            if (from_server.revents != 0) {
                const ssize_t n = ::read(pair.server, buffer.data(), buffer.size());
                if (n <= 0) {
                    closed[i] = true;
                    continue;
                }
                pair.held.emplace_back(Clock::now() + std::chrono::milliseconds(delay_ms_.load()),
                                       std::vector<char>(buffer.data(), buffer.data() + n));
            }
            const auto sent_at = Clock::now();
            while (!pair.held.empty() && pair.held.front().first <= sent_at) {
                const auto& chunk = pair.held.front().second;
                const auto size = static_cast<ssize_t>(chunk.size());
                if (::send(pair.client, chunk.data(), chunk.size(), MSG_NOSIGNAL) != size) {
                    closed[i] = true;
                    break;
                }
                pair.held.pop_front();
            }
        }
        for (std::size_t i = pairs.size(); i-- > 0;) {
            if (closed[i]) pairs.erase(pairs.begin() + static_cast<std::ptrdiff_t>(i));
        }
    }
}

}  // namespace nodebridge::test
