// nodebridge-sim modbus-tcp: the simulated devices behind one or many Modbus TCP listeners.
//
// One thread, one epoll loop over the listeners (--ports N of them, all serving the same
// devices), the clients and the stop signals. Requests are framed by their MBAP header
// (MODBUS Messaging on TCP/IP Implementation Guide V1.0b, section 3.1.3: transaction id,
// protocol id 0, length = unit + PDU bytes, unit id), so a client may send several requests
// back to back, in one segment or many, and gets every reply in the order it asked.
// The unit id picks the device; unknown units get no reply, so the client times out as it
// would on a real gateway with a dead device behind it.
//
// --rtu-gateway makes the simulator behave like a Modbus TCP-to-RTU gateway: one serial line
// behind every connection, so it answers strictly one request at a time, across all its
// connections, in the order the requests arrived, each taking the line's time (--baud, with
// the RTU timing of rtu_timing.hpp, and/or a fixed --turnaround). Pipelined requests queue.

#include <arpa/inet.h>
#include <fcntl.h>
#include <modbus.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "commands.hpp"
#include "devices.hpp"
#include "options.hpp"
#include "rtu_timing.hpp"
#include "stop_signals.hpp"

namespace nodebridge::sim {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kTick = std::chrono::milliseconds(100);
// MBAP header (TCP 3.1.3): transaction (2), protocol (2), length (2), unit (1).
constexpr std::size_t kMbapBytes = 7;
// The length field counts the unit and the PDU: 2 (unit + function) to 254 (unit + the
// largest PDU, 253 bytes: MODBUS Application Protocol Specification V1.1b3, section 4.1).
constexpr std::size_t kMinLengthField = 2;
constexpr std::size_t kMaxLengthField = 254;
constexpr std::size_t kMaxAdu = 6 + kMaxLengthField;  // 260
// A client whose replies pile up unread beyond this is dropped.
constexpr std::size_t kMaxUnsent = 1 << 20;
// Requests waiting for the gateway's line, all connections together; more are dropped
// unanswered, as by a gateway whose queue is full.
constexpr std::size_t kMaxQueued = 4096;
constexpr int kMaxPorts = 10000;
// epoll user data: 0 the stop signals, listeners tagged, connections by their id.
constexpr std::uint64_t kSignalsTag = 0;
constexpr std::uint64_t kListenerTag = 1ULL << 62;

struct Connection {
    int fd = -1;
    std::vector<std::uint8_t> in;   // bytes of a request not yet whole
    std::vector<std::uint8_t> out;  // replies not yet sent
    std::size_t sent = 0;           // of `out`
    bool writing = false;           // EPOLLOUT is on
};

// A request waiting for, or on, the gateway's serial line.
struct LineSlot {
    std::uint64_t connection = 0;
    std::vector<std::uint8_t> reply;  // empty: the unit stays silent
    Clock::time_point done;           // when the reply goes out
};

// The serial line behind --rtu-gateway: its framing (for --baud) and turnaround.
struct GatewayLine {
    bool on = false;
    bool wire = false;  // --baud given: the line's time follows the frames' sizes
    modbus::CharFraming framing{.baud = 19200, .data_bits = 8, .parity = false, .stop_bits = 1};
    modbus::Micros turnaround{0};
    char parity = 'N';  // for the ready line: N, E or O

    // The line's time for one transaction: an RTU request of `request_pdu` + 3 bytes (unit,
    // PDU, CRC), the t3.5 silence, the turnaround, the reply of `reply_pdu` + 3 bytes and its
    // t3.5 (rtu_timing.hpp); only the turnaround without --baud.
    modbus::Micros time(std::size_t request_pdu, std::size_t reply_pdu) const {
        if (!wire) return turnaround;
        return modbus::transaction_time(framing, request_pdu + 3, reply_pdu + 3, turnaround);
    }
};

std::uint16_t word_at(const std::uint8_t* bytes) {
    return static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);
}

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

// A non-blocking listener on `bind`:`port`, or -1 with `error` set.
int open_listener(const std::string& bind, int port, std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (const int rc = getaddrinfo(bind.c_str(), service.c_str(), &hints, &found); rc != 0) {
        error = "cannot listen on " + bind + ":" + service + ": " + gai_strerror(rc);
        return -1;
    }
    int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        ::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        error = "cannot listen on " + bind + ":" + service + ": " + std::strerror(errno);
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(found);
    return fd;
}

// Makes room for `wanted` descriptors when the soft limit is lower (up to the hard limit).
void raise_fd_limit(rlim_t wanted) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= wanted) return;
    limit.rlim_cur = std::min(wanted, limit.rlim_max);
    setrlimit(RLIMIT_NOFILE, &limit);
}

class Server {
  public:
    Server(DeviceSet& devices, const GatewayLine& line, int epoll_fd, std::size_t max_clients)
        : devices_(devices), line_(line), epoll_(epoll_fd), max_clients_(max_clients) {
        // Replies other than register reads are formatted by libmodbus into a socket pair
        // and read back, so they can join the connection's output or wait for the line.
        context_ = modbus_new_tcp("127.0.0.1", 502);
        if (context_ == nullptr ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, reply_pair_) != 0) {
            ok_ = false;
        }
    }
    ~Server() {
        for (auto& [id, connection] : connections_) close(connection.fd);
        if (context_ != nullptr) {
            modbus_set_socket(context_, -1);
            modbus_free(context_);
        }
        for (int fd : reply_pair_) {
            if (fd >= 0) close(fd);
        }
    }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    bool ok() const { return ok_; }

    void accept_from(int listener) {
        while (true) {
            const int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return;
            if (connections_.size() >= max_clients_) {
                close(fd);
                continue;
            }
            const int on = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            const std::uint64_t id = next_id_++;
            epoll_event event{};
            event.events = EPOLLIN;
            event.data.u64 = id;
            if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) != 0) {
                close(fd);
                continue;
            }
            connections_[id].fd = fd;
        }
    }

    // Reads what the client sent, answers (or queues) every whole request, writes replies.
    void service(std::uint64_t id, std::uint32_t events, Clock::time_point now) {
        const auto it = connections_.find(id);
        if (it == connections_.end()) return;
        Connection& connection = it->second;
        if (events & EPOLLIN) {
            std::array<std::uint8_t, 16384> chunk{};
            const ssize_t n = recv(connection.fd, chunk.data(), chunk.size(), 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                drop(id);
                return;
            }
            if (n > 0) {
                connection.in.insert(connection.in.end(), chunk.begin(), chunk.begin() + n);
                if (!take_requests(id, connection, now)) {
                    drop(id);
                    return;
                }
            }
        } else if (events & (EPOLLHUP | EPOLLERR)) {
            drop(id);
            return;
        }
        if (!flush(id, connection)) drop(id);
    }

    // Sends the gateway's replies whose line time has passed; when the next one is due.
    Clock::time_point finish_line(Clock::time_point now) {
        while (!line_queue_.empty() && line_queue_.front().done <= now) {
            LineSlot slot = std::move(line_queue_.front());
            line_queue_.pop_front();
            const auto it = connections_.find(slot.connection);
            if (it == connections_.end() || slot.reply.empty()) continue;
            Connection& connection = it->second;
            connection.out.insert(connection.out.end(), slot.reply.begin(), slot.reply.end());
            if (!flush(slot.connection, connection)) drop(slot.connection);
        }
        return line_queue_.empty() ? Clock::time_point::max() : line_queue_.front().done;
    }

  private:
    // Cuts whole requests off the front of `connection.in`. False when the stream cannot be
    // framed (a protocol id other than 0, a length field outside 2..254): the connection is
    // then closed, as the request that follows cannot be found.
    bool take_requests(std::uint64_t id, Connection& connection, Clock::time_point now) {
        std::size_t at = 0;
        const std::vector<std::uint8_t>& in = connection.in;
        while (in.size() - at >= kMbapBytes) {
            const std::uint8_t* adu = in.data() + at;
            const std::size_t length = word_at(adu + 4);
            if (word_at(adu + 2) != 0 || length < kMinLengthField || length > kMaxLengthField) {
                return false;
            }
            const std::size_t size = 6 + length;
            if (in.size() - at < size) break;
            answer(id, connection, adu, size, now);
            at += size;
        }
        connection.in.erase(connection.in.begin(), connection.in.begin() + at);
        return true;
    }

    // Answers one whole request ADU: at once, or after the line's time with --rtu-gateway.
    void answer(std::uint64_t id, Connection& connection, const std::uint8_t* adu, std::size_t size,
                Clock::time_point now) {
        if (line_.on && line_queue_.size() >= kMaxQueued) return;
        const std::size_t before = connection.out.size();
        const bool replied = reply(adu, size, connection.out);
        if (!line_.on) return;
        // On the line: the reply leaves the connection's output and waits for its turn.
        LineSlot slot;
        slot.connection = id;
        if (replied) {
            slot.reply.assign(connection.out.begin() + static_cast<std::ptrdiff_t>(before),
                              connection.out.end());
            connection.out.resize(before);
        } else {
            return;  // an unknown unit: silence, and no time on the line
        }
        const auto start = std::max(now, line_free_);
        slot.done = start + line_.time(size - kMbapBytes, slot.reply.size() - kMbapBytes);
        line_free_ = slot.done;
        line_queue_.push_back(std::move(slot));
    }

    // Appends the reply to the request `adu` (`size` bytes) to `out`. False, appending
    // nothing, when its unit has no device.
    bool reply(const std::uint8_t* adu, std::size_t size, std::vector<std::uint8_t>& out) {
        const int unit = adu[6];
        modbus_mapping_t* mapping = devices_.mapping(unit);
        if (mapping == nullptr) return false;
        const std::uint8_t* pdu = adu + kMbapBytes;
        const std::size_t pdu_size = size - kMbapBytes;
        const std::uint8_t function = pdu[0];
        auto header = [&](std::size_t reply_pdu_size) {
            out.insert(out.end(),
                       {adu[0], adu[1], 0, 0, static_cast<std::uint8_t>((reply_pdu_size + 1) >> 8),
                        static_cast<std::uint8_t>((reply_pdu_size + 1) & 0xFF),
                        static_cast<std::uint8_t>(unit)});
        };
        auto exception = [&](std::uint8_t code) {
            header(2);
            out.push_back(static_cast<std::uint8_t>(function | 0x80));
            out.push_back(code);
        };
        // What libmodbus's modbus_reply() cannot build: Read Device Identification (function
        // 43 / MEI 14) and a model's identifying registers (DeviceSet::special_reply()).
        if (auto special = devices_.special_reply(unit, pdu, pdu_size)) {
            header(special->size());
            out.insert(out.end(), special->begin(), special->end());
            return true;
        }
        if (devices_.refuses(unit, pdu, pdu_size)) {
            exception(MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
            return true;
        }
        // Register reads, the benchmarks' hot path, directly from the mapping, with the
        // checks and exceptions of libmodbus 3.1's modbus_reply() (src/modbus.c): 1..125
        // registers (APP 6.3, 6.4) or exception 3, inside the table or exception 2. Not its
        // flush of the input after exception 3, which would drop pipelined requests.
        if ((function == MODBUS_FC_READ_HOLDING_REGISTERS ||
             function == MODBUS_FC_READ_INPUT_REGISTERS) &&
            pdu_size == 5) {
            const bool input = function == MODBUS_FC_READ_INPUT_REGISTERS;
            const int address = word_at(pdu + 1) -
                                (input ? mapping->start_input_registers : mapping->start_registers);
            const int count = word_at(pdu + 3);
            const int table_size = input ? mapping->nb_input_registers : mapping->nb_registers;
            const std::uint16_t* table =
                input ? mapping->tab_input_registers : mapping->tab_registers;
            if (count < 1 || count > MODBUS_MAX_READ_REGISTERS) {
                exception(MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
            } else if (address < 0 || address + count > table_size) {
                exception(MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
            } else {
                header(2 + 2 * static_cast<std::size_t>(count));
                out.push_back(function);
                out.push_back(static_cast<std::uint8_t>(2 * count));
                for (int i = 0; i < count; ++i) {
                    const std::uint16_t value = table[address + i];
                    out.push_back(static_cast<std::uint8_t>(value >> 8));
                    out.push_back(static_cast<std::uint8_t>(value & 0xFF));
                }
            }
            return true;
        }
        devices_.note_request(unit, pdu, pdu_size);
        modbus_set_socket(context_, reply_pair_[0]);
        const int length = modbus_reply(context_, adu, static_cast<int>(size), mapping);
        modbus_set_socket(context_, -1);
        if (length <= 0) return false;
        std::array<std::uint8_t, kMaxAdu> buffer{};
        const ssize_t n = recv(reply_pair_[1], buffer.data(), buffer.size(), 0);
        if (n != length) return false;
        out.insert(out.end(), buffer.begin(), buffer.begin() + n);
        return true;
    }

    // Writes what `connection` has to send. False when the client is gone or not reading.
    bool flush(std::uint64_t id, Connection& connection) {
        while (connection.sent < connection.out.size()) {
            const ssize_t n =
                send(connection.fd, connection.out.data() + connection.sent,
                     connection.out.size() - connection.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                connection.sent += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            return false;
        }
        if (connection.sent == connection.out.size()) {
            connection.out.clear();
            connection.sent = 0;
        } else if (connection.out.size() - connection.sent > kMaxUnsent) {
            return false;
        }
        const bool want_write = !connection.out.empty();
        if (want_write != connection.writing) {
            epoll_event event{};
            event.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
            event.data.u64 = id;
            epoll_ctl(epoll_, EPOLL_CTL_MOD, connection.fd, &event);
            connection.writing = want_write;
        }
        return true;
    }

    void drop(std::uint64_t id) {
        const auto it = connections_.find(id);
        if (it == connections_.end()) return;
        close(it->second.fd);  // also takes it out of the epoll set
        connections_.erase(it);
    }

    DeviceSet& devices_;
    const GatewayLine& line_;
    int epoll_;
    std::size_t max_clients_;
    bool ok_ = true;
    modbus_t* context_ = nullptr;
    int reply_pair_[2] = {-1, -1};
    std::unordered_map<std::uint64_t, Connection> connections_;
    std::uint64_t next_id_ = 1;
    std::deque<LineSlot> line_queue_;  // --rtu-gateway: in arrival order
    Clock::time_point line_free_{};    // when the line's last queued transaction ends
};

GatewayLine gateway_line(Options& options) {
    GatewayLine line;
    line.on = options.flag("rtu-gateway");
    const bool line_option = options.text("baud") || options.text("parity") ||
                             options.text("stop-bits") || options.text("turnaround");
    if (line_option && !line.on) {
        options.fail("--baud, --parity, --stop-bits and --turnaround need --rtu-gateway");
    }
    if (const auto baud = options.integer("baud", 300, 4000000)) {
        line.wire = true;
        line.framing.baud = static_cast<int>(*baud);
    }
    line.framing.stop_bits = static_cast<int>(options.integer("stop-bits", 1, 2).value_or(1));
    if (const auto parity = options.text("parity")) {
        if (*parity != "none" && *parity != "even" && *parity != "odd") {
            options.fail("--parity is none, even or odd");
        }
        line.framing.parity = *parity != "none";
        line.parity = static_cast<char>((*parity)[0] - 'a' + 'A');
    }
    if (const auto turnaround = options.text("turnaround")) {
        const auto seconds = parse_seconds(*turnaround, true);
        if (!seconds || *seconds > 10) options.fail("--turnaround is a duration such as 5ms");
        line.turnaround = modbus::Micros(static_cast<long>(seconds.value_or(0) * 1e6));
    }
    return line;
}

int wait_ms(Clock::time_point deadline, Clock::time_point now) {
    if (deadline <= now) return 0;
    // Rounded up, so the loop never wakes just before a deadline and spins.
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    return static_cast<int>(std::min<long>(wait.count(), 1000));
}

}  // namespace

int run_modbus_tcp(Args args) {
    Options options(args,
                    {"port", "ports", "bind", "devices", "nodes", "attributes", "model", "units",
                     "model-dir", "baud", "parity", "stop-bits", "turnaround"},
                    {"rtu-gateway"});
    const auto port = options.integer("port", 0, 65535);
    const auto ports = static_cast<int>(options.integer("ports", 1, kMaxPorts).value_or(1));
    const std::string bind = options.text("bind").value_or("127.0.0.1");
    const GatewayLine line = gateway_line(options);
    if (options.ok() && !port) {
        std::fprintf(stderr,
                     "nodebridge-sim modbus-tcp: --port is required (0 picks a free one)\n");
        return 64;
    }
    if (options.ok() && *port != 0 && *port + ports - 1 > 65535) {
        options.fail("--port + --ports - 1 must not pass 65535");
    }
    std::string error;
    auto devices = devices_from_options(options, error);
    if (!devices) {
        std::fprintf(stderr, "nodebridge-sim modbus-tcp: %s\n", error.c_str());
        return options.ok() ? 78 : 64;
    }
    if (!options.ok()) {
        std::fprintf(stderr, "nodebridge-sim modbus-tcp: %s\n", options.error().c_str());
        return 64;
    }

    // Every listener and up to four clients per listener (256 at least), plus a few.
    const std::size_t max_clients = std::max<std::size_t>(256, 4 * static_cast<std::size_t>(ports));
    raise_fd_limit(static_cast<rlim_t>(ports) + max_clients + 16);

    StopSignals signals;
    const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0 || signals.fd() < 0) {
        std::fprintf(stderr, "nodebridge-sim modbus-tcp: %s\n", std::strerror(errno));
        if (epoll_fd >= 0) close(epoll_fd);
        return 1;
    }
    std::vector<int> listeners;
    auto close_all = [&] {
        for (int fd : listeners) close(fd);
        close(epoll_fd);
    };
    std::string listed;
    for (int i = 0; i < ports; ++i) {
        const int fd = open_listener(bind, *port == 0 ? 0 : static_cast<int>(*port) + i, error);
        if (fd < 0) {
            std::fprintf(stderr, "nodebridge-sim modbus-tcp: %s\n", error.c_str());
            close_all();
            return 1;
        }
        listeners.push_back(fd);
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = kListenerTag | static_cast<std::uint64_t>(i);
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
        if (i > 0) listed += ',';
        listed += std::to_string(bound_port(fd));
    }
    epoll_event signal_event{};
    signal_event.events = EPOLLIN;
    signal_event.data.u64 = kSignalsTag;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, signals.fd(), &signal_event);

    Server server(*devices, line, epoll_fd, max_clients);
    if (!server.ok()) {
        std::fprintf(stderr, "nodebridge-sim modbus-tcp: %s\n", std::strerror(errno));
        close_all();
        return 1;
    }
    std::printf("ready modbus-tcp %s:%d units %s", bind.c_str(), bound_port(listeners.front()),
                devices->unit_list().c_str());
    if (ports > 1) std::printf(" ports %s", listed.c_str());
    if (line.on) {
        std::printf(" rtu-gateway");
        if (line.wire) {
            std::printf(" %d 8%c%d", line.framing.baud, line.parity, line.framing.stop_bits);
        }
        std::printf(" turnaround %ldus", static_cast<long>(line.turnaround.count()));
    }
    std::printf("\n");
    std::fflush(stdout);

    std::array<epoll_event, 256> events{};
    const auto start = Clock::now();
    auto next_tick = start + kTick;
    auto line_due = Clock::time_point::max();
    bool running = true;
    while (running) {
        const int ready = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()),
                                     wait_ms(std::min(next_tick, line_due), Clock::now()));
        if (ready < 0 && errno != EINTR) break;
        const auto now = Clock::now();
        for (int i = 0; i < ready; ++i) {
            const std::uint64_t tag = events[static_cast<std::size_t>(i)].data.u64;
            const std::uint32_t what = events[static_cast<std::size_t>(i)].events;
            if (tag == kSignalsTag) {
                if (signals.take() != 0) running = false;
            } else if (tag & kListenerTag) {
                server.accept_from(listeners[static_cast<std::size_t>(tag & ~kListenerTag)]);
            } else {
                server.service(tag, what, now);
            }
        }
        line_due = server.finish_line(Clock::now());
        if (now >= next_tick) {
            devices->tick(std::chrono::duration<double>(now - start).count());
            while (next_tick <= now) next_tick += kTick;
        }
    }
    close_all();
    return 0;
}

}  // namespace nodebridge::sim
