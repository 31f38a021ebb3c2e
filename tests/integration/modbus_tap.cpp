#include "modbus_tap.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace nodebridge::test {

namespace {

constexpr std::size_t kKeep = 20000;  // replies kept
constexpr std::size_t kMbap = 7;      // transaction, protocol, length, unit

struct Request {
    int function = 0;
    std::uint16_t start = 0;
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
    mutable std::mutex mutex;
    std::deque<TappedReply> replies;
    std::thread thread;

    void run();
    void relay(int client);
};

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
    std::string from_client, from_server;
    std::map<std::uint16_t, Request> pending;  // by transaction id
    char chunk[4096];
    while (true) {
        pollfd fds[3] = {{client, POLLIN, 0}, {server, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) continue;
        if (fds[2].revents != 0) break;
        if (fds[0].revents != 0) {
            const ssize_t got = ::recv(client, chunk, sizeof chunk, 0);
            if (got <= 0 || !send_all(server, chunk, static_cast<std::size_t>(got))) break;
            from_client.append(chunk, static_cast<std::size_t>(got));
            each_frame(from_client, [&](const std::string& frame) {
                const int function = static_cast<unsigned char>(frame[7]);
                if ((function == 3 || function == 4) && frame.size() >= kMbap + 5) {
                    if (pending.size() > 1000) pending.clear();  // replies that never came
                    pending[be16(frame, 0)] = Request{function, be16(frame, 8)};
                }
            });
        }
        if (fds[1].revents != 0) {
            const ssize_t got = ::recv(server, chunk, sizeof chunk, 0);
            if (got <= 0 || !send_all(client, chunk, static_cast<std::size_t>(got))) break;
            from_server.append(chunk, static_cast<std::size_t>(got));
            each_frame(from_server, [&](const std::string& frame) {
                const auto request = pending.find(be16(frame, 0));
                if (request == pending.end()) return;
                const Request asked = request->second;
                pending.erase(request);
                const int function = static_cast<unsigned char>(frame[7]);
                if (function != asked.function || frame.size() < kMbap + 2) return;  // exception
                const std::size_t bytes = static_cast<unsigned char>(frame[8]);
                if (frame.size() < kMbap + 2 + bytes || bytes % 2 != 0) return;
                TappedReply reply{function, asked.start, {}};
                for (std::size_t at = kMbap + 2; at < kMbap + 2 + bytes; at += 2) {
                    reply.words.push_back(be16(frame, at));
                }
                std::lock_guard lock(mutex);
                replies.push_back(std::move(reply));
                if (replies.size() > kKeep) replies.pop_front();
            });
        }
    }
    close_fd(server);
}

ModbusTap::ModbusTap(int upstream_port) : state_(std::make_shared<State>()) {
    State& state = *state_;
    state.upstream_port = upstream_port;
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
