// End to end over a pseudo-terminal: this process writes kv report lines into the master side
// of a pty as fast as the line takes them, nodebridged reads the slave side with a
// `serial-nodes` source (format kv) and publishes one JSON message per report (a per-node
// rule, QoS 0) to mosquitto, and a subscriber counts what arrives. Prints lines/s written,
// the daemon's samples/s and messages/s published (from its stats topic), and messages/s
// received, to read beside serial_parse_bench's kv figure (the parser alone, one core).
//
// Usage: serial_e2e_bench [--warmup S] [--measure S] [--nodes N]
// Only a broken setup (a process that does not start, no message at all) exits 1.

#include <fcntl.h>
#include <mosquitto.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/support.hpp"

#include "bench_broker.hpp"

namespace nodebridge::bench {
namespace {

using namespace std::chrono_literals;
using test::Process;
using test::TempDir;
using Steady = std::chrono::steady_clock;

struct Settings {
    double warmup_s = 2.0;   // after the first message, before the window opens
    double measure_s = 8.0;  // the measurement window
    int nodes = 100;         // distinct node ids the lines cycle through
};

std::atomic<bool> g_interrupted{false};  // set by SIGINT/SIGTERM so destructors still run

double seconds_since(Steady::time_point start) {
    return std::chrono::duration<double>(Steady::now() - start).count();
}

// ---- the pty ------------------------------------------------------------------------------

// A pseudo-terminal pair in raw mode. The master is non-blocking; the slave stays open here
// too, so the master never reads EIO while the daemon (re)opens the slave path.
class Pty {
  public:
    Pty() {
        master_ = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
        if (master_ < 0 || grantpt(master_) != 0 || unlockpt(master_) != 0) {
            throw std::runtime_error(std::string("posix_openpt: ") + std::strerror(errno));
        }
        char name[128];
        if (ptsname_r(master_, name, sizeof name) != 0) {
            throw std::runtime_error(std::string("ptsname_r: ") + std::strerror(errno));
        }
        slave_path_ = name;
        slave_ = open(name, O_RDWR | O_NOCTTY);
        if (slave_ < 0) throw std::runtime_error("cannot open " + slave_path_);
        termios tio{};
        tcgetattr(slave_, &tio);
        cfmakeraw(&tio);
        tcsetattr(slave_, TCSANOW, &tio);
    }
    ~Pty() {
        if (slave_ >= 0) close(slave_);
        if (master_ >= 0) close(master_);
    }
    Pty(const Pty&) = delete;
    Pty& operator=(const Pty&) = delete;

    int master() const { return master_; }
    const std::string& slave_path() const { return slave_path_; }

  private:
    int master_ = -1;
    int slave_ = -1;
    std::string slave_path_;
};

// kv lines of one fixed length, cycling over `nodes` node ids with varying readings.
std::string make_lines(int nodes, std::size_t& line_length) {
    std::string all;
    constexpr int kLines = 1000;
    for (int i = 0; i < kLines; ++i) {
        char line[160];
        const int node = i % nodes;
        const int n = std::snprintf(
            line, sizeof line, "node=0A%04X voltage=%5.1f current=%4.2f pf=0.%02d rssi=-%02d\n",
            node, 220.0 + (i % 200) / 10.0, 1.0 + (i % 99) / 100.0, 80 + i % 20, 50 + i % 40);
        if (i == 0) line_length = static_cast<std::size_t>(n);
        if (static_cast<std::size_t>(n) != line_length) throw std::logic_error("uneven lines");
        all.append(line, static_cast<std::size_t>(n));
    }
    return all;
}

// Writes `lines` into the pty master round and round until `stop`, waiting (poll, 100 ms at
// most each time) whenever the line is full. Counts bytes written; drains any echo.
class Writer {
  public:
    Writer(const Pty& pty, std::string lines) : pty_(pty), lines_(std::move(lines)) {
        thread_ = std::thread([this] { run(); });
    }
    ~Writer() {
        stop_.store(true);
        thread_.join();
    }
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    std::uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

  private:
    void run() {
        std::size_t offset = 0;
        char sink[4096];
        while (!stop_.load()) {
            pollfd fd{pty_.master(), POLLOUT | POLLIN, 0};
            if (poll(&fd, 1, 100) <= 0) continue;
            if (fd.revents & POLLIN) {
                while (read(pty_.master(), sink, sizeof sink) > 0) {
                }
            }
            if (!(fd.revents & POLLOUT)) continue;
            const ssize_t n = write(pty_.master(), lines_.data() + offset, lines_.size() - offset);
            if (n > 0) {
                bytes_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
                offset = (offset + static_cast<std::size_t>(n)) % lines_.size();
            }
        }
    }

    const Pty& pty_;
    std::string lines_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> bytes_{0};
    std::thread thread_;
};

// ---- MQTT: a counting subscriber and the daemon's stats -----------------------------------

// A number after `"key":` in a JSON text, or nullopt.
std::optional<double> json_number(std::string_view text, std::string_view key) {
    const std::string needle = "\"" + std::string(key) + "\":";
    const std::size_t at = text.find(needle);
    if (at == std::string_view::npos) return std::nullopt;
    const std::string rest(text.substr(at + needle.size(), 32));
    char* end = nullptr;
    const double value = std::strtod(rest.c_str(), &end);
    if (end == rest.c_str()) return std::nullopt;
    return value;
}

struct StatsPoint {
    Steady::time_point received;
    double uptime_s = 0;  // the daemon's clock when it took the snapshot (whole seconds)
    double samples_total = 0;
    double messages_published = 0;
    double samples_dropped = 0;   // the daemon's sample queue was full
    double messages_dropped = 0;  // the publisher's outbox was full (QoS 0 is not spooled)
};

class Counter {
  public:
    Counter(int port, std::string data_topic, std::string stats_topic)
        : data_topic_(std::move(data_topic)), stats_topic_(std::move(stats_topic)) {
        client_ = mosquitto_new(nullptr, true, this);
        if (client_ == nullptr) throw std::runtime_error("mosquitto_new failed");
        mosquitto_connect_callback_set(client_, [](mosquitto* client, void* self, int rc) {
            auto* me = static_cast<Counter*>(self);
            if (rc != 0) return;
            mosquitto_subscribe(client, nullptr, me->data_topic_.c_str(), 0);
            mosquitto_subscribe(client, nullptr, me->stats_topic_.c_str(), 0);
        });
        mosquitto_subscribe_callback_set(client_, [](mosquitto*, void* self, int, int, const int*) {
            static_cast<Counter*>(self)->subacks_.fetch_add(1);
        });
        mosquitto_message_callback_set(
            client_, [](mosquitto*, void* self, const mosquitto_message* message) {
                auto* me = static_cast<Counter*>(self);
                if (me->stats_topic_ != message->topic) {
                    me->count_.fetch_add(1, std::memory_order_relaxed);
                    return;
                }
                const std::string_view payload(static_cast<const char*>(message->payload),
                                               static_cast<std::size_t>(message->payloadlen));
                const auto samples = json_number(payload, "samples_total");
                const auto published = json_number(payload, "messages_published");
                const auto uptime = json_number(payload, "uptime_s");
                const auto samples_dropped = json_number(payload, "samples_dropped");
                const auto messages_dropped = json_number(payload, "messages_dropped");
                if (!uptime || !samples || !published || !samples_dropped || !messages_dropped)
                    return;
                std::lock_guard lock(me->mutex_);
                me->last_stats_.assign(payload.substr(0, 4096));
                me->stats_.push_back({Steady::now(), *uptime, *samples, *published,
                                      *samples_dropped, *messages_dropped});
            });
        if (mosquitto_connect(client_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS ||
            mosquitto_loop_start(client_) != MOSQ_ERR_SUCCESS) {
            mosquitto_destroy(client_);
            throw std::runtime_error("subscriber cannot connect to 127.0.0.1:" +
                                     std::to_string(port));
        }
        if (!test::wait_until([this] { return subacks_.load() >= 2; }, 10s)) {
            stop();
            throw std::runtime_error("subscriber got no SUBACK");
        }
    }
    ~Counter() { stop(); }
    Counter(const Counter&) = delete;
    Counter& operator=(const Counter&) = delete;

    std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    std::vector<StatsPoint> stats() const {
        std::lock_guard lock(mutex_);
        return stats_;
    }
    // The latest stats payload (its first 4 KiB), for the reader of stderr.
    std::string last_stats() const {
        std::lock_guard lock(mutex_);
        return last_stats_;
    }

  private:
    void stop() {
        if (client_ == nullptr) return;
        mosquitto_disconnect(client_);
        mosquitto_loop_stop(client_, true);
        mosquitto_destroy(client_);
        client_ = nullptr;
    }

    std::string data_topic_;
    std::string stats_topic_;
    mosquitto* client_ = nullptr;
    std::atomic<int> subacks_{0};
    std::atomic<std::uint64_t> count_{0};
    mutable std::mutex mutex_;
    std::vector<StatsPoint> stats_;
    std::string last_stats_;
};

std::string daemon_config(int broker_port, const std::string& device, const std::string& spool) {
    return "gateway: bench\nmqtt:\n  host: 127.0.0.1\n  port: " + std::to_string(broker_port) +
           "\n  keepalive: 30s\n  buffer:\n    dir: \"" + spool +
           "\"\n  health:\n    topic: bench/status\nstats:\n  interval: 1s\n"
           "sources:\n  - name: radio\n    type: serial-nodes\n    device: " +
           device +
           "\n    baud: 115200\n    format: kv\n"
           "mappings:\n  - name: per-node\n    match: { source: radio }\n"
           "    topic: e2e/{gateway}/{node}\n    payload: json\n    qos: 0\n";
}

// The first three fields of /proc/loadavg: other work on the machine skews every figure.
std::string load_average() {
    std::FILE* file = std::fopen("/proc/loadavg", "r");
    if (file == nullptr) return "?";
    char one[16] = "?", five[16] = "?", fifteen[16] = "?";
    const int fields = std::fscanf(file, "%15s %15s %15s", one, five, fifteen);
    std::fclose(file);
    if (fields != 3) return "?";
    return std::string(one) + " " + five + " " + fifteen;
}

std::string rate_text(double value) {
    const auto whole = static_cast<long long>(value + 0.5);
    std::string digits = std::to_string(whole < 0 ? 0 : whole);
    std::string grouped;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) grouped.push_back(',');
        grouped.push_back(digits[i]);
    }
    return grouped;
}

void sleep_checked(double seconds) {
    const auto until = Steady::now() + std::chrono::duration<double>(seconds);
    while (Steady::now() < until) {
        if (g_interrupted.load()) throw std::runtime_error("interrupted");
        std::this_thread::sleep_for(20ms);
    }
}

int run(const Settings& settings) {
    mosquitto_lib_init();
    const std::string load_before = load_average();
    TempDir dir;
    BrokerProcess broker(dir);
    Pty pty;
    std::size_t line_length = 0;
    std::string lines = make_lines(settings.nodes, line_length);
    Counter counter(broker.port(), "e2e/bench/#", "nodebridge/bench/stats");
    const std::string config =
        dir.write("e2e.yaml", daemon_config(broker.port(), pty.slave_path(), dir.file("spool")));
    Process daemon({NODEBRIDGED_PATH, "-c", config, "--log-level", "warning"},
                   dir.file("daemon.log"));
    std::fprintf(stderr, "broker 127.0.0.1:%d, pty %s, %d nodes, %zu-byte lines\n", broker.port(),
                 pty.slave_path().c_str(), settings.nodes, line_length);

    Writer writer(pty, std::move(lines));
    if (!test::wait_until([&] { return counter.count() > 0 || !daemon.running(); }, 30s) ||
        counter.count() == 0) {
        throw std::runtime_error("no message from nodebridged\n--- nodebridged log ---\n" +
                                 daemon.output());
    }
    sleep_checked(settings.warmup_s);
    const auto start = Steady::now();
    const std::uint64_t bytes_before = writer.bytes();
    const std::uint64_t received_before = counter.count();
    sleep_checked(settings.measure_s);
    const double elapsed = seconds_since(start);
    const std::uint64_t bytes_after = writer.bytes();
    const std::uint64_t received_after = counter.count();

    // The daemon's own counters, between the first and the last stats snapshot received (the
    // warm-up included), over the daemon's own clock: under overload the stats messages queue
    // behind the data in the same outbox and arrive late or not at all, so their receipt times
    // say little and there may be only a few.
    const std::vector<StatsPoint> stats = counter.stats();
    const StatsPoint* first = nullptr;
    const StatsPoint* last = nullptr;
    for (const StatsPoint& point : stats) {
        if (first == nullptr) first = &point;
        last = &point;
    }
    double samples_per_s = 0, published_per_s = 0, samples_dropped_per_s = 0,
           messages_dropped_per_s = 0;
    if (first != nullptr && last->uptime_s > first->uptime_s) {
        const double span = last->uptime_s - first->uptime_s;
        samples_per_s = (last->samples_total - first->samples_total) / span;
        published_per_s = (last->messages_published - first->messages_published) / span;
        samples_dropped_per_s = (last->samples_dropped - first->samples_dropped) / span;
        messages_dropped_per_s = (last->messages_dropped - first->messages_dropped) / span;
    }

    std::fprintf(stderr, "%zu stats messages received, daemon rates over uptime %.0f..%.0f s\n",
                 stats.size(), first ? first->uptime_s : 0.0, last ? last->uptime_s : 0.0);
    std::fprintf(stderr, "latest stats: %s\n", counter.last_stats().c_str());
    daemon.signal(SIGTERM);
    daemon.wait_for_exit(15s);
    if (!daemon.output().empty()) {
        std::fprintf(stderr, "nodebridged logged (warning and above):\n%s\n",
                     daemon.output().substr(0, 2000).c_str());
    }

    const double lines_per_s =
        static_cast<double>((bytes_after - bytes_before) / line_length) / elapsed;
    const double received_per_s = static_cast<double>(received_after - received_before) / elapsed;
    std::printf("\n## serial-nodes end to end (pty -> nodebridged -> mosquitto -> subscriber)\n\n");
    std::printf(
        "kv lines of %zu bytes over %d nodes, written into a pty as fast as it takes them; "
        "one per-node JSON message per line, QoS 0; %.0f s window after %.0f s warm-up.\n"
        "(daemon) columns: its stats counters over its own uptime, first to last stats message "
        "received (warm-up included). Load average before: %s, after: %s.\n\n",
        line_length, settings.nodes, settings.measure_s, settings.warmup_s, load_before.c_str(),
        load_average().c_str());
    std::printf(
        "| lines/s written | samples/s (daemon) | samples dropped/s (daemon) | msg/s published "
        "(daemon) | "
        "msg dropped/s, outbox full (daemon) | msg/s received |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|\n");
    std::printf("| %s | %s | %s | %s | %s | %s |\n\n", rate_text(lines_per_s).c_str(),
                rate_text(samples_per_s).c_str(), rate_text(samples_dropped_per_s).c_str(),
                rate_text(published_per_s).c_str(), rate_text(messages_dropped_per_s).c_str(),
                rate_text(received_per_s).c_str());
    std::fflush(stdout);
    return 0;
}

bool parse_positive(const char* text, double limit, double& out) {
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(value > 0) || value > limit) return false;
    out = value;
    return true;
}

}  // namespace
}  // namespace nodebridge::bench

int main(int argc, char** argv) {
    using namespace nodebridge::bench;
    Settings settings;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        double nodes = 0;
        bool ok = i + 1 < argc;
        if (ok && arg == "--warmup") {
            ok = parse_positive(argv[i + 1], 600, settings.warmup_s);
        } else if (ok && arg == "--measure") {
            ok = parse_positive(argv[i + 1], 600, settings.measure_s);
        } else if (ok && arg == "--nodes") {
            ok = parse_positive(argv[i + 1], 65535, nodes);
            settings.nodes = static_cast<int>(nodes);
            ok = ok && settings.nodes >= 1;
        } else {
            ok = false;
        }
        if (!ok) {
            std::fprintf(stderr, "usage: %s [--warmup S] [--measure S] [--nodes N]\n", argv[0]);
            return 64;
        }
        ++i;
    }
    struct sigaction action {};
    action.sa_handler = [](int) { g_interrupted.store(true); };
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    try {
        return run(settings);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "serial_e2e_bench: %s\n", error.what());
        return g_interrupted.load() ? 130 : 1;
    }
}
