// A blocking Modbus TCP client with a deadline on every call (tcp_client.hpp).

#include "tcp_client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mbap.hpp"

namespace nodebridge::cli {
namespace {

int remaining_ms(TcpClient::Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - TcpClient::Clock::now());
    return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

std::unique_ptr<TcpClient> TcpClient::connect(const std::string& host, int port,
                                              std::chrono::milliseconds timeout,
                                              std::string& error) {
    std::unique_ptr<TcpClient> client(new TcpClient(host, port));
    if (!client->open(Clock::now() + timeout, error)) return nullptr;
    return client;
}

TcpClient::~TcpClient() { drop(); }

void TcpClient::drop() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
}

bool TcpClient::open(Clock::time_point deadline, std::string& error) {
    drop();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    // getaddrinfo() has no timeout of its own; the resolver's (resolv.conf) bounds it.
    const int rc = getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &found);
    if (rc != 0) {
        error = "cannot resolve '" + host_ + "': " + gai_strerror(rc);
        return false;
    }
    error = "no address of '" + host_ + "' to connect to";
    for (addrinfo* at = found; at != nullptr; at = at->ai_next) {
        const int fd = ::socket(at->ai_family, at->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                                at->ai_protocol);
        if (fd < 0) continue;
        int result = ::connect(fd, at->ai_addr, at->ai_addrlen);
        if (result != 0 && errno == EINPROGRESS) {
            pollfd waiting{fd, POLLOUT, 0};
            const int ready = ::poll(&waiting, 1, remaining_ms(deadline));
            if (ready <= 0) {
                ::close(fd);
                error = "no answer from " + host_ + ":" + std::to_string(port_) +
                        " (connecting timed out)";
                continue;
            }
            int so_error = 0;
            socklen_t length = sizeof so_error;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &length);
            result = so_error == 0 ? 0 : -1;
            errno = so_error;
        }
        if (result != 0) {
            error = "cannot connect to " + host_ + ":" + std::to_string(port_) + ": " +
                    std::strerror(errno);
            ::close(fd);
            continue;
        }
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fd_ = fd;
        break;
    }
    freeaddrinfo(found);
    if (fd_ < 0) return false;
    error.clear();
    return true;
}

TcpClient::Result TcpClient::transact(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                                      Clock::time_point deadline) {
    Result result;
    if (pdu.empty() || pdu.size() > modbus::mbap::kMaxPdu) {
        result.kind = Result::Kind::closed;
        result.error = "request too long";
        return result;
    }
    if (fd_ < 0 && !open(deadline, result.error)) {
        result.kind = Result::Kind::closed;
        return result;
    }
    const std::uint16_t transaction = ++transaction_;
    const std::size_t length = pdu.size() + 1;
    std::vector<std::uint8_t> adu = {static_cast<std::uint8_t>(transaction >> 8),
                                     static_cast<std::uint8_t>(transaction & 0xFF),
                                     0,
                                     0,
                                     static_cast<std::uint8_t>(length >> 8),
                                     static_cast<std::uint8_t>(length & 0xFF),
                                     unit};
    adu.insert(adu.end(), pdu.begin(), pdu.end());
    const auto sent_at = Clock::now();
    if (::send(fd_, adu.data(), adu.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(adu.size())) {
        result.kind = Result::Kind::closed;
        result.error = std::string("sending failed: ") + std::strerror(errno);
        drop();
        return result;
    }
    while (true) {
        modbus::mbap::Frame frame;
        const auto status = modbus::mbap::find_frame(buffer_, frame);
        if (status == modbus::mbap::FrameStatus::frame) {
            const bool mine = frame.transaction == transaction && frame.unit == unit;
            if (mine) {
                result.kind = Result::Kind::reply;
                result.pdu.assign(frame.pdu.begin(), frame.pdu.end());
                result.rtt =
                    std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent_at);
            } else {
                ++stale_;
            }
            buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<long>(frame.size));
            if (mine) return result;
            continue;
        }
        if (status != modbus::mbap::FrameStatus::need_more) {
            result.kind = Result::Kind::closed;
            result.error = std::string("the reply is not Modbus TCP (") +
                           std::string(modbus::mbap::to_string(status)) + ")";
            drop();
            return result;
        }
        pollfd waiting{fd_, POLLIN, 0};
        const int ready = ::poll(&waiting, 1, remaining_ms(deadline));
        if (ready == 0) {
            result.kind = Result::Kind::timeout;
            return result;
        }
        if (ready < 0 && errno == EINTR) continue;
        std::uint8_t chunk[512];
        const ssize_t n = ready < 0 ? -1 : ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) {
            result.kind = Result::Kind::closed;
            result.error = n == 0 ? "the peer closed the connection"
                                  : std::string("receiving failed: ") + std::strerror(errno);
            drop();
            return result;
        }
        if (buffer_.size() + static_cast<std::size_t>(n) > 64 * modbus::mbap::kMaxAdu) {
            result.kind = Result::Kind::closed;
            result.error = "the peer sends more than it was asked for";
            drop();
            return result;
        }
        buffer_.insert(buffer_.end(), chunk, chunk + n);
    }
}

}  // namespace nodebridge::cli
