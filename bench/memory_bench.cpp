// 1,000 nodes x 20 attributes written as a site would write them (issues #10 and #14): one
// model and five range entries, in one config file. Prints, beside the targets:
//   - the config file's size (target: under 4 kB);
//   - `nodebridged --check-config` of it, wall time, median of 11 runs (under 100 ms);
//   - nodebridged's VmRSS and VmHWM every 5 s over a run (default 60 s) against five
//     simulators of 200 units, every node polled every second and published per attribute
//     (20,000 messages/s): VmHWM under 24 MiB, VmRSS at most 12 MiB at 5 s and at the end.
//
// Usage: memory_bench [--run S]
// Targets print PASS/MISS and never change the exit status; only a broken setup exits 1.

#include <mosquitto.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/support.hpp"

#include "bench_broker.hpp"
#include "bench_sim.hpp"

namespace nodebridge::bench {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr int kSources = 5;
constexpr int kUnitsPerSource = 200;
constexpr int kAttributes = 20;
constexpr double kSampleEvery = 5.0;  // seconds between memory samples

// The whole site: the model once, then one range entry per bus.
std::string range_config(int broker_port, const std::vector<int>& sim_ports,
                         const std::string& spool_dir) {
    std::string yaml = "gateway: bench\nmqtt:\n  host: 127.0.0.1\n  port: " +
                       std::to_string(broker_port) + "\n  buffer: { dir: \"" + spool_dir +
                       "\" }\n  health: { topic: bench/status }\n"
                       "models:\n  meter:\n    manufacturer: Bench\n    model: Meter 20\n"
                       "    attributes:\n";
    for (int a = 0; a < kAttributes; ++a) {
        yaml += "      a" + std::to_string(a) + ": { table: input, address: " +
                std::to_string(2 * a) + ", type: float32, unit: V }\n";
    }
    yaml += "sources:\n";
    for (std::size_t bus = 0; bus < sim_ports.size(); ++bus) {
        const std::string name = "bus" + std::to_string(bus + 1);
        yaml += "  - name: " + name + "\n    type: modbus-tcp\n    host: 127.0.0.1\n    port: " +
                std::to_string(sim_ports[bus]) + "\n    nodes:\n      - { id: \"" + name +
                "-{unit}\", units: 1-" + std::to_string(kUnitsPerSource) +
                ", model: meter, poll: 1s }\n";
    }
    yaml += "mappings:\n  - name: all\n    match: { source: \"*\" }\n"
            "    topic: \"bench/{gateway}/{node}/{attribute}\"\n    payload: json\n";
    return yaml;
}

// Counts what arrives on a topic filter (QoS 0), keeping nothing else.
class Counter {
  public:
    Counter(int port, const std::string& topic) : topic_(topic) {
        client_ = mosquitto_new(nullptr, true, this);
        if (client_ == nullptr) throw std::runtime_error("mosquitto_new failed");
        mosquitto_connect_callback_set(client_, [](mosquitto* client, void* self, int rc) {
            if (rc == 0) {
                mosquitto_subscribe(client, nullptr, static_cast<Counter*>(self)->topic_.c_str(),
                                    0);
            }
        });
        mosquitto_message_callback_set(client_, [](mosquitto*, void* self, const mosquitto_message*) {
            static_cast<Counter*>(self)->count_.fetch_add(1, std::memory_order_relaxed);
        });
        if (mosquitto_connect(client_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS ||
            mosquitto_loop_start(client_) != MOSQ_ERR_SUCCESS) {
            mosquitto_destroy(client_);
            throw std::runtime_error("subscriber cannot connect to 127.0.0.1:" +
                                     std::to_string(port));
        }
    }
    ~Counter() {
        mosquitto_disconnect(client_);
        mosquitto_loop_stop(client_, true);
        mosquitto_destroy(client_);
    }
    Counter(const Counter&) = delete;
    Counter& operator=(const Counter&) = delete;

    long count() const { return count_.load(std::memory_order_relaxed); }

  private:
    std::string topic_;
    mosquitto* client_ = nullptr;
    std::atomic<long> count_{0};
};

double median_check_ms(const test::TempDir& dir, const std::string& config) {
    std::vector<double> runs;
    for (int i = 0; i < 11; ++i) {
        const auto start = Steady::now();
        test::Process check({NODEBRIDGED_PATH, "--check-config", "-c", config},
                            dir.file("check.log"));
        const auto code = check.wait_for_exit(30s);
        const double ms = std::chrono::duration<double, std::milli>(Steady::now() - start).count();
        if (code != 0) throw std::runtime_error("--check-config failed:\n" + check.output());
        runs.push_back(ms);
    }
    std::sort(runs.begin(), runs.end());
    return runs[runs.size() / 2];
}

const char* verdict(bool pass) { return pass ? "PASS" : "MISS"; }

int run(double run_s) {
    test::TempDir dir;
    BrokerProcess broker(dir);
    std::vector<std::unique_ptr<SimProcess>> sims;
    std::vector<int> ports;
    for (int i = 1; i <= kSources; ++i) {
        sims.push_back(std::make_unique<SimProcess>(dir, "sim-" + std::to_string(i),
                                                    kUnitsPerSource, kAttributes));
        ports.push_back(sims.back()->port());
    }
    const std::string text = range_config(broker.port(), ports, dir.file("spool"));
    const std::string config = dir.write("site.yaml", text);
    const double check_ms = median_check_ms(dir, config);

    Counter counter(broker.port(), "bench/bench/#");
    test::Process daemon({NODEBRIDGED_PATH, "-c", config, "--log-level", "warning"},
                         dir.file("daemon.log"));
    const auto started = Steady::now();
    if (!test::wait_until([&] { return counter.count() > 0 || !daemon.running(); }, 30s) ||
        counter.count() == 0) {
        throw std::runtime_error("no message from nodebridged\n" + daemon.output());
    }
    struct Sample {
        double seconds;
        long rss_kib;
        long hwm_kib;
        long anon_kib;  // RssAnon: the heap, stacks and anonymous maps
        long file_kib;  // RssFile: mapped files (the program and its libraries)
        long messages;
    };
    std::vector<Sample> samples;
    for (double at = kSampleEvery; at <= run_s + 1e-9; at += kSampleEvery) {
        std::this_thread::sleep_until(started + std::chrono::duration_cast<Steady::duration>(
                                                    std::chrono::duration<double>(at)));
        if (!daemon.running()) throw std::runtime_error("nodebridged exited\n" + daemon.output());
        samples.push_back({at, status_kib(daemon.pid(), "VmRSS:"),
                           status_kib(daemon.pid(), "VmHWM:"), status_kib(daemon.pid(), "RssAnon:"),
                           status_kib(daemon.pid(), "RssFile:"), counter.count()});
    }
    daemon.signal(SIGTERM);
    daemon.wait_for_exit(15s);

    const auto mib = [](long kib) { return static_cast<double>(kib) / 1024.0; };
    std::printf("## Resident memory: %d nodes x %d attributes from one model and %d ranges\n\n",
                kSources * kUnitsPerSource, kAttributes, kSources);
    std::printf("| figure | value | target |\n|---|---:|---|\n");
    std::printf("| config file | %zu bytes | %s: < 4096 bytes |\n", text.size(),
                verdict(text.size() < 4096));
    std::printf("| --check-config (median of 11) | %.1f ms | %s: < 100 ms |\n", check_ms,
                verdict(check_ms < 100));
    long peak_rss = 0;
    for (const Sample& s : samples) peak_rss = std::max(peak_rss, s.rss_kib);
    const Sample& first = samples.front();
    const Sample& last = samples.back();
    std::printf("| VmHWM at the end | %.1f MiB | %s: < 24 MiB |\n", mib(last.hwm_kib),
                verdict(last.hwm_kib < 24 * 1024));
    std::printf("| VmRSS at %.0f s | %.1f MiB | %s: <= 12 MiB |\n", first.seconds,
                mib(first.rss_kib), verdict(first.rss_kib <= 12 * 1024));
    std::printf("| VmRSS at %.0f s | %.1f MiB | %s: <= 12 MiB |\n", last.seconds, mib(last.rss_kib),
                verdict(last.rss_kib <= 12 * 1024));
    std::printf("| highest VmRSS sampled | %.1f MiB | |\n\n", mib(peak_rss));
    std::printf("| seconds | VmRSS MiB | VmHWM MiB | RssAnon MiB | RssFile MiB | messages/s |\n"
                "|---:|---:|---:|---:|---:|---:|\n");
    long previous = 0;
    double previous_at = 0;
    for (const Sample& s : samples) {
        std::printf("| %.0f | %.1f | %.1f | %.1f | %.1f | %.0f |\n", s.seconds, mib(s.rss_kib),
                    mib(s.hwm_kib), mib(s.anon_kib), mib(s.file_kib),
                    static_cast<double>(s.messages - previous) / (s.seconds - previous_at));
        previous = s.messages;
        previous_at = s.seconds;
    }
    return 0;
}

}  // namespace
}  // namespace nodebridge::bench

int main(int argc, char** argv) {
    double run_s = 60;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        char* end = nullptr;
        if (arg == "--run" && i + 1 < argc) {
            run_s = std::strtod(argv[++i], &end);
            if (end != argv[i] && *end == '\0' && run_s >= 5 && run_s <= 3600) continue;
        }
        std::fprintf(stderr, "usage: %s [--run S]   (S: 5..3600 seconds, default 60)\n", argv[0]);
        return 64;
    }
    std::signal(SIGPIPE, SIG_IGN);
    mosquitto_lib_init();
    try {
        const int code = nodebridge::bench::run(run_s);
        mosquitto_lib_cleanup();
        return code;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "memory_bench: %s\n", error.what());
        return 1;
    }
}
