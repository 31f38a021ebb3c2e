// Many Modbus TCP devices from one event loop (issue #21): nodebridged beside its floor
// (tcp_floor: a bare single-threaded program doing the same socket work), one after the other
// in the same run, against the same nodebridge-sim and the same mosquitto:
//   A. 5,000 nodes x 20 float32 attributes on 25 endpoints, poll 1 s (100,000 attr/s),
//      per-node JSON at QoS 0; also the pre-event-loop daemon when --old-daemon is given;
//   B. the same 5,000 nodes as 1,000 endpoints x 5 units (one simulator, --ports 1000; the
//      daemon's config is one `hosts:` entry);
//   C. per-node JSON flat out, 100 nodes on one endpoint, max_in_flight 1 and 8, beside the
//      floor with a window of 1 and 8 requests, each --rounds times, judged on the means;
//   D. 10,000 attributes/s evenly paced (100 nodes x 20 attributes every 200 ms,
//      per-attribute JSON, QoS 0): p99 of receipt - "ts" within the floor's p99 + 1 ms
//      (issue #14's bound: the evenly paced bare loop + 1 ms).
// For each it prints CPU (% of one core, /proc utime + stime over the window), threads,
// VmRSS and open file descriptors at the window's end, readings delivered against those
// expected, and the floor's figures with the ratio. Targets print PASS/MISS and never change
// the exit status; only a broken setup exits 1.
//
// Usage: tcp_gateway_bench [--warmup S] [--measure S] [--old-daemon PATH] [--rounds N]
//                          [--only ABCD]

#include <mosquitto.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench_broker.hpp"
#include "bench_measure.hpp"
#include "bench_sim.hpp"
#include "support/support.hpp"

namespace nodebridge::bench {
namespace {

using namespace std::chrono_literals;
using test::Process;
using test::TempDir;

constexpr int kAttributes = 20;

struct Settings {
    double warmup_s = 5;
    double measure_s = 20;
    std::string old_daemon;
    std::string only = "ABCD";
    int rounds = 2;  // A, B and C: the cases alternate, the order changed each round
};

// What one program did over one window.
struct Figures {
    double cpu = 0;         // % of one core
    double broker_cpu = 0;  // the broker's and the simulator's, for the reading
    double sim_cpu = 0;
    long threads = 0;
    long rss_kib = 0;
    long fds = 0;
    double attributes_per_s = 0;  // delivered to the subscriber
    double messages_per_s = 0;
    Percentiles latency;
    bool ran = false;
};

long fd_count(pid_t pid) {
    std::error_code error;
    long count = 0;
    for (auto it =
             std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error);
         !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
        ++count;
    }
    return count;
}

// Runs `args` (nodebridged or tcp_floor), waits for its first message on `topic`, warms up,
// measures one window, stops it with SIGTERM.
Figures measure(const Settings& settings, const TempDir& dir, const std::string& name,
                const BrokerProcess& broker, const SimProcess& sim,
                const std::vector<std::string>& args, const std::string& topic,
                int attributes_per_message) {
    Receiver receiver(broker.port(), topic, 0);
    Process program(args, dir.file(name + ".log"));
    if (!test::wait_until([&] { return receiver.count() > 0 || !program.running(); }, 60s) ||
        receiver.count() == 0) {
        throw std::runtime_error(name + ": no message within 60 s\n" + program.output());
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(settings.warmup_s));
    const std::int64_t from = wall_us();
    CpuMeter cpu({program.pid(), broker.pid(), sim.pid()});
    std::this_thread::sleep_for(std::chrono::duration<double>(settings.measure_s));
    const std::int64_t to = wall_us();
    Figures figures;
    const std::vector<double> percent = cpu.percent();
    figures.cpu = percent.at(0);
    figures.broker_cpu = percent.at(1);
    figures.sim_cpu = percent.at(2);
    figures.threads = status_kib(program.pid(), "Threads:");
    figures.rss_kib = status_kib(program.pid(), "VmRSS:");
    figures.fds = fd_count(program.pid());
    if (!program.running()) throw std::runtime_error(name + ": exited\n" + program.output());
    program.signal(SIGTERM);
    program.wait_for_exit(15s);
    auto [received, latencies] = receiver.window(from, to);
    const double seconds = static_cast<double>(to - from) / 1e6;
    figures.messages_per_s = static_cast<double>(received) / seconds;
    figures.attributes_per_s = figures.messages_per_s * attributes_per_message;
    figures.latency = percentiles(std::move(latencies));
    figures.ran = true;
    std::fprintf(stderr, "%s: %.0f attr/s, CPU %.1f%%, %ld threads, VmRSS %.1f MiB, %ld fds\n",
                 name.c_str(), figures.attributes_per_s, figures.cpu, figures.threads,
                 static_cast<double>(figures.rss_kib) / 1024.0, figures.fds);
    return figures;
}

// The attributes of one node: a0..a19, float32 input registers 0, 2, ..., 38.
std::string attribute_map() {
    std::string map = "{ ";
    for (int a = 0; a < kAttributes; ++a) {
        if (a > 0) map += ", ";
        map += "a" + std::to_string(a) + ": { table: input, address: " + std::to_string(2 * a) +
               ", type: float32, unit: V }";
    }
    return map + " }";
}

struct DaemonShape {
    int units = 1;  // per endpoint, 1..units
    std::string poll = "1s";
    int max_in_flight = 0;       // 0: not set (the default, 1; the old daemon has no such key)
    bool hosts_entry = false;    // one `hosts:` entry instead of one entry per endpoint
    bool per_attribute = false;  // per-attribute JSON instead of per node
};

// A config polling every node of `ports` as tcp_floor does, publishing JSON at QoS 0 to
// bench/bench/e<k>-<unit>[/<attribute>], memory only (no spool).
std::string daemon_config(int broker_port, const std::vector<int>& ports,
                          const DaemonShape& shape) {
    std::string yaml =
        "gateway: bench\nmqtt:\n  host: 127.0.0.1\n  port: " + std::to_string(broker_port) +
        "\n  keepalive: 30s\n  buffer:\n    dir: \"\"\n  health:\n    topic: "
        "bench/status\nsources:\n";
    const std::string in_flight =
        shape.max_in_flight > 0 ? "    max_in_flight: " + std::to_string(shape.max_in_flight) + "\n"
                                : "";
    auto nodes = [&](const std::string& prefix) {
        return "    nodes:\n      - { id: \"" + prefix + "-{unit}\", units: 1-" +
               std::to_string(shape.units) + ", poll: " + shape.poll +
               ", attributes: " + attribute_map() + " }\n";
    };
    if (shape.hosts_entry) {
        yaml += "  - name: \"e{index}\"\n    type: modbus-tcp\n    hosts: [";
        for (std::size_t i = 0; i < ports.size(); ++i) {
            if (i > 0) yaml += ", ";
            yaml += "\"127.0.0.1:" + std::to_string(ports[i]) + "\"";
        }
        yaml += "]\n    timeout: 1s\n" + in_flight + nodes("e{index}");
    } else {
        for (std::size_t i = 0; i < ports.size(); ++i) {
            const std::string name = "e" + std::to_string(i + 1);
            yaml += "  - name: " + name +
                    "\n    type: modbus-tcp\n    host: 127.0.0.1\n    port: " +
                    std::to_string(ports[i]) + "\n    timeout: 1s\n" + in_flight + nodes(name);
        }
    }
    yaml += "mappings:\n  - name: bench\n    match: { source: \"*\" }\n    topic: " +
            std::string(shape.per_attribute ? "bench/{gateway}/{node}/{attribute}"
                                            : "bench/{gateway}/{node}") +
            "\n    payload: json\n    qos: 0\n";
    return yaml;
}

std::vector<std::string> daemon_args(const std::string& binary, const std::string& config) {
    return {binary, "-c", config, "--log-level", "warning"};
}

std::string port_list(const std::vector<int>& ports) {
    std::string text;
    for (int port : ports) {
        if (!text.empty()) text += ',';
        text += std::to_string(port);
    }
    return text;
}

std::vector<std::string> floor_args(int broker_port, const std::vector<int>& ports, int units,
                                    const std::vector<std::string>& more) {
    std::vector<std::string> args{TCP_FLOOR_PATH,
                                  "--broker-port",
                                  std::to_string(broker_port),
                                  "--ports",
                                  port_list(ports),
                                  "--units",
                                  std::to_string(units),
                                  "--attributes",
                                  std::to_string(kAttributes)};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

const char* verdict(bool pass) { return pass ? "PASS" : "MISS"; }

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }

void row(const char* what, const Figures& f, double expected_attributes) {
    if (!f.ran) return;
    std::printf("| %s | %.1f | %ld | %.1f | %ld | %s of %s (%.2f%%) | %.0f / %.0f |\n", what, f.cpu,
                f.threads, mib(f.rss_kib), f.fds, rate_text(f.attributes_per_s).c_str(),
                rate_text(expected_attributes).c_str(),
                expected_attributes > 0 ? 100.0 * f.attributes_per_s / expected_attributes : 0.0,
                f.broker_cpu, f.sim_cpu);
}

void header() {
    std::printf(
        "| program | CPU %% | threads | VmRSS MiB | fds | attr/s delivered of expected | "
        "broker / sim CPU %% |\n|---|---:|---:|---:|---:|---|---|\n");
}

// The targets of the 5,000-node scenarios: CPU at most 1.3x the floor's, at most 8 threads,
// VmRSS at most 24 MiB, every reading delivered (99.5%: a window's edges cut a few).
void targets(const Figures& daemon, const Figures& floor, double expected, long endpoints) {
    const double ratio = floor.cpu > 0 ? daemon.cpu / floor.cpu : 0;
    const double delivered = expected > 0 ? daemon.attributes_per_s / expected : 0;
    std::printf(
        "\nnodebridged / floor CPU: **%.2fx** (%s: <= 1.3x); threads %ld (%s: <= 8); "
        "VmRSS %.1f MiB (%s: <= 24 MiB); delivered %.2f%% (%s: >= 99.5%%); fds %ld for "
        "%ld endpoints\n",
        ratio, verdict(ratio > 0 && ratio <= 1.3), daemon.threads, verdict(daemon.threads <= 8),
        mib(daemon.rss_kib), verdict(daemon.rss_kib <= 24 * 1024), 100.0 * delivered,
        verdict(delivered >= 0.995), daemon.fds, endpoints);
}

// The mean of several rounds' figures: CPU and rates averaged, threads, VmRSS and fds the
// highest seen.
Figures mean(const std::vector<Figures>& rounds) {
    Figures out;
    for (const Figures& f : rounds) {
        out.cpu += f.cpu / static_cast<double>(rounds.size());
        out.broker_cpu += f.broker_cpu / static_cast<double>(rounds.size());
        out.sim_cpu += f.sim_cpu / static_cast<double>(rounds.size());
        out.attributes_per_s += f.attributes_per_s / static_cast<double>(rounds.size());
        out.messages_per_s += f.messages_per_s / static_cast<double>(rounds.size());
        out.threads = std::max(out.threads, f.threads);
        out.rss_kib = std::max(out.rss_kib, f.rss_kib);
        out.fds = std::max(out.fds, f.fds);
        out.ran = true;
    }
    return out;
}

struct Rounds {
    std::vector<Figures> daemons, floors;
};

// Runs the daemon and the floor `rounds` times, alternating which goes first, so a change in
// the machine's load falls on both.
Rounds alternate(const Settings& settings, const std::function<Figures(int)>& daemon,
                 const std::function<Figures(int)>& floor) {
    Rounds rounds;
    for (int round = 1; round <= settings.rounds; ++round) {
        if (round % 2 == 1) {
            rounds.daemons.push_back(daemon(round));
            rounds.floors.push_back(floor(round));
        } else {
            rounds.floors.push_back(floor(round));
            rounds.daemons.push_back(daemon(round));
        }
    }
    return rounds;
}

// The table's header and a row for each run.
void print_rounds(const Rounds& rounds, double expected) {
    header();
    for (std::size_t i = 0; i < rounds.daemons.size(); ++i) {
        const std::string round = " (round " + std::to_string(i + 1) + ")";
        row(("nodebridged" + round).c_str(), rounds.daemons[i], expected);
        row(("floor" + round).c_str(), rounds.floors[i], expected);
    }
}

// Each round's CPU ratio, then the targets on the means.
void print_targets(const Rounds& rounds, double expected, long endpoints) {
    std::printf("\nCPU nodebridged / floor per round:");
    for (std::size_t i = 0; i < rounds.daemons.size(); ++i) {
        const double floor = rounds.floors[i].cpu;
        std::printf(" %.2fx", floor > 0 ? rounds.daemons[i].cpu / floor : 0.0);
    }
    std::printf("\nMeans over the rounds (load now %s):\n", load_average().c_str());
    targets(mean(rounds.daemons), mean(rounds.floors), expected, endpoints);
}

int run(const Settings& settings) {
    mosquitto_lib_init();
    TempDir dir;
    BrokerProcess broker(dir);
    const std::string load_before = load_average();
    auto wants = [&](char scenario) { return settings.only.find(scenario) != std::string::npos; };
    std::printf("## Modbus TCP from one event loop (tcp_gateway_bench)\n\n");
    std::printf(
        "%ld CPU cores, %.0f s windows after %.0f s warm-up; load average (1/5/15 min) "
        "before: %s\n",
        sysconf(_SC_NPROCESSORS_ONLN), settings.measure_s, settings.warmup_s, load_before.c_str());
    std::fflush(stdout);

    if (wants('A')) {
        SimProcess sim(dir, "sim-a", 200, kAttributes, {"--ports", "25"});
        const DaemonShape shape{.units = 200};
        const std::string config =
            dir.write("a.yaml", daemon_config(broker.port(), sim.ports(), shape));
        const double expected = 5000.0 * kAttributes;
        std::printf(
            "\n### A. 5,000 nodes x 20 attributes on 25 endpoints, poll 1 s, per-node "
            "JSON QoS 0 (load before %s)\n\n",
            load_average().c_str());
        const Rounds rounds = alternate(
            settings,
            [&](int round) {
                return measure(settings, dir, "a-daemon-" + std::to_string(round), broker, sim,
                               daemon_args(NODEBRIDGED_PATH, config), "bench/bench/#", kAttributes);
            },
            [&](int round) {
                return measure(settings, dir, "a-floor-" + std::to_string(round), broker, sim,
                               floor_args(broker.port(), sim.ports(), 200, {"--period-ms", "1000"}),
                               "bench/floor/#", kAttributes);
            });
        Figures old;
        if (!settings.old_daemon.empty()) {
            old = measure(settings, dir, "a-old-daemon", broker, sim,
                          daemon_args(settings.old_daemon, config), "bench/bench/#", kAttributes);
        }
        print_rounds(rounds, expected);
        row("nodebridged before the event loop (e15b1ae)", old, expected);
        print_targets(rounds, expected, 25);
        const Figures floor = mean(rounds.floors);
        if (old.ran && floor.cpu > 0) {
            std::printf("before the event loop: %.2fx the floor's mean CPU, %ld threads\n",
                        old.cpu / floor.cpu, old.threads);
        }
        std::fflush(stdout);
    }

    if (wants('B')) {
        SimProcess sim(dir, "sim-b", 5, kAttributes, {"--ports", "1000"});
        const DaemonShape shape{.units = 5, .hosts_entry = true};
        const std::string config =
            dir.write("b.yaml", daemon_config(broker.port(), sim.ports(), shape));
        const double expected = 5000.0 * kAttributes;
        std::printf(
            "\n### B. 5,000 nodes as 1,000 endpoints x 5 units (one `hosts:` entry), "
            "poll 1 s, per-node JSON QoS 0 (load before %s)\n\n",
            load_average().c_str());
        const Rounds rounds = alternate(
            settings,
            [&](int round) {
                return measure(settings, dir, "b-daemon-" + std::to_string(round), broker, sim,
                               daemon_args(NODEBRIDGED_PATH, config), "bench/bench/#", kAttributes);
            },
            [&](int round) {
                return measure(settings, dir, "b-floor-" + std::to_string(round), broker, sim,
                               floor_args(broker.port(), sim.ports(), 5, {"--period-ms", "1000"}),
                               "bench/floor/#", kAttributes);
            });
        print_rounds(rounds, expected);
        print_targets(rounds, expected, 1000);
        std::fflush(stdout);
    }

    if (wants('C')) {
        SimProcess sim(dir, "sim-c", 100, kAttributes);
        const std::vector<int> ports{sim.port()};
        auto daemon_case = [&](int in_flight) {
            const DaemonShape shape{.units = 100, .poll = "1ms", .max_in_flight = in_flight};
            const std::string name = "c-daemon-" + std::to_string(in_flight);
            const std::string config =
                dir.write(name + ".yaml", daemon_config(broker.port(), ports, shape));
            return measure(settings, dir, name, broker, sim, daemon_args(NODEBRIDGED_PATH, config),
                           "bench/bench/#", kAttributes);
        };
        auto floor_case = [&](int window) {
            return measure(settings, dir, "c-floor-" + std::to_string(window), broker, sim,
                           floor_args(broker.port(), ports, 100,
                                      {"--flat-out", "--window", std::to_string(window)}),
                           "bench/floor/#", kAttributes);
        };
        // Each round runs the four cases, the order rotated each round, and the verdicts are
        // on the means over the rounds, as for A and B: one request in flight is a strict
        // ping-pong between two processes whose rate on two cores depends on where the
        // scheduler puts them (350,000 or 1,040,000 attr/s in runs of one binary).
        std::vector<Figures> ones, eights, floor_ones, floor_eights;
        for (int round = 0; round < settings.rounds; ++round) {
            for (int k = 0; k < 4; ++k) {
                switch ((k + round) % 4) {
                    case 0:
                        ones.push_back(daemon_case(1));
                        break;
                    case 1:
                        eights.push_back(daemon_case(8));
                        break;
                    case 2:
                        floor_ones.push_back(floor_case(1));
                        break;
                    default:
                        floor_eights.push_back(floor_case(8));
                        break;
                }
            }
        }
        const Figures one = mean(ones);
        const Figures eight = mean(eights);
        const Figures floor_one = mean(floor_ones);
        const Figures floor_eight = mean(floor_eights);
        std::printf(
            "\n### C. Per-node JSON flat out, 100 nodes x 20 attributes on one endpoint "
            "(load now %s)\n\n",
            load_average().c_str());
        std::printf(
            "| program | attr/s | msg/s | CPU %% | threads | broker / sim CPU %% |\n"
            "|---|---:|---:|---:|---:|---|\n");
        auto flat_row = [](const char* what, const Figures& f) {
            std::printf("| %s | %s | %s | %.1f | %ld | %.0f / %.0f |\n", what,
                        rate_text(f.attributes_per_s).c_str(), rate_text(f.messages_per_s).c_str(),
                        f.cpu, f.threads, f.broker_cpu, f.sim_cpu);
        };
        flat_row("nodebridged, max_in_flight 1", one);
        flat_row("nodebridged, max_in_flight 8", eight);
        flat_row("floor, 1 request in flight", floor_one);
        flat_row("floor, 8 requests in flight", floor_eight);
        auto per_round = [](const char* what, const std::vector<Figures>& rounds) {
            std::printf("%s", what);
            for (const Figures& f : rounds)
                std::printf(" %s", rate_text(f.attributes_per_s).c_str());
            std::printf("\n");
        };
        std::printf("\nattr/s per round (the table gives the means):\n");
        per_round("- nodebridged, max_in_flight 1:", ones);
        per_round("- nodebridged, max_in_flight 8:", eights);
        per_round("- floor, 1 in flight:", floor_ones);
        per_round("- floor, 8 in flight:", floor_eights);
        const double gain =
            one.attributes_per_s > 0 ? eight.attributes_per_s / one.attributes_per_s : 0;
        const double share = floor_eight.attributes_per_s > 0
                                 ? eight.attributes_per_s / floor_eight.attributes_per_s
                                 : 0;
        std::printf(
            "\nmax_in_flight 8 / 1: **%.2fx** (%s: >= 2x); max_in_flight 8 / floor with 8: "
            "**%.0f%%** (%s: >= 90%%)\n",
            gain, verdict(gain >= 2), 100 * share, verdict(share >= 0.9));
        std::fflush(stdout);
    }

    if (wants('D')) {
        SimProcess sim(dir, "sim-d", 100, kAttributes);
        const std::vector<int> ports{sim.port()};
        const DaemonShape shape{.units = 100, .poll = "200ms", .per_attribute = true};
        const std::string config = dir.write("d.yaml", daemon_config(broker.port(), ports, shape));
        const Figures daemon = measure(settings, dir, "d-daemon", broker, sim,
                                       daemon_args(NODEBRIDGED_PATH, config), "bench/bench/#", 1);
        const Figures floor = measure(
            settings, dir, "d-floor", broker, sim,
            floor_args(broker.port(), ports, 100, {"--period-ms", "200", "--shape", "attribute"}),
            "bench/floor/#", 1);
        std::printf(
            "\n### D. 10,000 attributes/s evenly paced: 100 nodes x 20 every 200 ms, "
            "per-attribute JSON QoS 0 (load now %s)\n\n",
            load_average().c_str());
        std::printf(
            "| program | attr/s | p50 ms | p99 ms | max ms | CPU %% | threads |\n"
            "|---|---:|---:|---:|---:|---:|---:|\n");
        auto paced_row = [](const char* what, const Figures& f) {
            std::printf("| %s | %s | %s | %s | %s | %.1f | %ld |\n", what,
                        rate_text(f.attributes_per_s).c_str(), ms_text(f.latency.p50_ms).c_str(),
                        ms_text(f.latency.p99_ms).c_str(), ms_text(f.latency.max_ms).c_str(), f.cpu,
                        f.threads);
        };
        paced_row("nodebridged", daemon);
        paced_row("floor (evenly paced bare loop)", floor);
        std::printf(
            "\nLatency: subscriber receipt - payload \"ts\" (the reply's time, truncated to "
            "the ms). p99 %.2f ms against the floor's %.2f ms + 1 ms (%s, issue #14's "
            "bound)\n",
            daemon.latency.p99_ms, floor.latency.p99_ms,
            verdict(daemon.latency.count > 0 &&
                    daemon.latency.p99_ms <= floor.latency.p99_ms + 1.0));
        std::fflush(stdout);
    }
    std::printf("\nLoad average (1/5/15 min) after: %s\n", load_average().c_str());
    return 0;
}

bool parse_seconds(const char* text, double& out) {
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(value > 0) || value > 600) return false;
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
        const bool has_value = i + 1 < argc;
        bool ok = has_value;
        if (ok && arg == "--warmup") {
            ok = parse_seconds(argv[++i], settings.warmup_s);
        } else if (ok && arg == "--measure") {
            ok = parse_seconds(argv[++i], settings.measure_s);
        } else if (ok && arg == "--old-daemon") {
            settings.old_daemon = argv[++i];
        } else if (ok && arg == "--rounds") {
            settings.rounds = std::max(1, std::atoi(argv[++i]));
        } else if (ok && arg == "--only") {
            settings.only = argv[++i];
        } else {
            ok = false;
        }
        if (!ok) {
            std::fprintf(stderr,
                         "usage: %s [--warmup S] [--measure S] [--old-daemon PATH] [--rounds N] "
                         "[--only ABCD]\n",
                         argv[0]);
            return 64;
        }
    }
    // 1,000 endpoints: the simulator, the daemon and the floor each hold over a thousand
    // sockets; they inherit this soft limit.
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 8192) {
        limit.rlim_cur = std::min<rlim_t>(8192, limit.rlim_max);
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    std::signal(SIGPIPE, SIG_IGN);
    try {
        return run(settings);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "tcp_gateway_bench: %s\n", error.what());
        return 1;
    }
}
