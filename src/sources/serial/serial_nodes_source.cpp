#include "sources/serial/serial_nodes_source.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "nodebridge/poll_schedule.hpp"
#include "sources/serial/attribute_schema.hpp"
#include "sources/serial/line_framer.hpp"
#include "sources/serial/line_parser.hpp"
#include "sources/serial/serial_port.hpp"

namespace nodebridge {
namespace serial {
namespace {

constexpr std::size_t kReadChunk = 4096;
constexpr int kMaxReadsPerWake = 16;  // then look at the stop fd and the timers again
constexpr std::size_t kSnippetBytes = 80;

// A short, printable excerpt of a rejected line for the log.
std::string snippet(std::string_view line) {
    std::string out;
    for (const char c : line.substr(0, kSnippetBytes)) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f) {
            out += c;
        } else {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        }
    }
    if (line.size() > kSnippetBytes) out += "...";
    return out;
}

int poll_timeout(SteadyClock::time_point now, SteadyClock::time_point deadline) {
    if (deadline <= now) return 0;
    const auto wait = std::chrono::ceil<Millis>(deadline - now).count();
    return static_cast<int>(std::min<std::int64_t>(wait, 1000));
}

}  // namespace

// Everything the thread owns; only the thread touches it.
struct SerialNodesSource::Loop {
    explicit Loop(const SerialNodesSourceConfig& settings)
        : port(settings.line),
          framer(settings.max_line),
          availability(settings.offline_after),
          schemas(settings) {}

    SerialPort port;
    LineFramer framer;
    NodeAvailability availability;
    NodeSchemas schemas;
    std::unique_ptr<LineParser> parser;
    Report report;

    SourceStats stats;  // the thread's copy, published under the mutex
    std::uint64_t long_lines_seen = 0;
    bool nodes_changed = true;  // a node appeared or changed state since the last publish
    bool ever_opened = false;
    bool open_failure_logged = false;
};

SerialNodesSource::SerialNodesSource(const SourceConfig& config, SampleQueue& samples, Logger& log,
                                     SerialTiming timing)
    : name_(config.name), config_(config), samples_(samples), log_(log), timing_(timing) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

SerialNodesSource::~SerialNodesSource() {
    stop();
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void SerialNodesSource::start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { run(); });
    pthread_setname_np(thread_.native_handle(), "serial-nodes");
}

void SerialNodesSource::stop() {
    if (!thread_.joinable()) return;
    const std::uint64_t one = 1;
    if (wake_fd_ >= 0) {
        [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
    }
    thread_.join();
}

SourceStats SerialNodesSource::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

std::vector<NodeStatus> SerialNodesSource::nodes() const {
    std::lock_guard lock(mutex_);
    return nodes_;
}

void SerialNodesSource::run() {
    const LogContext context{.source = name_};
    const auto* settings = std::get_if<SerialNodesSourceConfig>(&config_.settings);
    if (settings == nullptr || wake_fd_ < 0) {
        const std::string message = settings == nullptr
                                        ? "source settings are not serial-nodes settings"
                                        : "cannot create the wake-up eventfd";
        log_.log(LogLevel::error, message, context);
        std::lock_guard lock(mutex_);
        ++stats_.errors["config"];
        stats_.last_error = message;
        return;
    }

    Loop loop(*settings);
    std::string error;
    loop.parser = make_line_parser(*settings, error);
    if (!loop.parser) {
        log_.log(LogLevel::error, "cannot parse lines: " + error, context);
        ++loop.stats.errors["config"];
        loop.stats.last_error = error;
    }

    const auto count = [&](std::string_view kind, std::string message) {
        ++loop.stats.errors[std::string(kind)];
        loop.stats.last_error = std::move(message);
    };
    // Copies the counters for stats(); the node list (larger) only when it changed or a
    // second has passed, so a busy line does not copy thousands of ids per read.
    auto next_nodes_publish = SteadyClock::now();
    const auto publish = [&] {
        const auto now = SteadyClock::now();
        const bool with_nodes = loop.nodes_changed || now >= next_nodes_publish;
        std::vector<NodeStatus> nodes;
        std::vector<std::pair<std::string, bool>> availability;
        if (with_nodes) {
            nodes = loop.availability.snapshot();
            std::sort(nodes.begin(), nodes.end(),
                      [](const NodeStatus& a, const NodeStatus& b) { return a.node < b.node; });
            availability.reserve(nodes.size());
            for (const NodeStatus& node : nodes) availability.emplace_back(node.node, node.online);
            loop.nodes_changed = false;
            next_nodes_publish = now + std::chrono::seconds(1);
        }
        loop.stats.nodes_total = loop.availability.total();
        loop.stats.nodes_online = loop.availability.online();
        std::lock_guard lock(mutex_);
        std::vector<std::pair<std::string, bool>> kept = std::move(stats_.nodes);
        stats_ = loop.stats;  // loop.stats.nodes stays empty: the list is kept here only
        stats_.nodes = with_nodes ? std::move(availability) : std::move(kept);
        if (with_nodes) nodes_ = std::move(nodes);
    };
    // An availability change for the mapping: no attributes, `online` set.
    const auto push_availability = [&](const std::string& node, bool online) {
        Sample sample{name_, node, WallClock::now(), {}};
        sample.online = online;
        samples_.push(std::move(sample));
    };

    const auto handle_line = [&](std::string_view line) {
        ++loop.stats.polls;
        if (!loop.parser) return;
        const LineError result = loop.parser->parse(line, loop.report);
        if (result == LineError::empty) return;
        if (result != LineError::none) {
            const std::string kind(to_string(result));
            std::string message = kind + " line: " + snippet(line);
            log_.log_limited(kind + ":" + name_, LogLevel::warning, message, context);
            count(kind, std::move(message));
            return;
        }
        Report& report = loop.report;
        if (report.bad_time) {
            std::string message = "unreadable time in line: " + snippet(line);
            log_.log_limited("bad_time:" + name_, LogLevel::warning, message,
                             {.source = name_, .node = report.node});
            count("bad_time", std::move(message));
        }
        loop.schemas.for_node(report.node).apply(report.attributes);
        const auto now = SteadyClock::now();
        const std::uint64_t untracked_before = loop.availability.untracked();
        if (loop.availability.heard(report.node, now)) {
            loop.nodes_changed = true;
            log_.log(LogLevel::info, "node online", {.source = name_, .node = report.node});
            push_availability(report.node, true);
        }
        if (loop.availability.untracked() != untracked_before) {
            log_.log_limited("untracked:" + name_, LogLevel::warning,
                             "too many nodes; availability not tracked for this one",
                             {.source = name_, .node = report.node});
            ++loop.stats.errors["untracked_node"];
        }
        Sample sample{name_, std::move(report.node), report.time.value_or(WallClock::now()),
                      std::move(report.attributes)};
        samples_.push(std::move(sample));
        ++loop.stats.samples;
    };

    const auto vanish = [&](const std::string& why) {
        loop.port.close();
        loop.framer.reset();
        log_.log_limited("vanished:" + name_, LogLevel::warning,
                         settings->line.device + " " + why + "; reopening when it returns",
                         context);
        loop.stats.last_error = settings->line.device + " " + why;
    };

    auto now = SteadyClock::now();
    auto next_open = now;
    auto next_presence_check = SteadyClock::time_point::max();
    auto next_poll_send = SteadyClock::time_point::max();
    // A polled receiver's requests keep to a grid turned by the source's name, so that
    // several receivers polled at the same rate do not all ask at the same instant.
    std::optional<PollSchedule> poll_schedule;
    if (settings->poll && settings->poll->every.count() > 0) {
        poll_schedule.emplace(std::vector<Millis>{settings->poll->every}, name_, now);
    }
    auto next_counters_log = now + timing_.counters_log;
    std::map<std::string, std::uint64_t> logged_errors;
    std::vector<std::string> went_offline;
    char buffer[kReadChunk];
    bool running = true;
    publish();

    while (running) {
        now = SteadyClock::now();

        if (!loop.port.is_open() && now >= next_open && loop.parser) {
            if (loop.port.open(error)) {
                if (loop.ever_opened) {
                    ++loop.stats.errors["reopen"];
                    log_.log(LogLevel::notice, "reopened " + settings->line.device, context);
                } else {
                    log_.log(LogLevel::info, "opened " + settings->line.device, context);
                }
                loop.ever_opened = true;
                loop.open_failure_logged = false;
                next_presence_check = now + timing_.presence_check;
                next_poll_send = poll_schedule ? poll_schedule->at_or_after(0, now)
                                               : SteadyClock::time_point::max();
            } else {
                const std::string message =
                    error + "; retrying every " + std::to_string(timing_.retry.count()) + " ms";
                if (!loop.open_failure_logged) {
                    log_.log(LogLevel::warning, message, context);
                    loop.open_failure_logged = true;
                } else {
                    log_.log_limited("open:" + name_, LogLevel::warning, message, context);
                }
                loop.stats.last_error = error;
                next_open = now + timing_.retry;
            }
            publish();
        }

        if (loop.port.is_open() && now >= next_presence_check) {
            if (!loop.port.still_present()) {
                vanish("was removed or replaced");
                next_open = now;
                publish();
                continue;
            }
            next_presence_check = now + timing_.presence_check;
        }

        if (loop.port.is_open() && now >= next_poll_send) {
            if (!loop.port.write(settings->poll->send)) {
                std::string message = "cannot write the poll request to " + settings->line.device;
                log_.log_limited("write:" + name_, LogLevel::warning, message, context);
                count("write_failed", std::move(message));
            }
            next_poll_send = poll_schedule->after(0, now);  // missed ones are skipped
        }

        if (now >= loop.availability.next_due()) {
            went_offline.clear();
            loop.availability.check(now, went_offline);
            for (const std::string& node : went_offline) {
                log_.log(LogLevel::notice, "node offline", {.source = name_, .node = node});
                push_availability(node, false);
            }
            if (!went_offline.empty()) {
                loop.nodes_changed = true;
                publish();
            }
        }

        if (now >= next_counters_log) {
            next_counters_log = now + timing_.counters_log;
            if (loop.stats.errors != logged_errors) {
                std::string line = "lines=" + std::to_string(loop.stats.polls) +
                                   " samples=" + std::to_string(loop.stats.samples);
                for (const auto& [kind, n] : loop.stats.errors) {
                    line += " " + kind + "=" + std::to_string(n);
                }
                log_.log(LogLevel::notice, line, {.source = name_, .event = "serial-counters"});
                logged_errors = loop.stats.errors;
            }
        }

        auto deadline = std::min(
            {next_presence_check, next_poll_send, next_counters_log, loop.availability.next_due()});
        if (!loop.port.is_open() && loop.parser) deadline = std::min(deadline, next_open);
        pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {loop.port.fd(), POLLIN, 0}};
        const nfds_t count_fds = loop.port.is_open() ? 2 : 1;
        const int ready = ::poll(fds, count_fds, poll_timeout(now, deadline));
        if (ready < 0) {
            if (errno == EINTR) continue;
            log_.log_limited("poll:" + name_, LogLevel::error,
                             std::string("poll failed: ") + std::strerror(errno), context);
            continue;
        }
        if (fds[0].revents != 0) {
            running = false;
            break;
        }
        if (count_fds < 2 || fds[1].revents == 0) continue;

        bool gone = false;
        if (fds[1].revents & POLLIN) {
            for (int reads = 0; reads < kMaxReadsPerWake; ++reads) {
                std::size_t got = 0;
                const auto status = loop.port.read(buffer, sizeof buffer, got);
                if (status == SerialPort::ReadStatus::gone) {
                    gone = true;
                    break;
                }
                if (status == SerialPort::ReadStatus::nothing) break;
                loop.framer.feed(std::string_view(buffer, got), handle_line);
                if (got < sizeof buffer) break;
            }
            if (loop.framer.dropped_long_lines() != loop.long_lines_seen) {
                const auto dropped = loop.framer.dropped_long_lines() - loop.long_lines_seen;
                loop.long_lines_seen = loop.framer.dropped_long_lines();
                std::string message = "dropped a line longer than max_line (" +
                                      std::to_string(loop.framer.max_line()) + " bytes)";
                log_.log_limited("long_line:" + name_, LogLevel::warning, message, context);
                loop.stats.errors["long_line"] += dropped;
                loop.stats.last_error = std::move(message);
            }
        }
        if (gone || (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL))) {
            vanish("went away");
            next_open = SteadyClock::now() + timing_.retry;
        }
        publish();
    }
    loop.port.close();
    publish();
}

}  // namespace serial

std::unique_ptr<Source> make_serial_nodes_source(const SourceConfig& config, SampleQueue& samples,
                                                 Logger& log) {
    return std::make_unique<serial::SerialNodesSource>(config, samples, log);
}

}  // namespace nodebridge
