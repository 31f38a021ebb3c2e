#include "modbus_tap.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace nodebridge::test {

namespace {

constexpr std::size_t kKeep = 20000;  // replies kept
constexpr std::size_t kMbap = 7;      // transaction, protocol, length, unit

struct Request {
    int unit = 0;
    int function = 0;
    std::uint16_t start = 0;
    std::uint16_t count = 0;
};

std::uint16_t be16(const std::string& bytes, std::size_t at) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(bytes[at]) << 8) |
                                      static_cast<unsigned char>(bytes[at + 1]));
}

// Takes the complete Modbus TCP frames off the front of `buffer`, one at a time.
template <typename Each>
void each_frame(std::string& buffer, Each each) {
    while (buffer.size() >= kMbap) {
        const std::size_t size = 6 + be16(buffer, 4);  // the length counts unit id + PDU
        if (size < kMbap + 1 || size > 260 + 6) {      // not Modbus: stop parsing this stream
            buffer.clear();
            return;
        }
        if (buffer.size() < size) return;
        each(buffer.substr(0, size));
        buffer.erase(0, size);
    }
}

// The CRC-16 ending an RTU frame (polynomial 0xA001 reflected, initial 0xFFFF, low byte
// sent first): MODBUS over Serial Line Specification and Implementation Guide V1.02,
// section 6.2.2 "CRC Generation".
std::uint16_t crc16(const std::string& bytes, std::size_t size) {
    std::uint16_t crc = 0xFFFF;
    for (std::size_t i = 0; i < size; ++i) {
        crc ^= static_cast<unsigned char>(bytes[i]);
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 1) != 0 ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001)
                                 : static_cast<std::uint16_t>(crc >> 1);
        }
    }
    return crc;
}

// The size of the RTU frame at the front of `buffer` (unit, PDU, CRC), 0 when more bytes are
// needed to tell, -1 when it is no frame this tap knows. Sizes from the MODBUS Application
// Protocol Specification V1.1b3, sections 6.1 to 6.12 (requests and replies of functions 1
// to 6, 15 and 16) and 7 (an exception reply: function | 0x80 and one code).
long rtu_frame_size(const std::string& buffer, bool reply) {
    if (buffer.size() < 2) return 0;
    const int function = static_cast<unsigned char>(buffer[1]);
    if (reply && (function & 0x80) != 0) return 5;
    if (reply && function >= 1 && function <= 4) {
        return buffer.size() < 3 ? 0 : 5 + static_cast<unsigned char>(buffer[2]);
    }
    if (function >= 1 && function <= 6) return 8;
    if (function == 15 || function == 16) {
        if (reply) return 8;
        return buffer.size() < 7 ? 0 : 9 + static_cast<unsigned char>(buffer[6]);
    }
    return -1;
}

// Takes the complete RTU frames whose CRC checks off the front of `buffer`, one at a time;
// stops parsing the stream at anything else.
template <typename Each>
void each_rtu_frame(std::string& buffer, bool reply, Each each) {
    while (true) {
        const long size = rtu_frame_size(buffer, reply);
        if (size < 0) {
            buffer.clear();
            return;
        }
        if (size == 0 || buffer.size() < static_cast<std::size_t>(size)) return;
        const std::string frame = buffer.substr(0, static_cast<std::size_t>(size));
        buffer.erase(0, static_cast<std::size_t>(size));
        const std::size_t body = frame.size() - 2;
        const std::uint16_t crc = crc16(frame, body);
        if (static_cast<unsigned char>(frame[body]) != (crc & 0xFF) ||
            static_cast<unsigned char>(frame[body + 1]) != (crc >> 8)) {
            buffer.clear();
            return;
        }
        each(frame);
    }
}

// Sends each relayed chunk at once: a reply that comes a byte per segment (a serial server's
// at the line's pace) would otherwise wait for the client's delayed ACK behind Nagle's
// algorithm, tens of milliseconds per byte.
void no_delay(int fd) {
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

bool send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
        if (sent <= 0) return false;
        data += sent;
        size -= static_cast<std::size_t>(sent);
    }
    return true;
}

}  // namespace

struct ModbusTap::State {
    int listen_fd = -1;
    int stop_pipe[2] = {-1, -1};
    int port = 0;
    int upstream_port = 0;
    TapFraming framing = TapFraming::mbap;
    mutable std::mutex mutex;
    std::deque<TappedReply> replies;
    std::thread thread;

    void run();
    void relay(int client);
    void keep(TappedReply reply);
    // What the client sent and the server answered, framed as Modbus TCP or as RTU.
    void from_client_mbap(std::string& buffer);
    void from_server_mbap(std::string& buffer);
    void from_client_rtu(std::string& buffer);
    void from_server_rtu(std::string& buffer);

    std::map<std::uint16_t, Request> pending;  // MBAP: by transaction id
    std::optional<Request> asked;              // RTU: the request just sent
};

void ModbusTap::State::keep(TappedReply reply) {
    std::lock_guard lock(mutex);
    replies.push_back(std::move(reply));
    if (replies.size() > kKeep) replies.pop_front();
}

void ModbusTap::State::from_client_mbap(std::string& buffer) {
    each_frame(buffer, [&](const std::string& frame) {
        const int function = static_cast<unsigned char>(frame[7]);
        if ((function == 3 || function == 4) && frame.size() >= kMbap + 5) {
            if (pending.size() > 1000) pending.clear();  // replies that never came
            pending[be16(frame, 0)] = Request{static_cast<unsigned char>(frame[6]), function,
                                              be16(frame, 8), be16(frame, 10)};
        }
    });
}

void ModbusTap::State::from_server_mbap(std::string& buffer) {
    each_frame(buffer, [&](const std::string& frame) {
        const auto request = pending.find(be16(frame, 0));
        if (request == pending.end()) return;
        const Request asked_for = request->second;
        pending.erase(request);
        const int function = static_cast<unsigned char>(frame[7]);
        if (function != asked_for.function || frame.size() < kMbap + 2) return;  // exception
        const std::size_t bytes = static_cast<unsigned char>(frame[8]);
        if (frame.size() < kMbap + 2 + bytes || bytes % 2 != 0) return;
        TappedReply reply{function, static_cast<unsigned char>(frame[6]), asked_for.start, {}};
        for (std::size_t at = kMbap + 2; at < kMbap + 2 + bytes; at += 2) {
            reply.words.push_back(be16(frame, at));
        }
        keep(std::move(reply));
    });
}

void ModbusTap::State::from_client_rtu(std::string& buffer) {
    each_rtu_frame(buffer, /*reply=*/false, [&](const std::string& frame) {
        const int function = static_cast<unsigned char>(frame[1]);
        asked.reset();
        if (function == 3 || function == 4) {
            asked = Request{static_cast<unsigned char>(frame[0]), function, be16(frame, 2),
                            be16(frame, 4)};
        }
    });
}

void ModbusTap::State::from_server_rtu(std::string& buffer) {
    each_rtu_frame(buffer, /*reply=*/true, [&](const std::string& frame) {
        // Only the reply of the request just sent, whole: its unit, function and size.
        const std::optional<Request> request = asked;
        asked.reset();
        const int unit = static_cast<unsigned char>(frame[0]);
        const int function = static_cast<unsigned char>(frame[1]);
        if (!request || unit != request->unit || function != request->function) return;
        const std::size_t bytes = static_cast<unsigned char>(frame[2]);
        if (bytes != 2u * request->count) return;
        TappedReply reply{function, unit, request->start, {}};
        for (std::size_t at = 3; at < 3 + bytes; at += 2) reply.words.push_back(be16(frame, at));
        keep(std::move(reply));
    });
}

void ModbusTap::State::run() {
    while (true) {
        pollfd fds[2] = {{listen_fd, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) continue;
        if (fds[1].revents != 0) return;
        if ((fds[0].revents & POLLIN) == 0) continue;
        int client = ::accept(listen_fd, nullptr, nullptr);
        if (client < 0) continue;
        relay(client);
        close_fd(client);
    }
}

void ModbusTap::State::relay(int client) {
    int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(upstream_port));
    if (server < 0 || ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close_fd(server);
        return;
    }
    no_delay(client);
    no_delay(server);
    std::string from_client, from_server;
    pending.clear();
    asked.reset();
    const bool rtu = framing == TapFraming::rtu;
    char chunk[4096];
    while (true) {
        pollfd fds[3] = {{client, POLLIN, 0}, {server, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) continue;
        if (fds[2].revents != 0) break;
        if (fds[0].revents != 0) {
            const ssize_t got = ::recv(client, chunk, sizeof chunk, 0);
            if (got <= 0 || !send_all(server, chunk, static_cast<std::size_t>(got))) break;
            from_client.append(chunk, static_cast<std::size_t>(got));
            if (rtu) {
                from_client_rtu(from_client);
            } else {
                from_client_mbap(from_client);
            }
        }
        if (fds[1].revents != 0) {
            const ssize_t got = ::recv(server, chunk, sizeof chunk, 0);
            if (got <= 0 || !send_all(client, chunk, static_cast<std::size_t>(got))) break;
            from_server.append(chunk, static_cast<std::size_t>(got));
            if (rtu) {
                from_server_rtu(from_server);
            } else {
                from_server_mbap(from_server);
            }
        }
    }
    close_fd(server);
}

ModbusTap::ModbusTap(int upstream_port, TapFraming framing) : state_(std::make_shared<State>()) {
    State& state = *state_;
    state.upstream_port = upstream_port;
    state.framing = framing;
    state.listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (state.listen_fd < 0 ||
        ::bind(state.listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(state.listen_fd, 4) != 0 ||
        ::getsockname(state.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        ::pipe(state.stop_pipe) != 0) {
        close_fd(state.listen_fd);
        throw std::runtime_error("ModbusTap: cannot listen on 127.0.0.1");
    }
    state.port = ntohs(addr.sin_port);
    state.thread = std::thread([&state] { state.run(); });
}

ModbusTap::~ModbusTap() {
    State& state = *state_;
    const char stop = 's';
    (void)!::write(state.stop_pipe[1], &stop, 1);
    if (state.thread.joinable()) state.thread.join();
    close_fd(state.listen_fd);
    close_fd(state.stop_pipe[0]);
    close_fd(state.stop_pipe[1]);
}

int ModbusTap::port() const { return state_->port; }

std::vector<TappedReply> ModbusTap::replies() const {
    std::lock_guard lock(state_->mutex);
    return {state_->replies.begin(), state_->replies.end()};
}

}  // namespace nodebridge::test
