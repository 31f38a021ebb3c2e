#include "modbus_source.hpp"

#include <modbus.h>
#include <poll.h>
#include <pthread.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "decode.hpp"
#include "encode.hpp"
#include "node_schedule.hpp"
#include "poll_round.hpp"
#include "request_plan.hpp"
#include "rtu_timing.hpp"
#include "unit_health.hpp"

namespace nodebridge {

namespace modbus {

std::string_view classify_error(int errnum) {
    if (errnum == ETIMEDOUT) return "timeout";
    if (errnum >= EMBXILFUN && errnum <= EMBXGTAR) return "exception";
    if (errnum == EMBBADCRC) return "crc";
    if (errnum == EMBBADSLAVE) return "wrong-unit";
    if (errnum >= EMBBADDATA && errnum <= EMBMDATA) return "garbled";
    return "connection";
}

std::string_view classify_failure(int errnum, Millis elapsed, Millis timeout) {
    if (errnum == ETIMEDOUT && elapsed < timeout) return "truncated";
    return classify_error(errnum);
}

}  // namespace modbus

namespace {

using Steady = SteadyClock;

char parity_letter(Parity parity) {
    switch (parity) {
        case Parity::even:
            return 'E';
        case Parity::odd:
            return 'O';
        case Parity::none:
            return 'N';
    }
    return 'N';
}

std::string lowercase(std::string text) {
    for (char& c : text) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return text;
}

// The reason a failed write reports: "timeout", or the kind and libmodbus's message, e.g.
// "exception: illegal data address".
std::string write_failure(int errnum) {
    const std::string_view kind = modbus::classify_error(errnum);
    if (kind == "timeout") return "timeout";
    return std::string(kind) + ": " + lowercase(modbus_strerror(errnum));
}

void split_timeout(Millis timeout, std::uint32_t& sec, std::uint32_t& usec) {
    const auto ms = std::max<std::int64_t>(timeout.count(), 1);
    sec = static_cast<std::uint32_t>(ms / 1000);
    usec = static_cast<std::uint32_t>((ms % 1000) * 1000);
}

}  // namespace

struct ModbusSource::Impl {
    Impl(std::string name_, ModbusSourceConfig config_, SampleQueue& queue_, Logger& log_)
        : config(std::move(config_)), book(std::move(name_), config, queue_, log_), log(log_) {
        const SerialLine& line = std::get<SerialLine>(config.link);
        const modbus::CharFraming framing{.baud = std::max(line.baud, 1),
                                          .data_bits = line.data_bits,
                                          .parity = line.parity != Parity::none,
                                          .stop_bits = line.stop_bits};
        silence = modbus::t35(framing);
    }

    const ModbusSourceConfig config;
    modbus::SourceBook book;  // the nodes (touched only by the thread after start()), counters
    Logger& log;

    std::mutex wake_mutex;
    std::condition_variable wake;
    bool stop_requested = false;
    std::deque<modbus::PendingWrite> pending_writes;  // guarded by wake_mutex; bounded
    std::thread thread;

    // Thread-only state.
    std::optional<modbus::NodeSchedule> schedule;  // the deadlines, laid out when run() starts
    modbus::Micros silence{0};                     // t3.5, kept before every request
    Steady::time_point quiet_since{};  // when the bus last went quiet (a reply or a timeout)
    modbus_t* context = nullptr;
    bool connected = false;
    Millis reconnect_delay = modbus::kFirstReconnectDelay;

    // Waits until `until`, a queued write or stop(); returns false when stopping.
    bool sleep_until(Steady::time_point until) {
        std::unique_lock lock(wake_mutex);
        wake.wait_until(lock, until, [&] { return stop_requested || !pending_writes.empty(); });
        return !stop_requested;
    }
    bool stopping() {
        std::lock_guard lock(wake_mutex);
        return stop_requested;
    }

    bool create_context() {
        const SerialLine& line = std::get<SerialLine>(config.link);
        context = modbus_new_rtu(line.device.c_str(), line.baud, parity_letter(line.parity),
                                 line.data_bits, line.stop_bits);
        if (context == nullptr) {
            book.record_error(
                nullptr, "connection",
                "cannot create a Modbus context for " + book.link + ": " + modbus_strerror(errno));
            return false;
        }
        std::uint32_t sec = 0, usec = 0;
        split_timeout(config.timeout, sec, usec);
        modbus_set_response_timeout(context, sec, usec);
        // Shorter than the response timeout, so a reply that stops half way ("truncated") is
        // told from one that never starts.
        split_timeout(std::min(config.timeout / 2, Millis{500}), sec, usec);
        modbus_set_byte_timeout(context, sec, usec);
        return true;
    }

    // A serial line is ours alone (issue #22): the advisory lock `nodebridge scan rtu` (and
    // another nodebridged) takes too. A line another program holds is a connection failure,
    // retried like any other. (Not TIOCEXCL: it outlives our close while anything else keeps
    // the tty open, as the simulator's pty does, and would lock our own reconnect out.)
    bool take_line() {
        if (!std::holds_alternative<SerialLine>(config.link)) return true;
        const int fd = modbus_get_socket(context);
        if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int err = errno;
            modbus_close(context);
            book.record_error(nullptr, "connection",
                              "cannot take " + book.link + ": " +
                                  (err == EWOULDBLOCK ? std::string("another program holds it")
                                                      : std::string(std::strerror(err))) +
                                  " (retry in " + std::to_string(reconnect_delay.count()) + " ms)");
            return false;
        }
        return true;
    }

    void apply_flow_control() {
        const auto* line = std::get_if<SerialLine>(&config.link);
        if (line->flow_control == FlowControl::none) return;
        const int fd = modbus_get_socket(context);
        termios tio{};
        if (fd < 0 || tcgetattr(fd, &tio) != 0) return;
        if (line->flow_control == FlowControl::rtscts) {
            tio.c_cflag |= CRTSCTS;
        } else {
            tio.c_iflag |= IXON | IXOFF;
        }
        tcsetattr(fd, TCSANOW, &tio);
    }

    void disconnect() {
        if (connected) modbus_close(context);
        connected = false;
        book.link_lost();
    }

    bool connect() {
        if (modbus_connect(context) == -1) {
            const int err = errno;
            modbus_close(context);
            book.record_error(nullptr, "connection",
                              "cannot connect to " + book.link + ": " + modbus_strerror(err) +
                                  " (retry in " + std::to_string(reconnect_delay.count()) + " ms)");
            return false;
        }
        if (!take_line()) return false;
        connected = true;
        apply_flow_control();
        modbus_flush(context);
        log.log(LogLevel::info, "connected to " + book.link,
                LogContext{.source = book.name, .event = "modbus-connected"});
        return true;
    }

    // Issues one read. Returns the number of registers/bits read, or -1 with errno set.
    int read(const modbus::ReadRequest& request, std::vector<std::uint16_t>& registers,
             std::vector<std::uint8_t>& bits) {
        switch (request.table) {
            case ModbusTable::coil:
                bits.resize(request.count);
                return modbus_read_bits(context, request.address, request.count, bits.data());
            case ModbusTable::discrete:
                bits.resize(request.count);
                return modbus_read_input_bits(context, request.address, request.count, bits.data());
            case ModbusTable::input:
                registers.resize(request.count);
                return modbus_read_input_registers(context, request.address, request.count,
                                                   registers.data());
            case ModbusTable::holding:
                registers.resize(request.count);
                return modbus_read_registers(context, request.address, request.count,
                                             registers.data());
        }
        errno = EINVAL;
        return -1;
    }

    // Flushes the line: reads and drops bytes until the line has been silent for t3.5 (at
    // most kMaxDrain), so the rest of a bad or late reply cannot run into the next one.
    void drain_line() {
        modbus_flush(context);
        const int fd = modbus_get_socket(context);
        if (fd >= 0) {
            const auto give_up = Steady::now() + modbus::kMaxDrain;
            const int wait_ms = static_cast<int>(std::max<long>(1, (silence.count() + 999) / 1000));
            std::array<std::uint8_t, 256> scratch{};
            while (Steady::now() < give_up) {
                pollfd pfd{fd, POLLIN, 0};
                if (::poll(&pfd, 1, wait_ms) <= 0) break;
                if (::read(fd, scratch.data(), scratch.size()) <= 0) break;
            }
        }
        quiet_since = Steady::now();
    }

    // Waits out the line's silence (t3.5) and the node's request_gap since the bus
    // last went quiet.
    void keep_silence(const modbus::NodeState& node) {
        const auto until = quiet_since + silence + node.request_gap;
        if (Steady::now() < until) std::this_thread::sleep_until(until);
    }

    // Runs `call` (one request) up to 1 + node.retries times, keeping the silence before
    // each, until it gets a valid reply, an exception reply or a connection error. Every
    // failed attempt is counted by kind and the line flushed. Returns the last result, with
    // `errnum` set when it is -1. `what` describes the request for the log.
    template <typename Call>
    int with_retries(modbus::NodeState& node, const std::string& what, int& errnum, Call&& call) {
        int rc = -1;
        for (int attempt = 0; attempt <= node.retries; ++attempt) {
            keep_silence(node);
            const auto sent = Steady::now();
            rc = call();
            const int err = errno;
            quiet_since = Steady::now();
            if (rc != -1) return rc;
            errnum = err;
            const auto elapsed = std::chrono::duration_cast<Millis>(quiet_since - sent);
            const std::string_view kind = modbus::classify_failure(err, elapsed, config.timeout);
            book.record_error(&node, kind, what + ": " + modbus_strerror(err));
            if (kind == "exception") return rc;
            if (kind == "connection") {
                disconnect();
                return rc;
            }
            // A bad frame may leave bytes behind; a late reply may still come. Start clean.
            drain_line();
        }
        return rc;
    }

    // Polls `groups` of `node` once (PollRound) and hands the outcome to the book. Returns how
    // long the node's next poll is held back at least (SourceBook::finish_poll()).
    Millis poll(modbus::NodeState& node, std::vector<std::size_t> groups) {
        const ModbusNode& config_node = *node.config;
        modbus::PollRound round(book, node, std::move(groups));
        if (modbus_set_slave(context, config_node.unit) == -1) {
            book.record_error(&node, "connection",
                              "invalid unit id " + std::to_string(config_node.unit));
            round.failed();
        }
        std::vector<std::uint16_t> registers;
        std::vector<std::uint8_t> bits;
        while (const modbus::ReadRequest* request = round.next()) {
            book.count_request();
            int err = 0;
            const int rc = with_retries(node, round.describe(), err,
                                        [&] { return read(*request, registers, bits); });
            if (rc == -1) {
                if (modbus::classify_error(err) == "exception") {
                    round.refused(err - MODBUS_ENOBASE);
                } else {
                    round.failed();
                }
                continue;
            }
            reconnect_delay = modbus::kFirstReconnectDelay;
            registers.resize(std::min<std::size_t>(registers.size(), static_cast<std::size_t>(rc)));
            bits.resize(std::min<std::size_t>(bits.size(), static_cast<std::size_t>(rc)));
            round.replied(registers, bits, WallClock::now());
        }
        return book.finish_poll(node, round.take_outcome(), connected);
    }

    // The oldest queued write, if any.
    std::optional<modbus::PendingWrite> take_write() {
        std::lock_guard lock(wake_mutex);
        if (pending_writes.empty()) return std::nullopt;
        modbus::PendingWrite write = std::move(pending_writes.front());
        pending_writes.pop_front();
        return write;
    }

    // Answers every queued write with `reason`.
    void fail_pending_writes(const std::string& reason) {
        std::deque<modbus::PendingWrite> failed;
        {
            std::lock_guard lock(wake_mutex);
            failed.swap(pending_writes);
        }
        for (modbus::PendingWrite& write : failed)
            book.refuse_write(write.command, write.done, reason);
    }

    // Issues one write on the bus (FC05 for a coil, FC06 for one holding register, FC16 for
    // more). Returns -1 with errno set on failure.
    int send_write(const ModbusAttribute& attribute, const modbus::WriteData& data) {
        if (data.table == ModbusTable::coil) {
            return modbus_write_bit(context, attribute.address, data.bit ? 1 : 0);
        }
        if (data.registers.size() == 1) {
            return modbus_write_register(context, attribute.address, data.registers[0]);
        }
        return modbus_write_registers(context, attribute.address,
                                      static_cast<int>(data.registers.size()),
                                      data.registers.data());
    }

    // Performs one queued write on the connected bus and reports it. After a success the
    // node is polled next, so the new value is read back without waiting a whole interval.
    void perform_write(modbus::PendingWrite& write) {
        modbus::NodeState& node = book.nodes[write.node];
        const ModbusNode& config_node = *node.config;
        const ModbusAttribute& attribute = config_node.attributes[write.attribute];
        const std::string what = book.describe_write(write);
        const LogContext context_fields{
            .source = book.name, .node = config_node.id, .event = "modbus-write-error"};
        if (modbus_set_slave(context, config_node.unit) == -1) {
            const std::string reason = "invalid unit id " + std::to_string(config_node.unit);
            log.log_limited("write-error:" + book.name + "/" + config_node.id, LogLevel::warning,
                            what + ": " + reason, context_fields);
            book.finish_write(write.done, reason);
            return;
        }
        int err = 0;
        if (with_retries(node, what, err, [&] { return send_write(attribute, write.data); }) ==
            -1) {
            book.set_last_error(what + ": " + modbus_strerror(err));
            log.log_limited("write-error:" + book.name + "/" + config_node.id, LogLevel::warning,
                            what + ": " + modbus_strerror(err), context_fields);
            book.finish_write(write.done, write_failure(err));
            return;
        }
        reconnect_delay = modbus::kFirstReconnectDelay;
        log.log(LogLevel::notice, what + ": done",
                LogContext{.source = book.name, .node = config_node.id, .event = "modbus-write"});
        schedule->poll_by(write.node, Steady::now());  // read it back next
        book.finish_write(write.done, "");
    }

    void run() {
        if (!create_context()) {
            while (sleep_until(Steady::time_point::max())) {
                fail_pending_writes("not connected to " + book.link);
            }
            return;
        }
        const auto start = Steady::now();
        book.started(start);
        // Each node's polls (each of its interval groups') are spread over their interval
        // (NodeSchedule), so a bus of many nodes is read as an even stream instead of one
        // burst per interval.
        schedule.emplace(modbus::group_intervals(book), book.name, start);
        auto next_connect = start;

        while (!stopping()) {
            auto now = Steady::now();
            // Availability deadlines run whether or not the bus is connected.
            const auto availability_due = book.check_availability(now);
            if (!connected && now >= next_connect) {
                if (connect()) {
                    // The polls missed while away are skipped, not sent in one burst.
                    now = Steady::now();
                    schedule->resume(now);
                } else {
                    next_connect = Steady::now() + reconnect_delay;
                    reconnect_delay = std::min(reconnect_delay * 2, modbus::kMaxReconnectDelay);
                }
            }
            if (!connected) {
                // Writes are answered at once rather than held for a link that may not return.
                fail_pending_writes("not connected to " + book.link);
                if (!sleep_until(std::min(next_connect, availability_due))) break;
                continue;
            }
            // One queued write goes first, then the poll that is due, so writes are prompt
            // and a stream of them cannot starve the polls.
            if (auto write = take_write()) {
                perform_write(*write);
                if (!connected) continue;
                now = Steady::now();
            }
            if (book.nodes.empty()) {
                if (!sleep_until(Steady::time_point::max())) break;
                continue;
            }
            const std::size_t next = schedule->next();
            if (schedule->deadline(next) > now) {
                if (!sleep_until(std::min(schedule->deadline(next), availability_due))) break;
                continue;
            }
            // The next deadline keeps the rhythm (a dead unit's comes dead_poll later, on its
            // grid); missed ones are skipped, not bursted.
            const Millis hold = poll(book.nodes[next], schedule->started(next, now));
            schedule->polled(next, Steady::now(), hold);
        }
        disconnect();
        modbus_free(context);
        context = nullptr;
    }
};

ModbusSource::ModbusSource(std::string name, ModbusSourceConfig config, SampleQueue& queue,
                           Logger& log, TurnSamples* tcp) {
    if (std::holds_alternative<SerialLine>(config.link)) {
        impl_ = std::make_unique<Impl>(std::move(name), std::move(config), queue, log);
        return;
    }
    if (tcp == nullptr) {
        own_loop_ = std::make_unique<IoLoop>("modbus-tcp");
        own_samples_ = std::make_unique<TurnSamples>(*own_loop_, queue);
        own_loop_->start();
        tcp = own_samples_.get();
    }
    tcp_ = std::make_unique<modbus::TcpEndpoint>(std::move(name), std::move(config), *tcp, log);
}

ModbusSource::~ModbusSource() { stop(); }

const std::string& ModbusSource::name() const { return tcp_ ? tcp_->name() : impl_->book.name; }

void ModbusSource::start() {
    if (tcp_) return tcp_->start();
    if (impl_->thread.joinable()) return;
    {
        std::lock_guard lock(impl_->wake_mutex);
        impl_->stop_requested = false;
    }
    impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
    pthread_setname_np(impl_->thread.native_handle(), "modbus-rtu");
}

void ModbusSource::stop() {
    if (tcp_) return tcp_->stop();
    {
        std::lock_guard lock(impl_->wake_mutex);
        impl_->stop_requested = true;
    }
    impl_->wake.notify_all();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->fail_pending_writes("source stopped");
}

void ModbusSource::write(WriteCommand command, WriteDone done) {
    if (tcp_) return tcp_->write(std::move(command), std::move(done));
    Impl& impl = *impl_;
    auto prepared = impl.book.prepare_write(command, done);
    if (auto* reason = std::get_if<std::string>(&prepared)) {
        return impl.book.refuse_write(command, done, *reason);
    }
    {
        std::unique_lock lock(impl.wake_mutex);
        const char* refused = impl.stop_requested ? "source stopped"
                              : impl.pending_writes.size() >= modbus::kMaxPendingWrites
                                  ? "write queue full"
                                  : nullptr;
        if (refused != nullptr) {
            lock.unlock();
            return impl.book.refuse_write(command, done, refused);
        }
        impl.pending_writes.push_back(std::get<modbus::PendingWrite>(std::move(prepared)));
    }
    impl.wake.notify_all();
}

SourceStats ModbusSource::stats() const { return tcp_ ? tcp_->stats() : impl_->book.stats(); }

std::map<std::string, std::map<std::string, std::uint64_t>> ModbusSource::node_errors() const {
    return tcp_ ? tcp_->node_errors() : impl_->book.node_errors();
}

std::unique_ptr<Source> make_modbus_source(const SourceConfig& config, SampleQueue& queue,
                                           Logger& log, TurnSamples* tcp) {
    const auto* settings = std::get_if<ModbusSourceConfig>(&config.settings);
    if (settings == nullptr) return nullptr;
    return std::make_unique<ModbusSource>(config.name, *settings, queue, log, tcp);
}

}  // namespace nodebridge
