#include "tcp_endpoint.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "mbap.hpp"
#include "modbus_source.hpp"
#include "node_schedule.hpp"
#include "poll_round.hpp"
#include "rtu_frame.hpp"
#include "source_book.hpp"

namespace nodebridge::modbus {

namespace {

using Steady = SteadyClock;

// TCP keepalive: a device that vanished (powered off, cable pulled) with nothing in flight is
// noticed after about 10 + 3 * 5 s.
constexpr int kKeepaliveIdleSeconds = 10;
constexpr int kKeepaliveIntervalSeconds = 5;
constexpr int kKeepaliveProbes = 3;
// Data sent and not acknowledged for this long ends the connection: a device powered off with
// requests in flight is noticed as soon as with none (kernel default: about 15 minutes).
constexpr unsigned kUserTimeoutMs = 25'000;
// A connection that keeps failing is logged again this often (and counted every time).
constexpr auto kConnectFailureLogInterval = std::chrono::minutes(10);

Resolved resolve_host(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0) return {{}, "cannot resolve " + host + ": " + gai_strerror(rc)};
    Resolved resolved;
    for (const addrinfo* each = found; each != nullptr; each = each->ai_next) {
        sockaddr_storage address{};
        std::memcpy(&address, each->ai_addr, each->ai_addrlen);
        resolved.addresses.push_back(address);
    }
    freeaddrinfo(found);
    if (resolved.addresses.empty()) resolved.error = "cannot resolve " + host + ": no address";
    return resolved;
}

bool is_numeric_address(const std::string& host) {
    in6_addr unused{};
    return inet_pton(AF_INET, host.c_str(), &unused) == 1 ||
           inet_pton(AF_INET6, host.c_str(), &unused) == 1;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string hex_byte(std::uint8_t byte) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    return std::string("0x") + kDigits[byte >> 4] + kDigits[byte & 0xF];
}

// A request on the wire, waiting for its reply.
struct InFlight {
    std::uint16_t transaction = 0;
    std::uint8_t unit = 0;
    std::size_t node = 0;
    int attempt = 0;  // 0 for the first sending, then 1.. for retries
    Steady::time_point deadline;
    // A read: the current request of the node's round.
    ModbusTable table = ModbusTable::holding;
    std::uint16_t address = 0;
    std::uint16_t count = 0;
    // A write: the command and the PDU sent, whose echo the reply must be. Held apart, so
    // the reads (nearly every request) stay small.
    std::unique_ptr<PendingWrite> write;
    std::vector<std::uint8_t> write_pdu;
};

// A write waiting for its node to be free, with the attempts it has had.
struct QueuedWrite {
    PendingWrite write;
    int attempt = 0;
};

}  // namespace

struct TcpEndpoint::State : std::enable_shared_from_this<TcpEndpoint::State> {
    State(std::string name, ModbusSourceConfig config_in, TurnSamples& samples_in, Logger& log_in,
          Resolver resolver_in)
        : config(std::move(config_in)),
          endpoint(std::get<ModbusTcpEndpoint>(config.link)),
          numeric_host(is_numeric_address(endpoint.host)),
          rtu_framing(endpoint.framing == TcpFraming::rtu),
          resolver(resolver_in ? std::move(resolver_in) : Resolver(resolve_host)),
          book(std::move(name), config, samples_in.queue(), log_in),
          log(log_in),
          loop(samples_in.loop()),
          samples(samples_in),
          rounds(book.nodes.size()),
          attempts(book.nodes.size(), 0),
          busy(book.nodes.size(), false) {}

    const ModbusSourceConfig config;
    const ModbusTcpEndpoint endpoint;
    const bool numeric_host;  // an IP address: nothing to look up, ever again
    const bool rtu_framing;   // RTU frames to a serial device server, one at a time
    const Resolver resolver;
    SourceBook book;
    Logger& log;
    IoLoop& loop;
    TurnSamples& samples;
    std::atomic<std::size_t> queued_writes{0};  // writes accepted and not yet answered
    std::atomic<bool> accepting{true};          // false once stop() was called

    // ---- loop-thread state ----
    bool running = false;                     // between start() and stop()
    bool stopped = false;                     // stop() was called (and start() not since)
    std::vector<sockaddr_storage> addresses;  // empty: to be resolved before connecting
    std::string resolve_error;
    std::size_t next_address = 0;
    std::size_t failed_connects = 0;      // since the addresses were resolved
    bool failing = false;                 // connecting has failed since it last connected
    Steady::time_point failure_logged{};  // when that was last logged
    bool resolving = false;               // resolver_thread runs, its result not yet taken
    std::thread resolver_thread;          // joined by stop() (or before the next resolution)
    std::optional<NodeSchedule> schedule;
    std::vector<std::optional<PollRound>> rounds;  // a poll under way, per node
    std::vector<int> attempts;      // attempts of each node's current read that failed
    std::vector<bool> busy;         // a round under way or a write in flight
    // Vectors rather than deques, used front first: an empty std::deque allocates about 600
    // bytes, and a daemon may hold thousands of endpoints; these hold a few items at most.
    std::vector<std::size_t> ready;  // nodes whose round has a read to send
    std::vector<QueuedWrite> writes;
    std::vector<InFlight> in_flight;

    enum class Link { down, connecting, up } link = Link::down;
    int fd = -1;
    Millis reconnect_delay = kFirstReconnectDelay;
    std::vector<std::uint8_t> rx;  // received, not yet framed
    Steady::time_point rx_partial_since;
    std::vector<std::uint8_t> tx;        // encoded, not yet sent
    bool watching_out = false;           // EPOLLOUT is watched: tx waits for room
    std::vector<std::uint8_t> request_;  // RTU framing: the request being encoded, as an ADU
    // RTU framing: after a request failed, nothing is sent until the connection has been
    // silent for `timeout`; what arrives meanwhile is a late reply, dropped as "stale".
    Steady::time_point drain_until{};
    bool stale_counted = false;  // bytes with no request waiting, counted since the last request
    // A read reply's words or bits, decoded into the same buffers for every reply.
    std::vector<std::uint16_t> registers_;
    std::vector<std::uint8_t> bits_;
    std::uint16_t next_transaction = 1;
    Steady::time_point quiet_since{};  // the last reply or timeout, for request_gap

    IoLoop::TimerId link_timer = 0;  // connect timeout, or the next reconnect
    IoLoop::TimerId pump_timer = 0;  // the next due poll or request_gap
    Steady::time_point pump_at = Steady::time_point::max();
    IoLoop::TimerId timeout_timer = 0;
    Steady::time_point timeout_at = Steady::time_point::max();
    IoLoop::TimerId availability_timer = 0;
    Steady::time_point availability_at = Steady::time_point::max();

    std::size_t max_in_flight() const {
        if (rtu_framing) return 1;  // no transaction id: a reply is known only by its turn
        return static_cast<std::size_t>(std::max(endpoint.max_in_flight, 1));
    }

    // Encodes a request into tx with `encode` (an mbap encoder appending an ADU), framed for
    // the connection: the ADU as it is (MBAP), or the unit, the PDU and a CRC (RTU). It is
    // sent with the rest of the turn's requests when pump() ends. Returns the PDU as encoded
    // (valid until tx or request_ changes).
    template <typename Encode>
    std::span<const std::uint8_t> queue_request(std::uint8_t unit, Encode encode) {
        if (rtu_framing) {
            stale_counted = false;
            request_.clear();
            encode(request_);
            const auto pdu = mbap::request_pdu(request_);
            rtu::append_frame(unit, pdu, tx);
            return pdu;
        }
        const std::size_t start = tx.size();
        encode(tx);
        return mbap::request_pdu(std::span<const std::uint8_t>(tx).subspan(start));
    }

    // ---- timers ----

    void cancel(IoLoop::TimerId& id) {
        if (id != 0) loop.cancel(id);
        id = 0;
    }

    // (Re)arms `id` to run `Task` at `when` unless it is armed for that time already. The
    // timer holds two pointers, which std::function keeps without allocating (a timer or two
    // per poll); stop() cancels every timer before the state can go away.
    template <void (State::*Task)()>
    void arm(IoLoop::TimerId& id, Steady::time_point& armed_at, Steady::time_point when) {
        if (id != 0 && armed_at == when) return;
        cancel(id);
        armed_at = when;
        if (when == Steady::time_point::max()) return;
        id = loop.at(when, [this, &id] {
            id = 0;
            (this->*Task)();
        });
    }

    void arm_pump(Steady::time_point when) {
        if (pump_timer != 0 && pump_at <= when) return;
        arm<&State::on_pump_timer>(pump_timer, pump_at, when);
    }
    void on_pump_timer() {
        pump_at = Steady::time_point::max();
        pump();
    }

    void arm_timeouts() {
        auto earliest = Steady::time_point::max();
        for (const InFlight& request : in_flight) earliest = std::min(earliest, request.deadline);
        if (!rx.empty()) earliest = std::min(earliest, rx_partial_since + config.timeout);
        arm<&State::on_timeouts>(timeout_timer, timeout_at, earliest);
    }

    void arm_availability(Steady::time_point when) {
        if (availability_timer != 0 && availability_at <= when) return;
        arm<&State::on_availability>(availability_timer, availability_at, when);
    }
    void on_availability() {
        availability_at = Steady::time_point::max();
        arm_availability(book.check_availability(Steady::now()));
    }

    // ---- start and stop ----

    // Takes a resolution's result (on the loop, or before start_on_loop).
    void take(Resolved resolved) {
        addresses = std::move(resolved.addresses);
        resolve_error = std::move(resolved.error);
        next_address = 0;
        failed_connects = 0;
    }

    // Resolves the host on a thread of its own; connects (or retries) when it is done.
    void resolve_off_loop() {
        if (resolving) return;
        if (resolver_thread.joinable()) resolver_thread.join();  // done: it posted its result
        resolving = true;
        resolver_thread = std::thread([this, self = shared_from_this()] {
            Resolved resolved = resolver(endpoint.host, endpoint.port);
            loop.post([self, resolved = std::move(resolved)]() mutable {
                self->resolving = false;
                if (!self->running || self->link != Link::down) return;
                self->take(std::move(resolved));
                self->connect();
            });
        });
    }

    void start_on_loop() {
        running = true;
        stopped = false;
        book.batch_samples(samples);
        const auto start = Steady::now();
        book.started(start);
        schedule.emplace(group_intervals(book), book.name, start);
        arm_availability(book.check_availability(start));
        connect();
    }

    void stop_on_loop() {
        running = false;
        stopped = true;
        cancel(link_timer);
        cancel(pump_timer);
        cancel(timeout_timer);
        cancel(availability_timer);
        close_socket();
        link = Link::down;
        for (InFlight& request : in_flight) {
            if (request.write) answer_write(*request.write, "source stopped");
        }
        in_flight.clear();
        fail_queued_writes("source stopped");
        for (auto& round : rounds) round.reset();
        ready.clear();
        std::fill(busy.begin(), busy.end(), false);
        book.link_lost();  // a stopped source has nothing online
        book.flush_samples();
    }

    // ---- the connection ----

    void close_socket() {
        if (fd < 0) return;
        loop.unwatch(fd);
        ::close(fd);
        fd = -1;
        rx.clear();
        tx.clear();
        watching_out = false;
    }

    void connect() {
        if (!running) return;
        if (addresses.empty() && !resolve_error.empty()) {
            // Looked up and found nothing: say so and look up again after the backoff.
            const std::string why = std::move(resolve_error);
            resolve_error.clear();
            connect_failed(why);
            return;
        }
        if (addresses.empty()) {
            if (numeric_host) {
                take(resolver(endpoint.host, endpoint.port));  // a number: no lookup, no wait
                if (addresses.empty()) return connect_failed(resolve_error);
            } else {
                resolve_off_loop();  // calls connect() again when it is done
                return;
            }
        }
        const sockaddr_storage& address = addresses[next_address++ % addresses.size()];
        fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            connect_failed(std::string("socket: ") + std::strerror(errno));
            return;
        }
        const int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &kKeepaliveIdleSeconds,
                   sizeof kKeepaliveIdleSeconds);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &kKeepaliveIntervalSeconds,
                   sizeof kKeepaliveIntervalSeconds);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &kKeepaliveProbes, sizeof kKeepaliveProbes);
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &kUserTimeoutMs, sizeof kUserTimeoutMs);
        const socklen_t length =
            address.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0 &&
            errno != EINPROGRESS) {
            const int err = errno;
            close_socket();
            connect_failed(std::strerror(err));
            return;
        }
        link = Link::connecting;
        loop.watch(fd, EPOLLOUT, [this](std::uint32_t) { on_connected(); });
        Steady::time_point unused;
        arm<&State::on_connect_timeout>(link_timer, unused, Steady::now() + config.timeout);
    }

    void on_connect_timeout() {
        if (link != Link::connecting) return;
        close_socket();
        connect_failed("Connection timed out");
    }

    void on_connected() {
        int err = 0;
        socklen_t size = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size) != 0) err = errno;
        if (err == EINPROGRESS) return;
        cancel(link_timer);
        if (err != 0) {
            close_socket();
            connect_failed(std::strerror(err));
            return;
        }
        link = Link::up;
        watching_out = false;
        failed_connects = 0;
        failing = false;
        loop.watch(fd, EPOLLIN, [this](std::uint32_t events) { on_socket(events); });
        log.log(LogLevel::info, "connected to " + book.link,
                LogContext{.source = book.name, .event = "modbus-connected"});
        // The polls missed while away are skipped, not sent in one burst.
        const auto now = Steady::now();
        schedule->resume(now);
        quiet_since = now;
        pump();
    }

    void connect_failed(const std::string& reason) {
        link = Link::down;
        // Every address it gave has failed: look the name up again before the next attempt,
        // the device may have moved.
        if (!numeric_host && !addresses.empty() && ++failed_connects >= addresses.size()) {
            addresses.clear();
        }
        const std::string text = "cannot connect to " + book.link + ": " + reason + " (retry in " +
                                 std::to_string(reconnect_delay.count()) + " ms)";
        // Counted every time, logged when it starts failing and then every
        // kConnectFailureLogInterval: 10,000 devices that are down are 10,000 lines, not
        // 10,000 every backoff.
        const auto now = Steady::now();
        if (failing && now - failure_logged < kConnectFailureLogInterval) {
            book.count_error(nullptr, "connection", text);
        } else {
            book.record_error(nullptr, "connection",
                              text + (failing ? std::string()
                                              : std::string("; retried with backoff, logged "
                                                            "again every 10 min until it "
                                                            "connects")));
            failing = true;
            failure_logged = now;
        }
        retry_later();
    }

    // Waits reconnect_delay (doubling up to the limit) before the next attempt; writes are
    // answered at once meanwhile rather than held for a link that may not return.
    void retry_later() {
        fail_queued_writes("not connected to " + book.link);
        Steady::time_point unused;
        arm<&State::connect>(link_timer, unused, Steady::now() + reconnect_delay);
        reconnect_delay = std::min(reconnect_delay * 2, kMaxReconnectDelay);
    }

    // The connection is gone (closed, reset, or a stream that cannot be framed): every
    // request in flight and every poll under way ends now, the nodes are not online, and the
    // endpoint reconnects after the backoff.
    void link_lost(std::string_view kind, const std::string& reason) {
        book.record_error(nullptr, kind, reason);
        close_socket();
        link = Link::down;
        cancel(pump_timer);
        pump_at = Steady::time_point::max();
        cancel(timeout_timer);
        timeout_at = Steady::time_point::max();
        const std::string why = "connection: " + lowercase(reason);
        std::vector<InFlight> lost;
        lost.swap(in_flight);
        for (InFlight& request : lost) {
            if (request.write) answer_write(*request.write, why);
            busy[request.node] = false;
        }
        ready.clear();
        for (std::size_t i = 0; i < rounds.size(); ++i) {
            if (!rounds[i]) continue;
            rounds[i]->failed();
            book.finish_poll(book.nodes[i], rounds[i]->take_outcome(), /*connected=*/false);
            schedule->polled(i, Steady::now());
            rounds[i].reset();
            busy[i] = false;
            attempts[i] = 0;
        }
        book.link_lost();
        retry_later();
    }

    // ---- sending ----

    // Writes what tx holds; watches for room (EPOLLOUT) only while some of it is left, so a
    // request that goes out at once costs one send and no epoll_ctl.
    void send_pending() {
        while (!tx.empty()) {
            const ssize_t sent = ::send(fd, tx.data(), tx.size(), MSG_NOSIGNAL);
            if (sent < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                if (errno == EINTR) continue;
                link_lost("connection", std::string("send: ") + std::strerror(errno));
                return;
            }
            tx.erase(tx.begin(), tx.begin() + sent);
        }
        const bool want_out = !tx.empty();
        if (want_out == watching_out) return;
        watching_out = want_out;
        loop.modify(fd, want_out ? (EPOLLIN | EPOLLOUT) : EPOLLIN);
    }

    std::uint16_t take_transaction() {
        // Skipping ids still in flight keeps every outstanding id unique after a wrap.
        for (;;) {
            const std::uint16_t id = next_transaction++;
            if (std::none_of(in_flight.begin(), in_flight.end(),
                             [&](const InFlight& each) { return each.transaction == id; })) {
                return id;
            }
        }
    }

    std::uint8_t unit_of(std::size_t node) const {
        return static_cast<std::uint8_t>(book.nodes[node].config->unit);
    }

    // Queues the current read of node `i`'s round.
    void queue_read_request(std::size_t i, Steady::time_point now) {
        const ReadRequest* request = rounds[i]->next();
        if (request == nullptr) {
            finish_round(i);
            return;
        }
        InFlight flight;
        flight.transaction = take_transaction();
        flight.unit = unit_of(i);
        flight.node = i;
        flight.attempt = attempts[i];
        flight.deadline = now + config.timeout;
        flight.table = request->table;
        flight.address = request->address;
        flight.count = request->count;
        if (flight.attempt == 0) book.count_request();
        queue_request(flight.unit, [&](std::vector<std::uint8_t>& out) {
            mbap::encode_read(flight.transaction, flight.unit, request->table, request->address,
                              request->count, out);
        });
        in_flight.push_back(std::move(flight));
    }

    void queue_write_request(QueuedWrite queued, Steady::time_point now) {
        const std::size_t i = queued.write.node;
        const ModbusAttribute& attribute = book.nodes[i].config->attributes[queued.write.attribute];
        const WriteData& data = queued.write.data;
        InFlight flight;
        flight.transaction = take_transaction();
        flight.unit = unit_of(i);
        flight.node = i;
        flight.attempt = queued.attempt;
        flight.deadline = now + config.timeout;
        const auto pdu = queue_request(flight.unit, [&](std::vector<std::uint8_t>& out) {
            if (data.table == ModbusTable::coil) {
                mbap::encode_write_coil(flight.transaction, flight.unit, attribute.address,
                                        data.bit, out);
            } else if (data.registers.size() == 1) {
                mbap::encode_write_register(flight.transaction, flight.unit, attribute.address,
                                            data.registers[0], out);
            } else {
                mbap::encode_write_registers(flight.transaction, flight.unit, attribute.address,
                                             data.registers, out);
            }
        });
        flight.write_pdu.assign(pdu.begin(), pdu.end());
        flight.write = std::make_unique<PendingWrite>(std::move(queued.write));
        busy[i] = true;
        in_flight.push_back(std::move(flight));
    }

    // Whether node `i` may send now, its request_gap after the bus last went quiet; arms the
    // pump for when it may otherwise.
    bool gap_kept(std::size_t i, Steady::time_point now) {
        const auto until = std::max(quiet_since + book.nodes[i].request_gap, drain_until);
        if (now >= until) return true;
        arm_pump(until);
        return false;
    }

    // Sends what may go now, up to max_in_flight: a queued write whose node is free, then
    // the next read of a poll under way, then a poll that is due; arms the pump for the next
    // due poll otherwise. The requests of one call leave in one send.
    void pump() {
        if (link != Link::up) return;
        const std::size_t queued = in_flight.size();
        queue_due(Steady::now());
        if (in_flight.size() == queued) return;
        send_pending();
        if (fd >= 0) arm_timeouts();
    }

    void queue_due(Steady::time_point now) {
        while (in_flight.size() < max_in_flight()) {
            const auto write =
                std::find_if(writes.begin(), writes.end(),
                             [&](const QueuedWrite& w) { return !busy[w.write.node]; });
            if (write != writes.end()) {
                if (!gap_kept(write->write.node, now)) return;
                QueuedWrite queued = std::move(*write);
                writes.erase(write);
                queue_write_request(std::move(queued), now);
                continue;
            }
            if (!ready.empty()) {
                const std::size_t i = ready.front();
                if (!gap_kept(i, now)) return;
                ready.erase(ready.begin());
                queue_read_request(i, now);
                continue;
            }
            if (book.nodes.empty()) return;
            const std::size_t i = schedule->next();
            const auto due = schedule->deadline(i);
            if (due == Steady::time_point::max()) return;  // every node busy
            if (due > now) {
                arm_pump(due);
                return;
            }
            if (!gap_kept(i, now)) return;
            busy[i] = true;
            attempts[i] = 0;
            rounds[i].emplace(book, book.nodes[i], schedule->started(i, now));
            queue_read_request(i, now);
        }
    }

    // ---- receiving ----

    void on_socket(std::uint32_t events) {
        if (events & EPOLLOUT) {
            send_pending();
            if (fd < 0) return;
        }
        if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) receive();
    }

    void receive() {
        std::array<std::uint8_t, 4096> buffer{};
        // Level-triggered: what is left past the cap is read in the next turn, after the
        // other connections have had theirs.
        for (std::size_t taken = 0; taken < kMaxBytesPerTurn;) {
            const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
            if (got == 0) {
                link_lost("connection", "connection closed by " + book.link);
                return;
            }
            if (got < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                if (errno == EINTR) continue;
                link_lost("connection", std::strerror(errno));
                return;
            }
            taken += static_cast<std::size_t>(got);
            const bool drained = static_cast<std::size_t>(got) < buffer.size();
            if (rx.empty()) rx_partial_since = Steady::now();
            rx.insert(rx.end(), buffer.begin(), buffer.begin() + got);
            if (rtu_framing) {
                take_rtu_frames();
            } else if (!take_frames()) {
                return;
            }
            // A short read took all there was: the next recv() would only say EAGAIN. More
            // arriving meanwhile wakes the (level-triggered) loop again.
            if (drained) break;
        }
        arm_timeouts();
        pump();
    }

    // Takes every whole frame from rx. Returns false when the stream cannot be framed (the
    // connection is then closed).
    bool take_frames() {
        std::size_t used = 0;
        for (;;) {
            mbap::Frame frame;
            const auto status = mbap::find_frame(std::span(rx).subspan(used), frame);
            if (status == mbap::FrameStatus::need_more) break;
            if (status != mbap::FrameStatus::frame) {
                link_lost("garbled", "a reply from " + book.link + " with " +
                                         (status == mbap::FrameStatus::bad_protocol
                                              ? std::string("a protocol id other than 0")
                                              : std::string("a length outside 2..254")) +
                                         "; reconnecting");
                return false;
            }
            handle(frame);
            used += frame.size;
            if (fd < 0) return false;  // handling it lost the link
        }
        rx.erase(rx.begin(), rx.begin() + static_cast<std::ptrdiff_t>(used));
        if (!rx.empty() && used > 0) rx_partial_since = Steady::now();
        return true;
    }

    // Drops what arrived while no request was waiting (or after a bad frame) and holds the
    // next request until the connection has been silent for `timeout`.
    void drain(Steady::time_point now) {
        rx.clear();
        drain_until = now + config.timeout;
        arm_pump(drain_until);
    }

    // RTU framing: takes the reply of the one request in flight from rx, found by its own
    // length and CRC. A reply is taken only when nothing follows it: bytes after it mean the
    // stream is out of step (a late reply joined to this one), and a reply that may not be
    // this request's is never published.
    void take_rtu_frames() {
        const auto now = Steady::now();
        while (!rx.empty()) {
            if (in_flight.empty()) {
                // A late reply may come in many segments: counted once between two requests.
                if (stale_counted) {
                    drain(now);
                    return;
                }
                stale_counted = true;
                book.record_error(nullptr, "stale",
                                  std::to_string(rx.size()) + " bytes from " + book.link +
                                      " with no request waiting: late, after their request "
                                      "timed out; dropped");
                drain(now);
                return;
            }
            rtu::Frame found;
            const auto status = rtu::find_reply(rx, found);
            if (status == rtu::FrameStatus::need_more) return;
            InFlight& request = in_flight.front();
            if (status != rtu::FrameStatus::frame) {
                const bool crc = status == rtu::FrameStatus::bad_crc;
                const std::string detail = crc ? "a reply whose CRC does not check"
                                               : "a reply with function " + hex_byte(rx[1]);
                InFlight failed = std::move(request);
                in_flight.clear();
                drain(now);
                attempt_failed(std::move(failed), crc ? "crc" : "garbled", detail);
                return;
            }
            if (found.size < rx.size()) {
                book.record_error(&book.nodes[request.node], "stale",
                                  describe(request) + ": a reply followed by " +
                                      std::to_string(rx.size() - found.size) +
                                      " more bytes, out of step with the requests; dropped");
                drain(now);
                return;  // the request waits on, for its own reply or its timeout
            }
            const mbap::Frame frame{.transaction = request.transaction,
                                    .unit = found.unit,
                                    .pdu = found.pdu,
                                    .size = found.size};
            handle(frame);
            rx.clear();
        }
    }

    std::string describe(const InFlight& request) const {
        if (request.write) return book.describe_write(*request.write);
        return "reading " + std::to_string(request.count) + " from " + to_string(request.table) +
               " " + std::to_string(request.address) + " of unit " + std::to_string(request.unit);
    }

    void handle(const mbap::Frame& frame) {
        const auto found = std::find_if(in_flight.begin(), in_flight.end(), [&](const InFlight& r) {
            return r.transaction == frame.transaction;
        });
        if (found == in_flight.end()) {
            book.record_error(nullptr, "stale",
                              "a reply from unit " + std::to_string(frame.unit) +
                                  " to no request in flight (transaction " +
                                  std::to_string(frame.transaction) +
                                  "): late, after its request timed out; dropped");
            return;
        }
        const NodeState& node = book.nodes[found->node];
        if (frame.unit != found->unit) {
            book.record_error(&node, "wrong-unit",
                              describe(*found) + ": a reply from unit " +
                                  std::to_string(frame.unit) + "; dropped");
            return;
        }
        std::uint8_t code = 0;
        mbap::ReplyStatus status;
        if (found->write) {
            status = mbap::check_write_reply(found->write_pdu, frame.pdu, code);
        } else {
            status = mbap::decode_read_reply(found->table, found->count, frame.pdu, registers_,
                                             bits_, code);
        }
        if (status == mbap::ReplyStatus::wrong_function) {
            book.record_error(&node, "garbled",
                              describe(*found) + ": a reply to function " +
                                  hex_byte(frame.pdu.empty() ? 0 : frame.pdu[0]) + "; dropped");
            return;
        }
        InFlight request = std::move(*found);
        in_flight.erase(found);
        quiet_since = Steady::now();
        switch (status) {
            case mbap::ReplyStatus::ok:
                reconnect_delay = kFirstReconnectDelay;
                replied(std::move(request), registers_, bits_);
                return;
            case mbap::ReplyStatus::exception: {
                const std::string text(mbap::exception_text(code));
                book.record_error(&book.nodes[request.node], "exception",
                                  describe(request) + ": " + text);
                if (request.write) {
                    write_failed(std::move(request), "exception: " + lowercase(text));
                } else {
                    attempts[request.node] = 0;
                    rounds[request.node]->refused(code);
                    continue_round(request.node);
                }
                return;
            }
            default:
                attempt_failed(std::move(request), "garbled",
                               "a reply that does not fit the request (" +
                                   std::string(mbap::to_string(status)) + ")");
                return;
        }
    }

    void replied(InFlight request, const std::vector<std::uint16_t>& registers,
                 const std::vector<std::uint8_t>& bits) {
        const std::size_t i = request.node;
        if (request.write) {
            const ModbusNode& config_node = *book.nodes[i].config;
            log.log(
                LogLevel::notice, book.describe_write(*request.write) + ": done",
                LogContext{.source = book.name, .node = config_node.id, .event = "modbus-write"});
            busy[i] = false;
            schedule->poll_by(i, Steady::now());  // read it back next
            answer_write(*request.write, "");
            return;
        }
        attempts[i] = 0;
        rounds[i]->replied(registers, bits, WallClock::now());
        continue_round(i);
    }

    // A request got no valid reply (`kind`: "timeout" or "garbled"): counted; sent again
    // while retries are left, else the write fails or the poll ends.
    void attempt_failed(InFlight request, std::string_view kind, const std::string& detail) {
        const std::size_t i = request.node;
        NodeState& node = book.nodes[i];
        book.record_error(&node, kind, describe(request) + ": " + detail);
        const bool again = request.attempt < node.retries;
        if (request.write) {
            if (again) {
                writes.insert(writes.begin(),
                              QueuedWrite{std::move(*request.write), request.attempt + 1});
                busy[i] = false;
            } else {
                write_failed(std::move(request), kind == "timeout"
                                                     ? std::string("timeout")
                                                     : std::string(kind) + ": " + detail);
            }
            return;
        }
        if (again) {
            attempts[i] = request.attempt + 1;
            ready.insert(ready.begin(), i);
            return;
        }
        attempts[i] = 0;
        rounds[i]->failed();
        continue_round(i);
    }

    void write_failed(InFlight request, const std::string& reason) {
        const std::size_t i = request.node;
        const ModbusNode& config_node = *book.nodes[i].config;
        const std::string what = book.describe_write(*request.write);
        book.set_last_error(what + ": " + reason);
        log.log_limited(
            "write-error:" + book.name + "/" + config_node.id, LogLevel::warning,
            what + ": " + reason,
            LogContext{.source = book.name, .node = config_node.id, .event = "modbus-write-error"});
        busy[i] = false;
        answer_write(*request.write, reason);
    }

    void continue_round(std::size_t i) {
        if (rounds[i]->next() != nullptr) {
            ready.push_back(i);
        } else {
            finish_round(i);
        }
    }

    void finish_round(std::size_t i) {
        NodeState& node = book.nodes[i];
        const Millis hold = book.finish_poll(node, rounds[i]->take_outcome(), /*connected=*/true);
        schedule->polled(i, Steady::now(), hold);
        rounds[i].reset();
        busy[i] = false;
        if (node.available == true) arm_availability(node.last_reading + node.offline_after);
    }

    void on_timeouts() {
        timeout_at = Steady::time_point::max();
        const auto now = Steady::now();
        if (rtu_framing && !rx.empty() && now >= rx_partial_since + config.timeout) {
            // No frame boundary to find again on a byte stream but silence: wait for it.
            book.record_error(nullptr, "truncated",
                              "a reply from " + book.link + " stopped half way for " +
                                  std::to_string(config.timeout.count()) + " ms; dropped");
            drain(now);
        } else if (!rx.empty() && now >= rx_partial_since + config.timeout) {
            link_lost("truncated", "a reply from " + book.link + " stopped half way for " +
                                       std::to_string(config.timeout.count()) +
                                       " ms; reconnecting");
            return;
        }
        std::vector<InFlight> expired;
        for (auto it = in_flight.begin(); it != in_flight.end();) {
            if (it->deadline <= now) {
                expired.push_back(std::move(*it));
                it = in_flight.erase(it);
            } else {
                ++it;
            }
        }
        if (!expired.empty()) quiet_since = now;
        if (!expired.empty() && rtu_framing) drain(now);
        for (InFlight& request : expired) {
            attempt_failed(std::move(request), "timeout", "Connection timed out");
        }
        arm_timeouts();
        pump();
    }

    // ---- writes ----

    void answer_write(PendingWrite& write, const std::string& error) {
        --queued_writes;
        book.finish_write(write.done, error);
    }

    void fail_queued_writes(const std::string& reason) {
        std::vector<QueuedWrite> failed;
        failed.swap(writes);
        for (QueuedWrite& queued : failed) {
            --queued_writes;
            book.refuse_write(queued.write.command, queued.write.done, reason);
        }
    }

    // Queues a write: held until the link is up when the source has not started yet,
    // answered at once when it stopped or its link is down.
    void enqueue_write(PendingWrite write) {
        if (stopped || (running && link != Link::up)) {
            --queued_writes;
            book.refuse_write(write.command, write.done,
                              stopped ? "source stopped" : "not connected to " + book.link);
            return;
        }
        writes.push_back(QueuedWrite{std::move(write), 0});
        pump();
    }
};

TcpEndpoint::TcpEndpoint(std::string name, ModbusSourceConfig config, TurnSamples& samples,
                         Logger& log, Resolver resolver)
    : state_(std::make_shared<State>(std::move(name), std::move(config), samples, log,
                                     std::move(resolver))) {}

TcpEndpoint::~TcpEndpoint() { stop(); }

const std::string& TcpEndpoint::name() const { return state_->book.name; }

void TcpEndpoint::start() {
    State& state = *state_;
    // On the caller's thread: a slow resolver never holds up the loop.
    Resolved resolved = state.resolver(state.endpoint.host, state.endpoint.port);
    state.loop.run_sync([&] {
        if (state.running) return;
        state.accepting = true;
        state.take(std::move(resolved));
        state.start_on_loop();
    });
}

void TcpEndpoint::stop() {
    State& state = *state_;
    state.accepting = false;
    const auto stop_on_loop = [&] {
        if (!state.stopped) state.stop_on_loop();
    };
    // The loop not running (it stopped first), nothing else touches the state or the loop:
    // stop here, which closes the socket and cancels the timers (they hold a plain pointer).
    if (!state.loop.run_sync(stop_on_loop)) stop_on_loop();
    // Its result, posted or not, is dropped: the source is not running.
    if (state.resolver_thread.joinable()) state.resolver_thread.join();
}

SourceStats TcpEndpoint::stats() const { return state_->book.stats(); }

std::map<std::string, std::map<std::string, std::uint64_t>> TcpEndpoint::node_errors() const {
    return state_->book.node_errors();
}

void TcpEndpoint::write(WriteCommand command, Source::WriteDone done) {
    State& state = *state_;
    auto prepared = state.book.prepare_write(command, done);
    if (auto* reason = std::get_if<std::string>(&prepared)) {
        return state.book.refuse_write(command, done, *reason);
    }
    if (!state.accepting) return state.book.refuse_write(command, done, "source stopped");
    if (++state.queued_writes > kMaxPendingWrites) {
        --state.queued_writes;
        return state.book.refuse_write(command, done, "write queue full");
    }
    auto write = std::make_shared<PendingWrite>(std::get<PendingWrite>(std::move(prepared)));
    const bool posted =
        state.loop.post([self = state_, write] { self->enqueue_write(std::move(*write)); });
    if (!posted) {
        --state.queued_writes;
        state.book.refuse_write(command, done, "source stopped");
    }
}

}  // namespace nodebridge::modbus
