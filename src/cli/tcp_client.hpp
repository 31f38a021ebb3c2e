#pragma once
// A blocking Modbus TCP client for the commissioning command: one request at a time, each
// bounded by a deadline that covers reconnecting, sending and waiting for the reply.
//
// Blocking is right here, unlike in the daemon (whose TCP loop must never wait on one device):
// the command talks to one endpoint, one request at a time, and the user is waiting for
// exactly that answer; a deadline on every call keeps the whole run within the bound it
// prints. The framing is the daemon's own pure MBAP code (src/sources/modbus/mbap.hpp), so a
// reply the daemon would refuse is refused here too.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace nodebridge::cli {

class TcpClient {
  public:
    using Clock = std::chrono::steady_clock;

    // Resolves `host` and connects to `port` within `timeout`. Nullptr and `error` set ("cannot
    // resolve", "connection refused", "no answer within ...") when it cannot.
    static std::unique_ptr<TcpClient> connect(const std::string& host, int port,
                                              std::chrono::milliseconds timeout,
                                              std::string& error);
    ~TcpClient();
    TcpClient(const TcpClient&) = delete;
    TcpClient& operator=(const TcpClient&) = delete;

    struct Result {
        enum class Kind {
            reply,    // `pdu` holds the reply (an exception reply too)
            timeout,  // nothing matching came back before the deadline
            closed,   // the connection failed or the peer sent what is not MBAP; it is
                      // reconnected on the next call
        } kind = Kind::timeout;
        std::vector<std::uint8_t> pdu;
        std::chrono::microseconds rtt{0};  // send to reply
        std::string error;                 // for closed: why
    };

    // Sends `pdu` (function code first) to `unit` and waits for the reply with the same
    // transaction id until `deadline`; replies to earlier, timed-out requests are skipped.
    // Reconnects first when the connection was lost.
    Result transact(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                    Clock::time_point deadline);

    // Replies skipped because their transaction id was an earlier request's.
    std::size_t stale() const { return stale_; }

  private:
    TcpClient(std::string host, int port) : host_(std::move(host)), port_(port) {}
    bool open(Clock::time_point deadline, std::string& error);
    void drop();

    std::string host_;
    int port_;
    int fd_ = -1;
    std::uint16_t transaction_ = 0;
    std::vector<std::uint8_t> buffer_;
    std::size_t stale_ = 0;
};

}  // namespace nodebridge::cli
