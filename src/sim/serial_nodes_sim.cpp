// nodebridge-sim serial-nodes: a wireless receiver on a pseudo-terminal, printing one report
// line per reading of simulated power and environmental monitors.
//
//   nodebridge-sim serial-nodes --link PATH [--nodes N] [--format kv|json|csv]
//                               [--baud B --check-line]
//                               [--interval T] [--garbage PERCENT] [--dropouts yes|no]
//                               [--seed S]
//
// Nodes 0, 2, 4, ... are power monitors (voltage, current, power, energy, pf, rssi); odd nodes
// are environmental monitors (temperature, humidity, rssi). Ids are hex: 0A1B00, 0A1B01, ...
// Each node reports every T (default 1s; "250ms", "2s", "1m"), phase-shifted and with 5%
// jitter. --garbage (default 2) is the percentage of reports replaced by a garbage line
// (noise bytes, invalid UTF-8, a truncated report). --dropouts yes (default) lets a node fall
// silent now and then for 3 to 8 intervals; "no" keeps every node reporting, for tests.
// Formats:
//   kv   node=0A1B00 voltage=229.8 current=1.92 power=420.1 energy=0.012 pf=0.97 rssi=-71
//   json {"id":"0A1B01","model":"env-monitor","env":{"temperature":21.5,"humidity":40.2},...}
//   csv  node,voltage,current,power,energy,pf,temperature,humidity,rssi (empty when n/a)
// Prints "ready serial-nodes PATH -> /dev/pts/N nodes N format F" once the link exists.
// SIGTERM/SIGINT remove the link and exit 0; bad arguments exit 64.

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "commands.hpp"
#include "options.hpp"
#include "pty_link.hpp"
#include "stop_signals.hpp"

namespace nodebridge::sim {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

enum class Format { kv, json, csv };

struct SimNode {
    std::string id;
    bool power = false;  // power monitor, else environmental monitor
    Clock::time_point next_report;
    Clock::time_point silent_until;
    double current = 0;  // A, random walk
    double energy = 0;   // kWh, accumulates
    double temperature = 0;
    double humidity = 0;
};

// "250ms", "2s", "1m", or a bare number of seconds.
std::optional<milliseconds> parse_interval(std::string_view text) {
    double number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || !(number > 0)) return std::nullopt;
    const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    double scale;
    if (unit.empty() || unit == "s") {
        scale = 1000;
    } else if (unit == "ms") {
        scale = 1;
    } else if (unit == "m") {
        scale = 60'000;
    } else {
        return std::nullopt;
    }
    const double ms = number * scale;
    if (ms < 1 || ms > 86'400'000) return std::nullopt;
    return milliseconds(static_cast<long>(ms));
}

class Receiver {
  public:
    Receiver(Format format, int nodes, milliseconds interval, int garbage_percent, bool dropouts,
             std::uint64_t seed)
        : format_(format),
          interval_(interval),
          garbage_percent_(garbage_percent),
          dropouts_(dropouts),
          random_(seed) {
        const auto now = Clock::now();
        std::uniform_real_distribution<double> phase(0, 1);
        for (int i = 0; i < nodes; ++i) {
            SimNode node;
            char id[16];
            std::snprintf(id, sizeof id, "%06X", 0x0A1B00 + i);
            node.id = id;
            node.power = i % 2 == 0;
            node.next_report =
                now + std::chrono::duration_cast<Clock::duration>(interval * phase(random_));
            node.current = 1 + (i % 7);
            node.temperature = 19 + (i % 5);
            node.humidity = 35 + (i % 20);
            nodes_.push_back(node);
        }
    }

    Clock::time_point next_due() const {
        auto due = Clock::time_point::max();
        for (const SimNode& node : nodes_) due = std::min(due, node.next_report);
        return due;
    }

    // Appends the lines due at `now` to `out`.
    void emit_due(Clock::time_point now, std::string& out) {
        std::uniform_real_distribution<double> jitter(0.95, 1.05);
        std::uniform_int_distribution<int> percent(0, 99);
        for (SimNode& node : nodes_) {
            if (node.next_report > now) continue;
            node.next_report +=
                std::chrono::duration_cast<Clock::duration>(interval_ * jitter(random_));
            if (node.next_report <= now) node.next_report = now + interval_;
            step(node);
            if (node.silent_until > now) continue;
            if (dropouts_ && percent(random_) < 2) {
                std::uniform_int_distribution<int> intervals(3, 8);
                node.silent_until = now + interval_ * intervals(random_);
                continue;
            }
            if (percent(random_) < garbage_percent_) {
                append_garbage(out);
            } else {
                append_report(node, out);
            }
        }
    }

  private:
    double noise(double spread) { return std::normal_distribution<double>(0, spread)(random_); }

    void step(SimNode& node) {
        const double hours = std::chrono::duration<double>(interval_).count() / 3600;
        node.current = std::clamp(node.current + noise(0.2), 0.1, 16.0);
        node.energy += 230 * node.current * 0.95 * hours / 1000;
        node.temperature = std::clamp(node.temperature + noise(0.05), -20.0, 50.0);
        node.humidity = std::clamp(node.humidity + noise(0.2), 5.0, 95.0);
    }

    void append_report(const SimNode& node, std::string& out) {
        const double voltage = 230 + noise(1.0);
        const double pf = std::clamp(0.95 + noise(0.02), 0.5, 1.0);
        const double power = voltage * node.current * pf;
        const int rssi = -50 - static_cast<int>(std::abs(noise(15)));
        const double temperature = node.temperature + noise(0.1);
        const double humidity = node.humidity + noise(0.3);
        char line[512];
        int n = 0;
        switch (format_) {
            case Format::kv:
                n = node.power ? std::snprintf(line, sizeof line,
                                               "node=%s voltage=%.1f current=%.2f power=%.1f "
                                               "energy=%.4f pf=%.2f rssi=%d\r\n",
                                               node.id.c_str(), voltage, node.current, power,
                                               node.energy, pf, rssi)
                               : std::snprintf(line, sizeof line,
                                               "node=%s temperature=%.1f humidity=%.1f rssi=%d\r\n",
                                               node.id.c_str(), temperature, humidity, rssi);
                break;
            case Format::json:
                n = node.power
                        ? std::snprintf(line, sizeof line,
                                        "{\"id\":\"%s\",\"model\":\"power-monitor\",\"voltage\":%."
                                        "1f,\"current\":%.2f,\"power\":%.1f,\"energy\":%.4f,"
                                        "\"pf\":%.2f,\"rssi\":%d}\n",
                                        node.id.c_str(), voltage, node.current, power, node.energy,
                                        pf, rssi)
                        : std::snprintf(line, sizeof line,
                                        "{\"id\":\"%s\",\"model\":\"env-monitor\",\"env\":{"
                                        "\"temperature\":%.1f,\"humidity\":%.1f},\"rssi\":%d}\n",
                                        node.id.c_str(), temperature, humidity, rssi);
                break;
            case Format::csv:
                n = node.power
                        ? std::snprintf(line, sizeof line, "%s,%.1f,%.2f,%.1f,%.4f,%.2f,,,%d\n",
                                        node.id.c_str(), voltage, node.current, power, node.energy,
                                        pf, rssi)
                        : std::snprintf(line, sizeof line, "%s,,,,,,%.1f,%.1f,%d\n",
                                        node.id.c_str(), temperature, humidity, rssi);
                break;
        }
        if (n > 0) out.append(line, static_cast<std::size_t>(std::min<int>(n, sizeof line - 1)));
    }

    void append_garbage(std::string& out) {
        std::uniform_int_distribution<int> kind(0, 2);
        switch (kind(random_)) {
            case 0: {  // line noise
                std::uniform_int_distribution<int> byte(0x21, 0x7e);
                for (int i = 0; i < 12; ++i) out += static_cast<char>(byte(random_));
                break;
            }
            case 1:
                out += "node=\xff\xfe\xfd v=1";
                break;  // invalid UTF-8
            default:
                out += format_ == Format::json ? "{\"id\":\"0A1B" : "voltage=229";
                break;
        }
        out += '\n';
    }

    Format format_;
    milliseconds interval_;
    int garbage_percent_;
    bool dropouts_;
    std::mt19937_64 random_;
    std::vector<SimNode> nodes_;
};

int usage_error(const std::string& message) {
    std::fprintf(stderr, "nodebridge-sim serial-nodes: %s\n", message.c_str());
    return 64;
}

// --baud B --check-line: whether the client set the pty to B (tcgetattr on the master reads
// the slave's settings). A receiver heard at another baud rate gives bytes that are no text.
bool line_at(int master, long baud) {
    termios tio{};
    if (tcgetattr(master, &tio) != 0) return false;
    const speed_t speed = cfgetispeed(&tio);
    const std::pair<long, speed_t> known[] = {
        {1200, B1200},   {2400, B2400},   {4800, B4800},     {9600, B9600},    {19200, B19200},
        {38400, B38400}, {57600, B57600}, {115200, B115200}, {230400, B230400}};
    for (const auto& [rate, code] : known) {
        if (rate == baud) return speed == code;
    }
    return false;
}

// What a line sent at another baud rate looks like at the client: other bytes, mostly with the
// high bit set (not UTF-8), and no line ends.
void garble(std::string& bytes) {
    for (char& c : bytes) c = static_cast<char>((static_cast<unsigned char>(c) * 7u) | 0x80u);
}

}  // namespace

int run_serial_nodes(Args args) {
    Options options(args,
                    {"link", "nodes", "format", "interval", "garbage", "dropouts", "seed", "baud",
                     "check-line"},
                    {"check-line"});
    const long baud = options.integer("baud", 1200, 230400).value_or(9600);
    const bool check_line = options.flag("check-line");
    const auto link = options.text("link");
    const long nodes = options.integer("nodes", 1, 10'000).value_or(4);
    const long garbage = options.integer("garbage", 0, 100).value_or(2);
    const long seed =
        options.integer("seed", 0, 1L << 62)
            .value_or(static_cast<long>(Clock::now().time_since_epoch().count() & 0x3fffffff));
    if (!options.ok()) return usage_error(options.error());
    if (!link) return usage_error("--link PATH is required");

    Format format = Format::kv;
    const std::string format_name = options.text("format").value_or("kv");
    if (format_name == "json") {
        format = Format::json;
    } else if (format_name == "csv") {
        format = Format::csv;
    } else if (format_name != "kv") {
        return usage_error("--format must be kv, json or csv");
    }
    const auto interval = parse_interval(options.text("interval").value_or("1s"));
    if (!interval) return usage_error("--interval must be like 250ms, 2s or 1m");
    const std::string dropouts = options.text("dropouts").value_or("yes");
    if (dropouts != "yes" && dropouts != "no") return usage_error("--dropouts must be yes or no");

    StopSignals stop;
    if (stop.fd() < 0) {
        std::perror("nodebridge-sim: signalfd");
        return 1;
    }
    PtyLink pty(*link);
    if (!pty.ok()) {
        std::fprintf(stderr, "nodebridge-sim serial-nodes: %s\n", pty.error().c_str());
        return 1;
    }
    Receiver receiver(format, static_cast<int>(nodes), *interval, static_cast<int>(garbage),
                      dropouts == "yes", static_cast<std::uint64_t>(seed));
    std::printf("ready serial-nodes %s -> %s nodes %ld format %s\n", link->c_str(),
                pty.slave_path().c_str(), nodes, format_name.c_str());
    std::fflush(stdout);

    std::string out;
    char discard[256];
    for (;;) {
        const auto now = Clock::now();
        out.clear();
        receiver.emit_due(now, out);
        if (!out.empty() && check_line && !line_at(pty.master_fd(), baud)) garble(out);
        if (!out.empty()) {
            // Nobody reading fills the pty buffer: drop what does not fit, as a radio would.
            [[maybe_unused]] const ssize_t n = ::write(pty.master_fd(), out.data(), out.size());
        }
        const auto wait = std::chrono::ceil<milliseconds>(receiver.next_due() - Clock::now());
        pollfd fds[2] = {{stop.fd(), POLLIN, 0}, {pty.master_fd(), POLLIN, 0}};
        const int timeout = static_cast<int>(std::clamp<long>(wait.count(), 0, 1000));
        if (::poll(fds, 2, timeout) < 0 && errno != EINTR) {
            std::perror("nodebridge-sim: poll");
            return 1;
        }
        if (fds[0].revents & POLLIN) {
            stop.take();
            return 0;
        }
        if (fds[1].revents & POLLIN) {
            // Requests from a polling client are read and ignored: the nodes report anyway.
            while (::read(pty.master_fd(), discard, sizeof discard) > 0) {
            }
        }
    }
}

}  // namespace nodebridge::sim
