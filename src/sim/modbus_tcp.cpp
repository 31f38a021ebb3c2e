// nodebridge-sim modbus-tcp: the simulated devices behind one Modbus TCP listener.
//
// One thread, one poll() loop over the listener, the clients and the stop signals. The
// unit id in each request's MBAP header picks the device; unknown units get no reply, so
// the client times out as it would on a real gateway with a dead device behind it.

#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "devices.hpp"
#include "options.hpp"
#include "stop_signals.hpp"

namespace nodebridge::sim {

namespace {

constexpr std::size_t kMaxClients = 256;
constexpr auto kTick = std::chrono::milliseconds(100);
constexpr int kMbapLength = 7;  // transaction, protocol, length, unit

int bound_port(int socket_fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return -1;
    if (address.ss_family == AF_INET) {
        return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    }
    if (address.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
    }
    return -1;
}

// Sends `pdu` as the reply to `query` (its MBAP header: same transaction and unit), for
// the answers libmodbus's modbus_reply() cannot build (DeviceSet::special_reply()).
int send_pdu(int client, const std::uint8_t* query, const std::vector<std::uint8_t>& pdu) {
    std::vector<std::uint8_t> adu(query, query + kMbapLength);
    const std::size_t length = pdu.size() + 1;  // unit + PDU
    adu[4] = static_cast<std::uint8_t>(length >> 8);
    adu[5] = static_cast<std::uint8_t>(length & 0xFF);
    adu.insert(adu.end(), pdu.begin(), pdu.end());
    const ssize_t n = send(client, adu.data(), adu.size(), MSG_NOSIGNAL);
    return n == static_cast<ssize_t>(adu.size()) ? static_cast<int>(n) : -1;
}

// libmodbus's modbus_receive() knows the length of the requests of its own function codes
// only; of another (function 43) it reads just the function code. The rest, which the MBAP
// length field announces (and which a client sends in one segment), is read here. Returns
// the request's whole length.
int rest_of_request(int client, std::vector<std::uint8_t>& query, int length) {
    const int announced = 6 + ((query[4] << 8) | query[5]);
    if (announced <= length || announced > static_cast<int>(query.size())) return length;
    pollfd fd{client, POLLIN, 0};
    while (length < announced && poll(&fd, 1, 200) > 0) {
        const ssize_t n =
            recv(client, query.data() + length, static_cast<std::size_t>(announced - length), 0);
        if (n <= 0) break;
        length += static_cast<int>(n);
    }
    return length;
}

}  // namespace

int run_modbus_tcp(Args args) {
    Options options(
        args, {"port", "bind", "devices", "nodes", "attributes", "model", "units", "model-dir"});
    const auto port = options.integer("port", 0, 65535);
    const std::string bind = options.text("bind").value_or("127.0.0.1");
    if (options.ok() && !port) {
        std::fprintf(stderr,
                     "nodebridge-sim modbus-tcp: --port is required (0 picks a free one)\n");
        return 64;
    }
    std::string error;
    auto devices = devices_from_options(options, error);
    if (!devices) {
        std::fprintf(stderr, "nodebridge-sim modbus-tcp: %s\n", error.c_str());
        return options.ok() ? 78 : 64;
    }

    StopSignals signals;
    modbus_t* context = modbus_new_tcp_pi(bind.c_str(), std::to_string(*port).c_str());
    if (context == nullptr) {
        std::fprintf(stderr, "nodebridge-sim modbus-tcp: %s\n", modbus_strerror(errno));
        return 1;
    }
    const int listener = modbus_tcp_pi_listen(context, 64);
    if (listener < 0) {
        std::fprintf(stderr, "nodebridge-sim modbus-tcp: cannot listen on %s:%ld: %s\n",
                     bind.c_str(), *port, modbus_strerror(errno));
        modbus_free(context);
        return 1;
    }
    // A client that stalls inside a request is dropped after this long.
    modbus_set_indication_timeout(context, 2, 0);
    std::printf("ready modbus-tcp %s:%d units %s\n", bind.c_str(), bound_port(listener),
                devices->unit_list().c_str());
    std::fflush(stdout);

    std::vector<int> clients;
    std::vector<std::uint8_t> query(MODBUS_TCP_MAX_ADU_LENGTH);
    const auto start = std::chrono::steady_clock::now();
    auto next_tick = start + kTick;
    bool running = true;
    while (running) {
        std::vector<pollfd> fds;
        fds.push_back({signals.fd(), POLLIN, 0});
        fds.push_back({listener, POLLIN, 0});
        for (int client : clients) fds.push_back({client, POLLIN, 0});
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            next_tick - std::chrono::steady_clock::now());
        const int ready =
            poll(fds.data(), fds.size(), static_cast<int>(std::max<long>(0, wait.count())));
        if (ready < 0 && errno != EINTR) break;

        if (fds[0].revents != 0 && signals.take() != 0) running = false;
        if (fds[1].revents & POLLIN) {
            const int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (client >= 0 && clients.size() < kMaxClients) {
                clients.push_back(client);
            } else if (client >= 0) {
                close(client);
            }
        }
        std::vector<int> closed;
        for (std::size_t i = 2; i < fds.size(); ++i) {
            if (fds[i].revents == 0) continue;
            const int client = fds[i].fd;
            modbus_set_socket(context, client);
            int length = modbus_receive(context, query.data());
            if (length < 0) {
                closed.push_back(client);
                continue;
            }
            if (length <= kMbapLength) continue;
            length = rest_of_request(client, query, length);
            const int unit = query[kMbapLength - 1];
            modbus_mapping_t* mapping = devices->mapping(unit);
            if (mapping == nullptr) continue;  // no such device: stay silent
            const std::uint8_t* pdu = query.data() + kMbapLength;
            const auto pdu_size = static_cast<std::size_t>(length - kMbapLength);
            int sent = 0;
            if (auto special = devices->special_reply(unit, pdu, pdu_size)) {
                sent = send_pdu(client, query.data(), *special);
            } else if (devices->refuses(unit, pdu, pdu_size)) {
                sent = modbus_reply_exception(context, query.data(),
                                              MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
            } else {
                devices->note_request(unit, pdu, pdu_size);
                sent = modbus_reply(context, query.data(), length, mapping);
            }
            if (sent < 0 && errno != 0 &&
                (errno == EPIPE || errno == ECONNRESET || errno == EBADF)) {
                closed.push_back(client);
            }
        }
        for (int client : closed) {
            close(client);
            std::erase(clients, client);
        }

        const auto now = std::chrono::steady_clock::now();
        if (now >= next_tick) {
            devices->tick(std::chrono::duration<double>(now - start).count());
            while (next_tick <= now) next_tick += kTick;
        }
    }

    for (int client : clients) close(client);
    close(listener);
    modbus_set_socket(context, -1);
    modbus_free(context);
    return 0;
}

}  // namespace nodebridge::sim
