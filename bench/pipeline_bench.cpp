// End to end: nodebridge-sim (Modbus TCP) -> nodebridged -> mosquitto -> a subscriber, printed
// beside raw baselines measured in the same run against the same simulator and broker:
//   - a bare libmodbus loop issuing the daemon's requests (one 40-register read per unit);
//   - a bare libmosquitto loop publishing the daemon's messages (same topics, similar
//     payloads, same QoS, same in-flight window), received by the same kind of subscriber.
// Latency is the subscriber's receipt time minus the payload's "ts" (the device reply time,
// written with millisecond resolution), so every latency figure carries up to 1 ms of
// truncation on top of the real delay; the raw MQTT loop writes "ts" the same way.
//
// Usage: pipeline_bench [--warmup S] [--measure S] [--outage S]
// Resident memory of the 1,000-node case is memory_bench's.
// Targets are printed as PASS/MISS and never change the exit status; only a broken setup
// (a process that does not start, no message at all) exits 1.

#include <modbus.h>
#include <mosquitto.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_broker.hpp"
#include "bench_measure.hpp"
#include "bench_sim.hpp"
#include "support/support.hpp"

namespace nodebridge::bench {
namespace {

using namespace std::chrono_literals;
using test::Millis;
using test::Process;
using test::TempDir;
using Wall = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;

// The benchmark's shape, from issue 2: 100 nodes x 20 float32 attributes.
constexpr int kNodes = 100;
constexpr int kAttributes = 20;
// The daemon's in-flight window for QoS>0 (Publisher::kMaxInFlight); the raw loop uses it too.
constexpr int kMaxInFlight = 100;
// At most this many raw messages published and not yet received (two full rounds).
constexpr std::int64_t kRawWindow = 2 * kNodes * kAttributes;
// The paced cases: every node every 200 ms, 100 x 20 / 0.2 s = 10,000 attributes/s.
constexpr Millis kPacedPoll{200};

struct Settings {
    double warmup_s = 2.0;   // after the first message, before the window opens
    double measure_s = 6.0;  // the measurement window of each case
    double outage_s = 60.0;  // how long the broker is away in the outage case
};

// ---- interruption ------------------------------------------------------------------------

std::atomic<bool> g_interrupted{false};  // set by SIGINT/SIGTERM so destructors still run

struct Interrupted : std::runtime_error {
    Interrupted() : std::runtime_error("interrupted") {}
};

void sleep_checked(std::chrono::duration<double> duration) {
    const auto until = Steady::now() + std::chrono::duration_cast<Steady::duration>(duration);
    while (Steady::now() < until) {
        if (g_interrupted.load()) throw Interrupted();
        std::this_thread::sleep_for(std::min<Steady::duration>(until - Steady::now(), 20ms));
    }
}

// ---- processes ---------------------------------------------------------------------------

// ---- raw libmodbus baseline --------------------------------------------------------------

struct RawModbusResult {
    double attributes_per_s = 0;
    Percentiles round_trip;  // one request: send to reply decoded
    std::int64_t errors = 0;
    std::vector<double> cpu;  // sim, this process (% of one core)
};

RawModbusResult raw_modbus(const Settings& settings, const SimProcess& sim, double warmup_s) {
    modbus_t* context = modbus_new_tcp("127.0.0.1", sim.port());
    if (context == nullptr) throw std::runtime_error("modbus_new_tcp failed");
    modbus_set_response_timeout(context, 1, 0);
    if (modbus_connect(context) == -1) {
        modbus_free(context);
        throw std::runtime_error(std::string("libmodbus cannot connect: ") +
                                 modbus_strerror(errno));
    }
    RawModbusResult result;
    std::vector<std::uint16_t> registers(2 * kAttributes);
    std::vector<std::int64_t> round_trips;
    round_trips.reserve(1 << 20);
    std::int64_t attributes = 0;
    auto poll_all = [&](bool record) {
        for (int unit = 1; unit <= kNodes; ++unit) {
            modbus_set_slave(context, unit);
            const auto before = Steady::now();
            const int rc =
                modbus_read_input_registers(context, 0, 2 * kAttributes, registers.data());
            const auto after = Steady::now();
            if (!record) continue;
            if (rc == 2 * kAttributes) {
                attributes += kAttributes;
                round_trips.push_back(
                    std::chrono::duration_cast<std::chrono::microseconds>(after - before).count());
            } else {
                ++result.errors;
            }
        }
    };
    const auto warm_until = Steady::now() + std::chrono::duration<double>(warmup_s);
    while (Steady::now() < warm_until) poll_all(false);
    CpuMeter cpu({sim.pid()});
    const auto start = Steady::now();
    const auto until = start + std::chrono::duration<double>(settings.measure_s);
    while (Steady::now() < until) {
        if (g_interrupted.load()) break;
        poll_all(true);
    }
    const double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
    result.cpu = cpu.percent();
    modbus_close(context);
    modbus_free(context);
    if (g_interrupted.load()) throw Interrupted();
    result.attributes_per_s = static_cast<double>(attributes) / elapsed;
    result.round_trip = percentiles(std::move(round_trips));
    return result;
}

// ---- raw libmosquitto baseline -----------------------------------------------------------

enum class Shape { per_attribute, per_node };

struct MqttResult {
    double messages_per_s = 0;
    double attributes_per_s = 0;
    Percentiles latency;
    std::int64_t sent = 0;
    std::int64_t received = 0;
    std::int64_t publish_errors = 0;
    std::vector<double> cpu;  // broker, [daemon, sim,] this process
    long rss_kib = 0;         // the daemon's, for daemon cases
};

// How the raw loop paces its messages.
struct Pacing {
    enum class Kind {
        flood,  // as fast as a window of kRawWindow unreceived messages allows
        even,   // `rate` messages per second, evenly spread
        burst,  // one full round (every node, every attribute) at the start of each `period`
    };
    Kind kind = Kind::flood;
    double rate = 0;
    Millis period{0};
    bool nodelay = false;  // TCP_NODELAY on the publisher's socket (libmosquitto's default: off)
};

// Publishes the shape's messages (round robin over nodes, then attributes) for warmup +
// measure seconds, paced as `pacing` says; counts what the subscriber receives inside the
// window.
MqttResult raw_mqtt(const Settings& settings, const BrokerProcess& broker, Shape shape, int qos,
                    Pacing pacing) {
    Receiver receiver(broker.port(), "bench/rawmq/#", qos);
    // Single-threaded, as the daemon's publisher is: this thread publishes (libmosquitto
    // writes at once) and services the socket itself; no mosquitto_loop_start thread.
    bool connected = false;
    mosquitto* client = mosquitto_new(nullptr, true, &connected);
    if (client == nullptr) throw std::runtime_error("mosquitto_new failed");
    mosquitto_max_inflight_messages_set(client, kMaxInFlight);
    if (pacing.nodelay) mosquitto_int_option(client, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(client, [](mosquitto*, void* flag, int rc) {
        if (rc == 0) *static_cast<bool*>(flag) = true;
    });
    const auto connect_deadline = Steady::now() + 10s;
    if (mosquitto_connect(client, "127.0.0.1", broker.port(), 30) == MOSQ_ERR_SUCCESS) {
        while (!connected && Steady::now() < connect_deadline) mosquitto_loop(client, 10, 1);
    }
    if (!connected) {
        mosquitto_destroy(client);
        throw std::runtime_error("raw publisher cannot connect");
    }
    // Reads acknowledgements, writes what the library queued, keeps alive; until `until`.
    auto service_until = [&](Steady::time_point until) {
        do {
            const auto left = std::chrono::duration_cast<Millis>(until - Steady::now()).count();
            mosquitto_loop(client, static_cast<int>(std::clamp<long long>(left, 0, 5)), 1);
        } while (Steady::now() < until && !g_interrupted.load());
    };
    struct Item {
        std::string topic;
        int node;
        int attribute;  // -1 for a per-node message
    };
    std::vector<Item> items;
    for (int node = 1; node <= kNodes; ++node) {
        const std::string base = "bench/rawmq/pdu-" + std::to_string(node);
        if (shape == Shape::per_node) {
            items.push_back({base, node, -1});
            continue;
        }
        for (int a = 0; a < kAttributes; ++a)
            items.push_back({base + "/a" + std::to_string(a), node, a});
    }
    const int attributes_per_message = shape == Shape::per_node ? kAttributes : 1;

    MqttResult result;
    std::int64_t presumed_lost = 0;  // QoS 0 messages the broker dropped: not waited for
    std::string payload;
    const auto start = Steady::now();
    const auto window_start = start + std::chrono::duration<double>(settings.warmup_s);
    const auto end = window_start + std::chrono::duration<double>(settings.measure_s);
    const std::int64_t window_from = wall_us() + static_cast<std::int64_t>(settings.warmup_s * 1e6);
    const std::int64_t window_to =
        window_from + static_cast<std::int64_t>(settings.measure_s * 1e6);
    std::optional<CpuMeter> cpu;
    std::size_t next = 0;
    std::int64_t round = 0;
    while (true) {
        const auto now = Steady::now();
        if (now >= end) break;
        if (g_interrupted.load()) break;
        if (!cpu && now >= window_start) cpu.emplace(std::vector<pid_t>{broker.pid()});
        if (pacing.kind == Pacing::Kind::even) {
            const auto due =
                start + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(
                            static_cast<double>(result.sent) / pacing.rate));
            if (due > now + 200us) service_until(due);
        } else if (pacing.kind == Pacing::Kind::burst) {
            if (next == 0) service_until(start + round * pacing.period);
        } else if (result.sent - receiver.count() - presumed_lost >= kRawWindow) {
            // Wait for the subscriber to catch up. Only QoS 0 can be lost (the broker drops
            // it for a subscriber that falls far behind): after half a second without
            // progress, stop waiting for what is outstanding.
            const std::int64_t seen = receiver.count();
            const auto give_up = Steady::now() + 500ms;
            while (receiver.count() == seen && Steady::now() < give_up && !g_interrupted.load())
                mosquitto_loop(client, 1, 1);
            if (receiver.count() == seen && qos == 0) presumed_lost = result.sent - seen;
            continue;
        }
        const Item& item = items[next];
        const std::int64_t ts = wall_us();
        const float base = static_cast<float>(10 * std::max(item.attribute, 0) + item.node);
        const float noise = static_cast<float>(round % 7) * 0.0731f;
        if (item.attribute >= 0) {
            payload = "{\"value\":" + number_text(base + noise) + ",\"unit\":\"V\",\"ts\":\"" +
                      iso_ms(ts) + "\"}";
        } else {
            payload =
                "{\"node\":\"pdu-" + std::to_string(item.node) + "\",\"ts\":\"" + iso_ms(ts) + "\"";
            for (int a = 0; a < kAttributes; ++a) {
                payload += ",\"a" + std::to_string(a) +
                           "\":" + number_text(static_cast<float>(10 * a + item.node) + noise);
            }
            payload += "}";
        }
        const int rc =
            mosquitto_publish(client, nullptr, item.topic.c_str(), static_cast<int>(payload.size()),
                              payload.data(), qos, false);
        if (rc == MOSQ_ERR_SUCCESS) {
            ++result.sent;
        } else {
            ++result.publish_errors;
            service_until(Steady::now() + 1ms);
        }
        if (result.sent % 8 == 0) mosquitto_loop(client, 0, 1);
        if (++next == items.size()) {
            next = 0;
            ++round;
        }
    }
    result.cpu = cpu ? cpu->percent() : std::vector<double>{0, 0};
    service_until(Steady::now() + 300ms);  // let the tail arrive; it is outside the window anyway
    mosquitto_disconnect(client);
    mosquitto_destroy(client);
    if (g_interrupted.load()) throw Interrupted();

    auto [received, latencies] = receiver.window(window_from, window_to);
    result.received = receiver.count();
    result.messages_per_s = static_cast<double>(received) / settings.measure_s;
    result.attributes_per_s = result.messages_per_s * attributes_per_message;
    result.latency = percentiles(std::move(latencies));
    return result;
}

// Both bare loops at once (libmodbus in a second thread, libmosquitto flooding `shape` at QoS
// 0), sharing the cores as the daemon's threads have to: what the libraries and the machine
// give together, without nodebridged in between.
struct ConcurrentResult {
    RawModbusResult modbus;
    MqttResult mqtt;
    double slower() const { return std::min(modbus.attributes_per_s, mqtt.attributes_per_s); }
};

ConcurrentResult raw_concurrent(const Settings& settings, const SimProcess& sim,
                                const BrokerProcess& broker, Shape shape) {
    ConcurrentResult result;
    std::exception_ptr modbus_error;
    std::thread modbus_thread([&] {
        try {
            result.modbus = raw_modbus(settings, sim, settings.warmup_s);
        } catch (...) {
            modbus_error = std::current_exception();
        }
    });
    try {
        result.mqtt = raw_mqtt(settings, broker, shape, 0, {});
    } catch (...) {
        modbus_thread.join();
        throw;
    }
    modbus_thread.join();
    if (modbus_error) std::rethrow_exception(modbus_error);
    return result;
}

// ---- nodebridged -------------------------------------------------------------------------

struct Bus {
    std::string name;
    int port;
    int units;
};

// A config with one modbus-tcp source per bus, units 1..N each with `attributes` float32
// input registers, all polled every `poll`, and one rule publishing them as JSON. QoS 1/2
// messages wait in a disk spool in `spool_dir` (a fresh directory per case, never the
// system's /var/lib/nodebridge/spool, so no case replays another's leftovers), or in memory
// when it is empty.
std::string daemon_config(int broker_port, const std::vector<Bus>& buses, int attributes,
                          const std::string& poll, Shape shape, int qos,
                          const std::string& spool_dir) {
    std::string attribute_map = "{ ";
    for (int a = 0; a < attributes; ++a) {
        if (a > 0) attribute_map += ", ";
        attribute_map += "a" + std::to_string(a) +
                         ": { table: input, address: " + std::to_string(2 * a) +
                         ", type: float32, unit: V }";
    }
    attribute_map += " }";
    std::string yaml =
        "gateway: bench\nmqtt:\n  host: 127.0.0.1\n  port: " + std::to_string(broker_port) +
        "\n  keepalive: 30s\n  buffer:\n    dir: \"" + spool_dir +
        "\"\n  health:\n    topic: bench/status\nsources:\n";
    for (const Bus& bus : buses) {
        yaml +=
            "  - name: " + bus.name +
            "\n    type: modbus-tcp\n    host: 127.0.0.1\n    port: " + std::to_string(bus.port) +
            "\n    timeout: 1s\n    nodes:\n";
        for (int unit = 1; unit <= bus.units; ++unit) {
            const std::string id = buses.size() == 1 ? "pdu-" + std::to_string(unit)
                                                     : bus.name + "-" + std::to_string(unit);
            yaml += "      - { id: " + id + ", unit: " + std::to_string(unit) + ", poll: " + poll +
                    ", attributes: " + attribute_map + " }\n";
        }
    }
    yaml += "mappings:\n  - name: bench\n    match: { source: \"*\" }\n    topic: " +
            std::string(shape == Shape::per_node ? "bench/{gateway}/{node}"
                                                 : "bench/{gateway}/{node}/{attribute}") +
            "\n    payload: json\n    qos: " + std::to_string(qos) + "\n";
    return yaml;
}

// Starts nodebridged on `config`, waits for its first message, warms up, measures what the
// subscriber gets in the window (and CPU of everyone), then stops it with SIGTERM.
MqttResult run_daemon(const Settings& settings, const TempDir& dir, const std::string& name,
                      const BrokerProcess& broker, const std::vector<const SimProcess*>& sims,
                      const std::string& config, Shape shape, int qos) {
    Receiver receiver(broker.port(), "bench/bench/#", qos);
    const std::string path = dir.write(name + ".yaml", config);
    Process daemon({NODEBRIDGED_PATH, "-c", path, "--log-level", "warning"},
                   dir.file(name + ".log"));
    auto fail = [&](const std::string& what) {
        return std::runtime_error(name + ": " + what + "\n--- nodebridged log ---\n" +
                                  daemon.output());
    };
    if (!test::wait_until(
            [&] { return receiver.count() > 0 || !daemon.running() || g_interrupted.load(); },
            30s) ||
        receiver.count() == 0) {
        if (g_interrupted.load()) throw Interrupted();
        throw fail("no message from nodebridged within 30 s");
    }
    sleep_checked(std::chrono::duration<double>(settings.warmup_s));
    std::vector<pid_t> pids{broker.pid(), daemon.pid()};
    for (const SimProcess* sim : sims) pids.push_back(sim->pid());
    const std::int64_t window_from = wall_us();
    CpuMeter cpu(pids);
    sleep_checked(std::chrono::duration<double>(settings.measure_s));
    const std::int64_t window_to = wall_us();
    MqttResult result;
    result.cpu = cpu.percent();
    result.rss_kib = status_kib(daemon.pid(), "VmRSS:");
    if (!daemon.running()) throw fail("nodebridged exited during the window");
    daemon.signal(SIGTERM);
    const auto exit_code = daemon.wait_for_exit(15s);
    if (exit_code != 0) {
        std::fprintf(stderr, "%s: nodebridged exit %s after SIGTERM\n", name.c_str(),
                     exit_code ? std::to_string(*exit_code).c_str() : "(still running, killed)");
    }
    const std::string log = daemon.output();
    if (!log.empty()) {
        std::fprintf(stderr, "%s: nodebridged logged (warning and above):\n%s\n", name.c_str(),
                     log.substr(0, 2000).c_str());
    }
    auto [received, latencies] = receiver.window(window_from, window_to);
    const double seconds = static_cast<double>(window_to - window_from) / 1e6;
    result.received = received;
    result.messages_per_s = static_cast<double>(received) / seconds;
    result.attributes_per_s = result.messages_per_s * (shape == Shape::per_node ? kAttributes : 1);
    result.latency = percentiles(std::move(latencies));
    return result;
}

// Bytes of the regular files directly in `dir`.
std::uint64_t dir_bytes(const std::string& dir) {
    std::uint64_t total = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
        if (entry.is_regular_file(error)) total += entry.file_size(error);
    }
    return total;
}

struct OutageSample {
    double seconds = 0;
    long rss_kib = 0;
    std::uint64_t spool_bytes = 0;
};

// The broker away for `outage_s`: 100 nodes x 20 attributes every 200 ms (10k attr/s) at
// QoS 1 go to the disk spool. VmRSS of nodebridged, sampled ten times, must stay flat while
// the spool grows.
std::vector<OutageSample> run_outage(const Settings& settings, const TempDir& dir) {
    SimProcess sim(dir, "outage-sim", kNodes, kAttributes);
    const std::string spool = dir.file("spool-outage");
    const int nobody = test::free_port();  // no broker listens there
    const std::string path =
        dir.write("outage.yaml", daemon_config(nobody, {{"bus", sim.port(), kNodes}}, kAttributes,
                                               "200ms", Shape::per_attribute, 1, spool));
    Process daemon({NODEBRIDGED_PATH, "-c", path, "--log-level", "error"}, dir.file("outage.log"));
    if (!test::wait_until([&] { return dir_bytes(spool) > 0 || !daemon.running(); }, 30s) ||
        !daemon.running()) {
        throw std::runtime_error("outage: nothing spooled\n" + daemon.output());
    }
    std::vector<OutageSample> samples;
    const auto started = Steady::now();
    for (int i = 1; i <= 10; ++i) {
        sleep_checked(std::chrono::duration<double>(settings.outage_s * i / 10) -
                      (Steady::now() - started));
        samples.push_back(
            {settings.outage_s * i / 10, status_kib(daemon.pid(), "VmRSS:"), dir_bytes(spool)});
    }
    daemon.signal(SIGTERM);
    daemon.wait_for_exit(15s);
    return samples;
}

// ---- report ------------------------------------------------------------------------------

std::string cpu_text(const std::vector<double>& cpu) {
    std::string text;
    for (double value : cpu) {
        if (!text.empty()) text += " / ";
        text += std::to_string(static_cast<int>(value + 0.5));
    }
    return text;
}

const char* verdict(bool pass) { return pass ? "PASS" : "MISS"; }

int run(const Settings& settings) {
    mosquitto_lib_init();
    TempDir dir;
    BrokerProcess broker(dir);
    SimProcess sim(dir, "sim", kNodes, kAttributes);
    const std::string load_before = load_average();
    std::fprintf(stderr, "broker 127.0.0.1:%d, sim 127.0.0.1:%d, %ld cores, windows of %.0f s\n",
                 broker.port(), sim.port(), sysconf(_SC_NPROCESSORS_ONLN), settings.measure_s);

    auto step = [](const char* what) { std::fprintf(stderr, "running: %s\n", what); };
    step("raw libmodbus loop");
    const RawModbusResult modbus = raw_modbus(settings, sim, settings.warmup_s / 2);
    step("raw libmosquitto, per attribute, QoS 0");
    const MqttResult mq0 = raw_mqtt(settings, broker, Shape::per_attribute, 0, {});
    step("raw libmosquitto, per attribute, QoS 1");
    const MqttResult mq1 = raw_mqtt(settings, broker, Shape::per_attribute, 1, {});
    step("raw libmosquitto, per node, QoS 0");
    const MqttResult mqn = raw_mqtt(settings, broker, Shape::per_node, 0, {});
    step("raw libmodbus + libmosquitto per attribute QoS 0, at the same time");
    const ConcurrentResult both_attribute =
        raw_concurrent(settings, sim, broker, Shape::per_attribute);
    step("raw libmodbus + libmosquitto per node QoS 0, at the same time");
    const ConcurrentResult both_node = raw_concurrent(settings, sim, broker, Shape::per_node);
    const Pacing burst{.kind = Pacing::Kind::burst, .period = kPacedPoll};
    step("raw libmosquitto, per attribute, QoS 0, 2,000 messages every 200 ms");
    const MqttResult mqb0 = raw_mqtt(settings, broker, Shape::per_attribute, 0, burst);
    step("raw libmosquitto, per attribute, QoS 1, 2,000 messages every 200 ms");
    const MqttResult mqb1 = raw_mqtt(settings, broker, Shape::per_attribute, 1, burst);
    step("raw libmosquitto, per attribute, QoS 0, evenly paced at 10,000 msg/s");
    const MqttResult mqe = raw_mqtt(settings, broker, Shape::per_attribute, 0,
                                    {.kind = Pacing::Kind::even, .rate = 10'000.0});
    step("raw libmosquitto, per attribute, QoS 0, evenly paced at 10,000 msg/s, TCP_NODELAY");
    const MqttResult mqen =
        raw_mqtt(settings, broker, Shape::per_attribute, 0,
                 {.kind = Pacing::Kind::even, .rate = 10'000.0, .nodelay = true});

    const std::vector<Bus> one_bus{{"bus", sim.port(), kNodes}};
    const std::vector<const SimProcess*> sims{&sim};
    // QoS 1 messages go through the disk spool (the shipped default) unless `memory_only`.
    auto daemon_case = [&](const char* name, const std::string& poll, Shape shape, int qos,
                           bool memory_only = false) {
        step(name);
        const std::string spool = memory_only ? "" : dir.file(std::string("spool-") + name);
        return run_daemon(
            settings, dir, name, broker, sims,
            daemon_config(broker.port(), one_bus, kAttributes, poll, shape, qos, spool), shape,
            qos);
    };
    const MqttResult d0 = daemon_case("per-attribute-qos0", "1ms", Shape::per_attribute, 0);
    const MqttResult d1 = daemon_case("per-attribute-qos1", "1ms", Shape::per_attribute, 1);
    const MqttResult d1m =
        daemon_case("per-attribute-qos1-memory", "1ms", Shape::per_attribute, 1, true);
    const MqttResult dn = daemon_case("per-node-qos0", "1ms", Shape::per_node, 0);
    const MqttResult p0 = daemon_case("paced-qos0", "200ms", Shape::per_attribute, 0);
    const MqttResult p1 = daemon_case("paced-qos1", "200ms", Shape::per_attribute, 1);
    const MqttResult p1m = daemon_case("paced-qos1-memory", "200ms", Shape::per_attribute, 1, true);

    std::printf("\n## nodebridge end-to-end benchmark\n\n");
    std::printf("Load average (1/5/15 min) before: %s, after: %s.\n", load_before.c_str(),
                load_average().c_str());
    std::printf(
        "%d nodes x %d float32 attributes (one 40-register read per node), %ld CPU cores, "
        "%.0f s windows after %.0f s warm-up.\n"
        "Latency: subscriber receipt - payload \"ts\" (device reply, truncated to the ms).\n"
        "CPU: %% of one core over the window.\n\n",
        kNodes, kAttributes, sysconf(_SC_NPROCESSORS_ONLN), settings.measure_s, settings.warmup_s);

    std::printf("### Raw baselines (same simulator, same broker, same run)\n\n");
    std::printf("| baseline | rate | p50 ms | p99 ms | CPU %% |\n|---|---:|---:|---:|---|\n");
    std::printf(
        "| libmodbus loop, 1 read of 40 registers per unit | %s attr/s | %s (request) | %s "
        "(request) | sim %s |\n",
        rate_text(modbus.attributes_per_s).c_str(), ms_text(modbus.round_trip.p50_ms).c_str(),
        ms_text(modbus.round_trip.p99_ms).c_str(), cpu_text(modbus.cpu).c_str());
    auto raw_row = [](const char* what, const MqttResult& r, const char* unit) {
        std::printf("| %s | %s %s | %s | %s | broker / bench %s |\n", what,
                    rate_text(r.messages_per_s).c_str(), unit, ms_text(r.latency.p50_ms).c_str(),
                    ms_text(r.latency.p99_ms).c_str(), cpu_text(r.cpu).c_str());
    };
    raw_row("libmosquitto loop, 2,000 per-attribute topics, QoS 0", mq0, "msg/s");
    raw_row("libmosquitto loop, 2,000 per-attribute topics, QoS 1", mq1, "msg/s");
    raw_row("libmosquitto loop, 100 per-node topics (20 attr), QoS 0", mqn, "msg/s");
    auto both_row = [](const char* what, const ConcurrentResult& r) {
        std::printf("| %s | %s attr/s (modbus %s, mqtt %s) | %s | %s | broker / sim / bench %s |\n",
                    what, rate_text(r.slower()).c_str(),
                    rate_text(r.modbus.attributes_per_s).c_str(),
                    rate_text(r.mqtt.attributes_per_s).c_str(),
                    ms_text(r.mqtt.latency.p50_ms).c_str(), ms_text(r.mqtt.latency.p99_ms).c_str(),
                    cpu_text({r.mqtt.cpu.at(0), r.modbus.cpu.at(0), r.mqtt.cpu.at(1)}).c_str());
    };
    both_row("both loops at once: libmodbus + per-attribute QoS 0", both_attribute);
    both_row("both loops at once: libmodbus + per-node QoS 0", both_node);
    raw_row("libmosquitto loop, per-attribute QoS 0, 2,000 msg burst every 200 ms", mqb0, "msg/s");
    raw_row("libmosquitto loop, per-attribute QoS 1, 2,000 msg burst every 200 ms", mqb1, "msg/s");
    raw_row("libmosquitto loop, per-attribute QoS 0, evenly paced 10,000 msg/s", mqe, "msg/s");
    raw_row("libmosquitto loop, per-attribute QoS 0, evenly paced 10,000 msg/s, TCP_NODELAY", mqen,
            "msg/s");

    std::printf("\n### nodebridged (sim -> nodebridged -> mosquitto -> subscriber)\n\n");
    std::printf(
        "| case | attr/s | msg/s | p50 ms | p99 ms | RSS MiB | CPU %% broker / daemon / sim / "
        "bench | target |\n"
        "|---|---:|---:|---:|---:|---:|---|---|\n");
    auto row = [](const char* what, const MqttResult& r, const std::string& target) {
        std::printf("| %s | %s | %s | %s | %s | %.1f | %s | %s |\n", what,
                    rate_text(r.attributes_per_s).c_str(), rate_text(r.messages_per_s).c_str(),
                    ms_text(r.latency.p50_ms).c_str(), ms_text(r.latency.p99_ms).c_str(),
                    static_cast<double>(r.rss_kib) / 1024.0, cpu_text(r.cpu).c_str(),
                    target.c_str());
    };
    // Against the slower of the two bare loops run alone; the loops run at once are shown
    // for the reading, not judged.
    auto throughput_target = [&](const MqttResult& r, double raw_mqtt_attributes,
                                 const ConcurrentResult* both) {
        const double slower = std::min(modbus.attributes_per_s, raw_mqtt_attributes);
        const double ratio = slower > 0 ? r.attributes_per_s / slower : 0;
        char text[200];
        std::snprintf(text, sizeof text, "%s: %.0f%% of slower raw (%s attr/s), >= 90%%",
                      verdict(ratio >= 0.9), 100.0 * ratio, rate_text(slower).c_str());
        std::string out = text;
        if (both != nullptr && both->slower() > 0) {
            std::snprintf(text, sizeof text, "; %.0f%% of both loops at once",
                          100.0 * r.attributes_per_s / both->slower());
            out += text;
        }
        return out;
    };
    // Issue #14: p99 at most the evenly paced bare libmosquitto loop's p99 in the same run plus
    // 1 ms (the stricter of its two variants, with and without TCP_NODELAY); the machine's
    // load is in both. The brief's absolute 2 ms (an idle machine) is printed beside it.
    const double even_p99 = std::min(mqe.latency.p99_ms, mqen.latency.p99_ms);
    auto latency_target = [&](const MqttResult& r) {
        char text[200];
        std::snprintf(text, sizeof text,
                      "%s: p99 %.2f ms <= evenly paced raw p99 %.2f ms + 1 ms; %s: <= 2 ms",
                      verdict(r.latency.count > 0 && r.latency.p99_ms <= even_p99 + 1.0),
                      r.latency.p99_ms, even_p99,
                      verdict(r.latency.count > 0 && r.latency.p99_ms <= 2.0));
        return std::string(text);
    };
    row("per-attribute JSON, QoS 0, poll 1ms", d0,
        throughput_target(d0, mq0.attributes_per_s, &both_attribute));
    row("per-attribute JSON, QoS 1 (disk spool), poll 1ms", d1,
        throughput_target(d1, mq1.attributes_per_s, nullptr));
    row("per-attribute JSON, QoS 1 (memory only), poll 1ms", d1m,
        throughput_target(d1m, mq1.attributes_per_s, nullptr));
    row("per-node JSON, QoS 0, poll 1ms", dn,
        throughput_target(dn, mqn.attributes_per_s, &both_node));
    row("per-attribute JSON, QoS 0, poll 200ms (10k attr/s)", p0, latency_target(p0));
    row("per-attribute JSON, QoS 1 (disk spool), poll 200ms (10k attr/s)", p1, latency_target(p1));
    row("per-attribute JSON, QoS 1 (memory only), poll 200ms (10k attr/s)", p1m,
        latency_target(p1m));

    const std::vector<OutageSample> outage = run_outage(settings, dir);
    std::printf("\n### Broker away: memory stays flat, the spool grows\n\n");
    std::printf("%d nodes x %d attributes, poll 200ms (10k attr/s), QoS 1, no broker.\n\n", kNodes,
                kAttributes);
    std::printf("| seconds | VmRSS MiB | spool MiB |\n|---:|---:|---:|\n");
    for (const OutageSample& sample : outage) {
        std::printf("| %.0f | %.1f | %.1f |\n", sample.seconds,
                    static_cast<double>(sample.rss_kib) / 1024.0,
                    static_cast<double>(sample.spool_bytes) / (1024.0 * 1024.0));
    }
    // Mapped spool pages come and go with each segment, so compare peaks, not points.
    long first_peak = 0;
    long second_peak = 0;
    for (std::size_t i = 0; i < outage.size(); ++i) {
        long& peak = i < outage.size() / 2 ? first_peak : second_peak;
        peak = std::max(peak, outage[i].rss_kib);
    }
    const double growth = static_cast<double>(second_peak - first_peak) / 1024.0;
    std::printf(
        "\nPeak VmRSS, second half of the outage against the first: %+.1f MiB (%s: within "
        "2 MiB)\n",
        growth, verdict(growth <= 2.0));
    std::fflush(stdout);
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
        double* target = arg == "--warmup"    ? &settings.warmup_s
                         : arg == "--measure" ? &settings.measure_s
                         : arg == "--outage"  ? &settings.outage_s
                                              : nullptr;
        if (target == nullptr || i + 1 >= argc || !parse_seconds(argv[i + 1], *target)) {
            std::fprintf(stderr, "usage: %s [--warmup S] [--measure S] [--outage S]\n", argv[0]);
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
    } catch (const Interrupted&) {
        std::fprintf(stderr, "pipeline_bench: interrupted; stopped every process it started\n");
        return 130;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "pipeline_bench: %s\n", error.what());
        return 1;
    }
}
