#include "modbus_source.hpp"

#include <modbus.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "decode.hpp"
#include "encode.hpp"
#include "nodebridge/poll_schedule.hpp"
#include "poll_reply.hpp"
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

Millis request_gap_for(const ModbusSourceConfig& source, const ModbusNode& node) {
    if (node.request_gap) return *node.request_gap;
    if (node.model && node.model->request_gap) return *node.model->request_gap;
    return source.request_gap;
}

std::uint16_t max_registers_for(const ModbusSourceConfig& source, const ModbusNode& node) {
    std::uint16_t limit = source.max_registers;
    if (node.model && node.model->max_registers) {
        limit = std::min(limit, *node.model->max_registers);
    }
    return std::clamp<std::uint16_t>(limit, 1, kMaxReadRegisters);
}

std::uint16_t max_gap_for(const ModbusSourceConfig& source, const ModbusNode& node) {
    if (node.model && node.model->max_gap) return *node.model->max_gap;
    return source.max_gap;
}

Millis offline_after_for(const ModbusSourceConfig& source, const ModbusNode& node) {
    if (node.offline_after) return *node.offline_after;
    if (source.offline_after) return *source.offline_after;
    return std::max(node.poll * 3, kMinimumOfflineAfter);
}

}  // namespace modbus

namespace {

using Steady = SteadyClock;

struct NodeState {
    const ModbusNode* config = nullptr;
    modbus::RequestPlan plan;  // refused coalesced reads are split here, and stay split
    modbus::UnitHealth health{3, Millis{30000}};
    Millis request_gap{0};  // extra silence before each of its requests
    int retries = 0;        // repeats of a request without a valid reply
    bool online = false;    // the last poll read every attribute
    bool ever_polled = false;
    // Availability, as published: unset until the first reading or the first offline_after.
    Millis offline_after{30000};
    Steady::time_point last_reading;  // or the start, before the first reading
    std::optional<bool> available;
};

std::string describe_link(const ModbusSourceConfig& config) {
    if (const auto* tcp = std::get_if<ModbusTcpEndpoint>(&config.link)) {
        return tcp->host + ":" + std::to_string(tcp->port);
    }
    return std::get<SerialLine>(config.link).device;
}

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

// A write waiting for the source's thread.
struct PendingWrite {
    std::size_t node = 0;       // index into the nodes
    std::size_t attribute = 0;  // index into that node's attributes
    modbus::WriteData data;
    WriteCommand command;
    Source::WriteDone done;
};

std::string lowercase(std::string text) {
    for (char& c : text) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return text;
}

// A command's value as the log shows it: "42.5", "-3", "true".
std::string describe_value(const Value& value) {
    if (const double* number = std::get_if<double>(&value)) return number_text(*number);
    if (const auto* integer = std::get_if<std::int64_t>(&value)) return std::to_string(*integer);
    if (const bool* flag = std::get_if<bool>(&value)) return *flag ? "true" : "false";
    return "\"" + modbus::sanitize_text(std::get<std::string>(value)) + "\"";
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
        : name(std::move(name_)),
          config(std::move(config_)),
          queue(queue_),
          log(log_),
          link(describe_link(config)) {
        for (const ModbusNode& node : config.nodes) {
            NodeState state;
            state.config = &node;
            state.plan = modbus::plan_requests(node.attributes, modbus::max_gap_for(config, node),
                                               modbus::max_registers_for(config, node));
            state.health = modbus::UnitHealth(config.dead_after, config.dead_poll);
            state.request_gap = modbus::request_gap_for(config, node);
            state.retries = node.retries.value_or(config.retries);
            state.offline_after = modbus::offline_after_for(config, node);
            nodes.push_back(std::move(state));
        }
        stats.nodes_total = static_cast<int>(nodes.size());
        if (const auto* line = std::get_if<SerialLine>(&config.link)) {
            const modbus::CharFraming framing{.baud = std::max(line->baud, 1),
                                              .data_bits = line->data_bits,
                                              .parity = line->parity != Parity::none,
                                              .stop_bits = line->stop_bits};
            silence = modbus::t35(framing);
        }
    }

    const std::string name;
    const ModbusSourceConfig config;
    SampleQueue& queue;
    Logger& log;
    const std::string link;
    std::vector<NodeState> nodes;  // touched only by the thread after start()

    mutable std::mutex stats_mutex;
    SourceStats stats;
    std::map<std::string, std::map<std::string, std::uint64_t>> node_errors;

    std::mutex wake_mutex;
    std::condition_variable wake;
    bool stop_requested = false;
    std::deque<PendingWrite> pending_writes;  // guarded by wake_mutex; at most kMaxPendingWrites
    std::thread thread;

    // Thread-only state.
    std::optional<PollSchedule> schedule;  // the nodes' deadlines, laid out when run() starts
    modbus::Micros silence{0};         // t3.5 on an RTU line, kept before every request; 0 for TCP
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

    void record_error(const NodeState* node, std::string_view kind, const std::string& message) {
        const std::string node_id = node != nullptr ? node->config->id : std::string();
        std::string text = node != nullptr ? node_id + ": " + message : message;
        {
            std::lock_guard lock(stats_mutex);
            ++stats.errors[std::string(kind)];
            stats.last_error = text;
            if (node != nullptr) ++node_errors[node_id][std::string(kind)];
        }
        const std::string cause = std::string(kind) + ":" + name + "/" + node_id;
        const std::string event = "modbus-" + std::string(kind);
        log.log_limited(cause, LogLevel::warning, text,
                        LogContext{.source = name, .node = node_id, .event = event});
    }

    void push_availability(const NodeState& node, bool online) {
        Sample sample;
        sample.source = name;
        sample.node = node.config->id;
        sample.time = WallClock::now();
        sample.online = online;
        std::vector<std::pair<std::string, bool>> available;
        for (const NodeState& each : nodes) {
            if (each.available) available.emplace_back(each.config->id, *each.available);
        }
        {
            // Before the sample, so a consumer that sees it sees matching stats.
            std::lock_guard lock(stats_mutex);
            stats.nodes = std::move(available);
        }
        queue.push(std::move(sample));
    }

    // Takes nodes without a reading for their offline_after offline. Returns when it next
    // has something to do (time_point::max() when every node is offline already).
    Steady::time_point check_availability(Steady::time_point now) {
        auto next = Steady::time_point::max();
        for (NodeState& node : nodes) {
            if (node.available == false) continue;
            const auto deadline = node.last_reading + node.offline_after;
            if (now < deadline) {
                next = std::min(next, deadline);
                continue;
            }
            node.available = false;
            log.log(LogLevel::notice,
                    node.config->id + ": offline (no reading for " +
                        std::to_string(node.offline_after.count()) + " ms)",
                    LogContext{.source = name, .node = node.config->id, .event = "node-offline"});
            push_availability(node, false);
        }
        return next;
    }

    void update_online() {
        int online = 0;
        for (const NodeState& node : nodes) online += node.online ? 1 : 0;
        std::lock_guard lock(stats_mutex);
        stats.nodes_online = online;
    }

    bool create_context() {
        if (const auto* tcp = std::get_if<ModbusTcpEndpoint>(&config.link)) {
            context = modbus_new_tcp_pi(tcp->host.c_str(), std::to_string(tcp->port).c_str());
        } else {
            const SerialLine& line = std::get<SerialLine>(config.link);
            context = modbus_new_rtu(line.device.c_str(), line.baud, parity_letter(line.parity),
                                     line.data_bits, line.stop_bits);
        }
        if (context == nullptr) {
            record_error(
                nullptr, "connection",
                "cannot create a Modbus context for " + link + ": " + modbus_strerror(errno));
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

    void apply_flow_control() {
        const auto* line = std::get_if<SerialLine>(&config.link);
        if (line == nullptr || line->flow_control == FlowControl::none) return;
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
        for (NodeState& node : nodes) node.online = false;
        update_online();
    }

    bool connect() {
        if (modbus_connect(context) == -1) {
            const int err = errno;
            modbus_close(context);
            record_error(nullptr, "connection",
                         "cannot connect to " + link + ": " + modbus_strerror(err) + " (retry in " +
                             std::to_string(reconnect_delay.count()) + " ms)");
            return false;
        }
        connected = true;
        apply_flow_control();
        modbus_flush(context);
        log.log(LogLevel::info, "connected to " + link,
                LogContext{.source = name, .event = "modbus-connected"});
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

    // Flushes the line: on RTU, reads and drops bytes until the line has been silent for
    // t3.5 (at most kMaxDrain), so the rest of a bad or late reply cannot run into the next
    // one; on TCP, drops what is buffered.
    void drain_line() {
        modbus_flush(context);
        const int fd = modbus_get_socket(context);
        if (silence.count() > 0 && fd >= 0) {
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

    // Brings the link back in step after a request that got no valid reply, so that what is
    // read next is the reply to the next request. On RTU the line is drained (drain_line).
    // On TCP the connection is closed and opened again: a late reply may arrive at any time
    // after the timeout, and libmodbus, meeting a reply whose transaction id is not the
    // request's, fails that request instead of skipping it, so each later request would read
    // the reply to the one before it and the device stayed dark until something reconnected.
    // A new connection carries no reply to an old request. Each reopening is counted as
    // "resync". Returns false when the endpoint cannot be reached again (then disconnected).
    bool resync(const NodeState& node) {
        if (std::holds_alternative<SerialLine>(config.link)) {
            drain_line();
            return true;
        }
        {
            std::lock_guard lock(stats_mutex);
            ++stats.errors["resync"];
            ++node_errors[node.config->id]["resync"];
        }
        log.log_limited("resync:" + name, LogLevel::info,
                        "reopening the connection to " + link +
                            " so a late reply cannot be taken for the next one",
                        LogContext{.source = name, .node = node.config->id, .event = "modbus-resync"});
        modbus_close(context);
        if (modbus_connect(context) == -1) {
            const int err = errno;
            modbus_close(context);
            connected = false;
            record_error(nullptr, "connection",
                         "cannot connect to " + link + ": " + modbus_strerror(err));
            disconnect();
            return false;
        }
        quiet_since = Steady::now();
        return true;
    }

    // Waits out the line's silence (t3.5 on RTU) and the node's request_gap since the bus
    // last went quiet.
    void keep_silence(const NodeState& node) {
        const auto until = quiet_since + silence + node.request_gap;
        if (Steady::now() < until) std::this_thread::sleep_until(until);
    }

    // Runs `call` (one request) up to 1 + node.retries times, keeping the silence before
    // each, until it gets a valid reply, an exception reply or a connection error. Every
    // failed attempt is counted by kind and the line flushed. Returns the last result, with
    // `errnum` set when it is -1. `what` describes the request for the log.
    template <typename Call>
    int with_retries(NodeState& node, const std::string& what, int& errnum, Call&& call) {
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
            record_error(&node, kind, what + ": " + modbus_strerror(err));
            if (kind == "exception") return rc;
            if (kind == "connection") {
                disconnect();
                return rc;
            }
            // A bad frame may leave bytes behind; a late reply may still come. Start clean.
            if (!resync(node)) return rc;
        }
        return rc;
    }

    void poll(NodeState& node) {
        const ModbusNode& config_node = *node.config;
        std::vector<std::optional<Value>> values(config_node.attributes.size());
        bool complete = node.plan.rejected.empty();
        std::optional<WallClock::time_point> reply_time;
        std::vector<std::uint16_t> registers;
        std::vector<std::uint8_t> bits;

        if (modbus_set_slave(context, config_node.unit) == -1) {
            record_error(&node, "connection",
                         "invalid unit id " + std::to_string(config_node.unit));
            node.online = false;
            return;
        }
        bool answered = false;  // any reply, an exception too: the unit is there
        for (std::size_t r = 0; r < node.plan.requests.size(); ++r) {
            const modbus::ReadRequest request = node.plan.requests[r];
            {
                std::lock_guard lock(stats_mutex);
                ++stats.polls;
            }
            int err = 0;
            const std::string what = "reading " + std::to_string(request.count) + " from " +
                                     to_string(request.table) + " " +
                                     std::to_string(request.address) + " of unit " +
                                     std::to_string(config_node.unit);
            const int rc =
                with_retries(node, what, err, [&] { return read(request, registers, bits); });
            if (rc == -1) {
                const std::string_view kind = modbus::classify_error(err);
                if (kind == "exception") answered = true;
                if (err == EMBXILADD) {
                    // A coalesced read over registers the device does not map: split it, and
                    // remember the split for every later poll.
                    const std::size_t pieces = modbus::split_in_place(
                        node.plan.requests, r, config_node.attributes.list());
                    if (pieces > 0) {
                        log.log(
                            LogLevel::notice,
                            config_node.id + ": unit " + std::to_string(config_node.unit) +
                                " refused " + what.substr(8) + "; reading it in " +
                                std::to_string(pieces) + " requests from now on",
                            LogContext{
                                .source = name, .node = config_node.id, .event = "modbus-split"});
                        --r;  // read the first piece next
                        continue;
                    }
                }
                complete = false;
                if (!connected) break;
                if (kind != "exception") break;  // not answering: do not wait for it again
                continue;
            }
            answered = true;
            reply_time = WallClock::now();
            reconnect_delay = modbus::kFirstReconnectDelay;
            if (rc != request.count) {
                complete = false;
                record_error(&node, "garbled",
                             "short reply from unit " + std::to_string(config_node.unit));
                continue;
            }
            for (const std::size_t index : modbus::decode_reply(
                     request, config_node.attributes.list(), registers, bits, values)) {
                complete = false;
                const auto& attributes = config_node.attributes;
                record_error(&node, "decode",
                             "cannot decode " + (index < attributes.size()
                                                     ? attributes[index].name
                                                     : "attribute #" + std::to_string(index)));
            }
        }

        if (complete && !node.online && node.ever_polled) {
            log.log_limited(
                "recovered:" + name + "/" + config_node.id, LogLevel::notice,
                config_node.id + ": answering again",
                LogContext{.source = name, .node = config_node.id, .event = "modbus-recovered"});
        }
        node.online = complete;
        node.ever_polled = true;
        update_online();  // before the sample, so a consumer sees matching stats
        if (connected) note_health(node, answered);

        Sample sample;
        sample.source = name;
        sample.node = config_node.id;
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (!values[i]) continue;
            const ModbusAttribute& attribute = config_node.attributes[i];
            sample.attributes.push_back(Attribute{
                .name = attribute.name, .value = std::move(*values[i]), .unit = attribute.unit});
        }
        if (!sample.attributes.empty() && reply_time) {
            node.last_reading = Steady::now();
            if (node.available != true) {
                node.available = true;
                log.log(LogLevel::info, config_node.id + ": online",
                        LogContext{.source = name, .node = config_node.id, .event = "node-online"});
                push_availability(node, true);  // before the reading it announces
            }
            sample.time = *reply_time;
            {
                std::lock_guard lock(stats_mutex);
                ++stats.samples;
            }
            queue.push(std::move(sample));
        }
    }

    // Feeds one poll's outcome to the dead-unit rule; logs and takes the node offline once
    // when it dies, and logs once when it answers again.
    void note_health(NodeState& node, bool answered) {
        const ModbusNode& config_node = *node.config;
        switch (node.health.record_poll(answered)) {
            case modbus::UnitHealth::Change::none:
                return;
            case modbus::UnitHealth::Change::died:
                log.log(LogLevel::warning,
                        config_node.id + ": unit " + std::to_string(config_node.unit) +
                            " did not answer " + std::to_string(config.dead_after) +
                            " polls in a row; polling it every " +
                            std::to_string(config.dead_poll.count()) + " ms until it answers",
                        LogContext{.source = name, .node = config_node.id, .event = "modbus-dead"});
                if (node.available != false) {
                    node.available = false;
                    push_availability(node, false);
                }
                return;
            case modbus::UnitHealth::Change::revived:
                log.log(
                    LogLevel::notice,
                    config_node.id + ": unit " + std::to_string(config_node.unit) +
                        " answers again; back to its poll interval",
                    LogContext{.source = name, .node = config_node.id, .event = "modbus-revived"});
                return;
        }
    }

    // Counts a write's outcome and reports it; never called with a lock held, so `done`
    // may queue another write.
    void finish_write(const WriteDone& done, const std::string& error) {
        {
            std::lock_guard lock(stats_mutex);
            ++(error.empty() ? stats.writes : stats.write_errors);
        }
        done(error);
    }

    // The oldest queued write, if any.
    std::optional<PendingWrite> take_write() {
        std::lock_guard lock(wake_mutex);
        if (pending_writes.empty()) return std::nullopt;
        PendingWrite write = std::move(pending_writes.front());
        pending_writes.pop_front();
        return write;
    }

    // Answers every queued write with `reason`.
    void fail_pending_writes(const std::string& reason) {
        std::deque<PendingWrite> failed;
        {
            std::lock_guard lock(wake_mutex);
            failed.swap(pending_writes);
        }
        for (PendingWrite& write : failed) {
            log.log_limited(
                "write-refused:" + name + "/" + write.command.node, LogLevel::warning,
                write.command.node + ": not writing " + write.command.attribute + ": " + reason,
                LogContext{
                    .source = name, .node = write.command.node, .event = "modbus-write-error"});
            finish_write(write.done, reason);
        }
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
    void perform_write(PendingWrite& write) {
        NodeState& node = nodes[write.node];
        const ModbusNode& config_node = *node.config;
        const ModbusAttribute& attribute = config_node.attributes[write.attribute];
        // For the log: "pdu-1: writing setpoint = 42.5 (holding 20 of unit 1)".
        const std::string what = config_node.id + ": writing " + attribute.name + " = " +
                                 describe_value(write.command.value) + " (" +
                                 (attribute.table == ModbusTable::coil ? "coil " : "holding ") +
                                 std::to_string(attribute.address) + " of unit " +
                                 std::to_string(config_node.unit) + ")";
        const LogContext context_fields{
            .source = name, .node = config_node.id, .event = "modbus-write-error"};
        if (modbus_set_slave(context, config_node.unit) == -1) {
            const std::string reason = "invalid unit id " + std::to_string(config_node.unit);
            log.log_limited("write-error:" + name + "/" + config_node.id, LogLevel::warning,
                            what + ": " + reason, context_fields);
            finish_write(write.done, reason);
            return;
        }
        int err = 0;
        if (with_retries(node, what, err, [&] { return send_write(attribute, write.data); }) ==
            -1) {
            const std::string reason = write_failure(err);
            {
                std::lock_guard lock(stats_mutex);
                stats.last_error = what + ": " + modbus_strerror(err);
            }
            log.log_limited("write-error:" + name + "/" + config_node.id, LogLevel::warning,
                            what + ": " + modbus_strerror(err), context_fields);
            finish_write(write.done, reason);
            return;
        }
        reconnect_delay = modbus::kFirstReconnectDelay;
        log.log(LogLevel::notice, what + ": done",
                LogContext{.source = name, .node = config_node.id, .event = "modbus-write"});
        schedule->poll_by(write.node, Steady::now());  // read it back next
        finish_write(write.done, "");
    }

    void run() {
        if (!create_context()) {
            while (sleep_until(Steady::time_point::max())) {
                fail_pending_writes("not connected to " + link);
            }
            return;
        }
        for (const NodeState& node : nodes) {
            for (std::size_t index : node.plan.rejected) {
                record_error(&node, "decode",
                             "attribute " + node.config->attributes[index].name +
                                 " cannot be read in one request; it is skipped");
            }
        }
        const auto start = Steady::now();
        // Each node's polls are spread over its interval (PollSchedule), so a bus of many
        // nodes is read as an even stream instead of one burst per interval.
        std::vector<Millis> intervals;
        for (NodeState& node : nodes) {
            intervals.push_back(node.config->poll);
            node.last_reading = start;  // a node that never answers is offline after its allowance
        }
        schedule.emplace(intervals, name, start);
        auto next_connect = start;

        while (!stopping()) {
            auto now = Steady::now();
            // Availability deadlines run whether or not the bus is connected.
            const auto availability_due = check_availability(now);
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
                fail_pending_writes("not connected to " + link);
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
            if (nodes.empty()) {
                if (!sleep_until(Steady::time_point::max())) break;
                continue;
            }
            const std::size_t next = schedule->next();
            if (schedule->deadline(next) > now) {
                if (!sleep_until(std::min(schedule->deadline(next), availability_due))) break;
                continue;
            }
            poll(nodes[next]);
            // The next deadline keeps the rhythm (a dead unit's comes dead_poll later, on its
            // grid); missed ones are skipped, not bursted.
            const Millis own = nodes[next].config->poll;
            schedule->polled(next, Steady::now(), nodes[next].health.interval(own) - own);
        }
        disconnect();
        modbus_free(context);
        context = nullptr;
    }
};

ModbusSource::ModbusSource(std::string name, ModbusSourceConfig config, SampleQueue& queue,
                           Logger& log)
    : impl_(std::make_unique<Impl>(std::move(name), std::move(config), queue, log)) {}

ModbusSource::~ModbusSource() { stop(); }

const std::string& ModbusSource::name() const { return impl_->name; }

void ModbusSource::start() {
    if (impl_->thread.joinable()) return;
    {
        std::lock_guard lock(impl_->wake_mutex);
        impl_->stop_requested = false;
    }
    impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void ModbusSource::stop() {
    {
        std::lock_guard lock(impl_->wake_mutex);
        impl_->stop_requested = true;
    }
    impl_->wake.notify_all();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->fail_pending_writes("source stopped");
}

void ModbusSource::write(WriteCommand command, WriteDone done) {
    Impl& impl = *impl_;
    const auto refuse = [&](const std::string& reason) {
        impl.log.log_limited(
            "write-refused:" + impl.name + "/" + command.node, LogLevel::warning,
            command.node + ": not writing " + command.attribute + ": " + reason,
            LogContext{.source = impl.name, .node = command.node, .event = "modbus-write-error"});
        impl.finish_write(done, reason);
    };
    if (command.source != impl.name) {
        return refuse("the command is for source " + command.source + ", not " + impl.name);
    }
    // The configuration is immutable after construction, so looking it up here is safe.
    const auto& nodes = impl.config.nodes;
    const auto node = std::find_if(nodes.begin(), nodes.end(),
                                   [&](const ModbusNode& each) { return each.id == command.node; });
    if (node == nodes.end()) return refuse("no node " + command.node + " on source " + impl.name);
    const auto attribute =
        std::find_if(node->attributes.begin(), node->attributes.end(),
                     [&](const ModbusAttribute& each) { return each.name == command.attribute; });
    if (attribute == node->attributes.end()) {
        return refuse("node " + command.node + " has no attribute " + command.attribute);
    }
    // Defence in depth: the CommandRouter checks these too.
    if (!attribute->writable) return refuse(command.attribute + " is not writable");
    if (const double* number = std::get_if<double>(&command.value)) {
        if (attribute->min && *number < *attribute->min) {
            return refuse("value " + number_text(*number) + " is below min " +
                          number_text(*attribute->min));
        }
        if (attribute->max && *number > *attribute->max) {
            return refuse("value " + number_text(*number) + " is above max " +
                          number_text(*attribute->max));
        }
    }
    auto encoded = modbus::encode_value(*attribute, command.value);
    if (auto* error = std::get_if<std::string>(&encoded)) return refuse(*error);

    PendingWrite pending;
    pending.node = static_cast<std::size_t>(node - nodes.begin());
    pending.attribute = static_cast<std::size_t>(attribute - node->attributes.begin());
    pending.data = std::move(std::get<modbus::WriteData>(encoded));
    {
        std::unique_lock lock(impl.wake_mutex);
        if (impl.stop_requested) {
            lock.unlock();
            return refuse("source stopped");
        }
        if (impl.pending_writes.size() >= modbus::kMaxPendingWrites) {
            lock.unlock();
            return refuse("write queue full");
        }
        pending.command = std::move(command);
        pending.done = std::move(done);
        impl.pending_writes.push_back(std::move(pending));
    }
    impl.wake.notify_all();
}

SourceStats ModbusSource::stats() const {
    std::lock_guard lock(impl_->stats_mutex);
    return impl_->stats;
}

std::map<std::string, std::map<std::string, std::uint64_t>> ModbusSource::node_errors() const {
    std::lock_guard lock(impl_->stats_mutex);
    return impl_->node_errors;
}

std::unique_ptr<Source> make_modbus_source(const SourceConfig& config, SampleQueue& queue,
                                           Logger& log) {
    const auto* settings = std::get_if<ModbusSourceConfig>(&config.settings);
    if (settings == nullptr) return nullptr;
    return std::make_unique<ModbusSource>(config.name, *settings, queue, log);
}

}  // namespace nodebridge
