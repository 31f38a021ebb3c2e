// The disk spool (src/publish/spool.cpp) alone and through a real Publisher and mosquitto on
// 127.0.0.1, printed beside each other:
//   (a) raw Spool throughput: append() with sync() every 100 ms as the Publisher does it, then
//       next() + acknowledge() of everything appended;
//   (b) QoS 1 through a Publisher with the spool and without it (buffer.dir empty), with at
//       most --window messages published and not yet received (like pipeline_bench's raw
//       flood loop) and with a producer that publishes as fast as it can, and the ratio of
//       the two (issue 5 target: >= 90%);
//   (c) an outage: --backlog QoS 1 messages published while no broker listens (they go to the
//       spool), then the broker starts; the time until a subscriber has every one of them and
//       the Publisher's spool is empty.
//
// Usage: spool_bench [--raw N] [--measure S] [--rounds N] [--window N] [--backlog N]
//                    [--skip-raw] [--skip-e2e] [--skip-drain]
// Defaults: --raw 1000000 --measure 3 --rounds 5 --window 4000 --backlog 1000000. On a shared
// machine single windows vary by 2x; (b) therefore alternates short windows of both cases
// and reports medians. A quick run:
//   spool_bench --raw 100000 --measure 2 --rounds 2 --backlog 50000
// Targets print PASS/MISS and never change the exit status; a broken setup exits 1.

#include <mosquitto.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/message.hpp"
#include "nodebridge/publisher.hpp"
#include "spool.hpp"
#include "support/support.hpp"

#include "bench_broker.hpp"

namespace nodebridge::bench {
namespace {

using namespace std::chrono_literals;
using test::Process;
using test::TempDir;
using Steady = std::chrono::steady_clock;

// The broker's per-client queue: deep enough that a QoS 1 subscriber falling behind during
// the 1,000,000-message drain loses nothing.
constexpr long kDeepQueue = 2'000'000;

struct Settings {
    std::uint64_t raw = 1'000'000;      // records appended and read back in (a)
    double measure_s = 3.0;             // each end-to-end window in (b)
    int rounds = 5;                     // pairs of windows (memory only, spool) in (b)
    std::uint64_t window = 4'000;       // published and not yet received, at most, in (b)
    std::uint64_t backlog = 1'000'000;  // messages spooled during the outage in (c)
    bool run_raw = true;
    bool run_e2e = true;
    bool run_drain = true;
};

double seconds_since(Steady::time_point start) {
    return std::chrono::duration<double>(Steady::now() - start).count();
}

std::string thousands(double value) {
    const auto whole = static_cast<long long>(value + 0.5);
    std::string digits = std::to_string(whole < 0 ? -whole : whole);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return whole < 0 ? "-" + out : out;
}

// A message shaped like nodebridged's per-attribute JSON (pipeline_bench's flood case), with
// its sequence number first in the payload so the subscriber can tell which ones it has.
Message bench_message(std::uint64_t n) {
    char payload[96];
    std::snprintf(payload, sizeof payload,
                  "{\"n\":%llu,\"value\":%.3f,\"unit\":\"V\",\"ts\":\"2026-11-25T12:00:00.000Z\"}",
                  static_cast<unsigned long long>(n), 230.0 + static_cast<double>(n % 100) / 10);
    return Message{.topic = "bench/gw/pdu-" + std::to_string(n % 100 + 1) + "/a" +
                            std::to_string(n / 100 % 20),
                   .payload = payload,
                   .qos = 1,
                   .retain = false,
                   .rule = "per-attribute"};
}

// The sequence number bench_message() put in `payload`, or nullopt.
std::optional<std::uint64_t> sequence_of(std::string_view payload) {
    constexpr std::string_view key = "{\"n\":";
    if (!payload.starts_with(key)) return std::nullopt;
    std::uint64_t value = 0;
    std::size_t at = key.size();
    if (at >= payload.size()) return std::nullopt;
    for (; at < payload.size() && payload[at] >= '0' && payload[at] <= '9'; ++at) {
        value = value * 10 + static_cast<std::uint64_t>(payload[at] - '0');
    }
    return value;
}

class QuietLogger final : public Logger {
  public:
    QuietLogger() : Logger(LogLevel::warning) {}

  protected:
    void write(LogLevel, std::string_view message, const LogContext&) override {
        std::fprintf(stderr, "  [log] %.*s\n", static_cast<int>(message.size()), message.data());
    }
};

// ---- (a) the spool alone -------------------------------------------------------------------

struct RawResult {
    double append_s = 0;
    double read_s = 0;
    std::uint64_t bytes = 0;
    std::uint64_t syncs = 0;
};

RawResult run_raw(const Settings& settings, const std::string& dir) {
    QuietLogger log;
    auto spool = Spool::open(SpoolOptions{.dir = dir, .max_bytes = 4ull << 30}, log);
    if (!spool) throw std::runtime_error("cannot open a spool in " + dir);
    std::vector<Message> messages;
    messages.reserve(1000);
    for (std::uint64_t i = 0; i < 1000; ++i) messages.push_back(bench_message(i));

    RawResult result;
    const auto start = Steady::now();
    auto next_sync = start + 100ms;
    for (std::uint64_t i = 0; i < settings.raw; ++i) {
        if (spool->append(messages[i % messages.size()], 1'700'000'000'000) !=
            Spool::Append::stored) {
            throw std::runtime_error("append failed at record " + std::to_string(i));
        }
        // The Publisher's network thread syncs every 100 ms (kSpoolSyncInterval); here the
        // appending thread does it, so its disk waits are counted in the append rate.
        if ((i & 63) == 0 && Steady::now() >= next_sync) {
            spool->sync();
            ++result.syncs;
            next_sync = Steady::now() + 100ms;
        }
    }
    spool->sync();
    ++result.syncs;
    result.append_s = seconds_since(start);
    result.bytes = spool->counters().bytes;

    const auto read_start = Steady::now();
    std::uint64_t read = 0;
    while (auto record = spool->next(0)) {
        spool->acknowledge(record->sequence);
        ++read;
    }
    spool->sync();
    result.read_s = seconds_since(read_start);
    if (read != settings.raw || spool->counters().records != 0) {
        throw std::runtime_error("read back " + std::to_string(read) + " of " +
                                 std::to_string(settings.raw) + " records");
    }
    return result;
}

// ---- brokers and subscribers --------------------------------------------------------------


// A QoS 1 subscriber on bench/# that counts messages and which sequence numbers it has seen.
class Counter {
  public:
    Counter(int port, std::uint64_t expected) : seen_(expected, false) {
        client_ = mosquitto_new(nullptr, true, this);
        if (client_ == nullptr) throw std::runtime_error("mosquitto_new failed");
        mosquitto_int_option(client_, MOSQ_OPT_TCP_NODELAY, 1);
        mosquitto_connect_callback_set(client_, [](mosquitto* client, void*, int rc) {
            if (rc == 0) mosquitto_subscribe(client, nullptr, "bench/#", 1);
        });
        mosquitto_subscribe_callback_set(client_, [](mosquitto*, void* self, int, int, const int*) {
            static_cast<Counter*>(self)->subscribed_ = true;
        });
        mosquitto_message_callback_set(
            client_, [](mosquitto*, void* self, const mosquitto_message* message) {
                auto* me = static_cast<Counter*>(self);
                const auto n = sequence_of(
                    std::string_view(static_cast<const char*>(message->payload),
                                     static_cast<std::size_t>(std::max(message->payloadlen, 0))));
                me->received_.fetch_add(1, std::memory_order_relaxed);
                if (n && *n < me->seen_.size()) {
                    std::lock_guard lock(me->mutex_);
                    if (!me->seen_[*n]) {
                        me->seen_[*n] = true;
                        me->distinct_.fetch_add(1, std::memory_order_relaxed);
                    }
                }
            });
        if (mosquitto_connect(client_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS ||
            mosquitto_loop_start(client_) != MOSQ_ERR_SUCCESS) {
            mosquitto_destroy(client_);
            throw std::runtime_error("subscriber cannot connect to 127.0.0.1:" +
                                     std::to_string(port));
        }
        if (!test::wait_until([this] { return subscribed_.load(); }, 10s)) {
            stop();
            throw std::runtime_error("subscriber got no SUBACK");
        }
    }
    ~Counter() { stop(); }
    Counter(const Counter&) = delete;
    Counter& operator=(const Counter&) = delete;

    std::uint64_t received() const { return received_.load(std::memory_order_relaxed); }
    std::uint64_t distinct() const { return distinct_.load(std::memory_order_relaxed); }

  private:
    void stop() {
        if (client_ == nullptr) return;
        mosquitto_disconnect(client_);
        mosquitto_loop_stop(client_, true);
        mosquitto_destroy(client_);
        client_ = nullptr;
    }

    mosquitto* client_ = nullptr;
    std::atomic<bool> subscribed_{false};
    std::atomic<std::uint64_t> received_{0};
    std::atomic<std::uint64_t> distinct_{0};
    std::mutex mutex_;
    std::vector<bool> seen_;
};

MqttConfig publisher_config(int port, const std::string& spool_dir) {
    MqttConfig config;
    config.host = "127.0.0.1";
    config.port = port;
    config.client_id = "spool-bench-" + std::to_string(getpid());
    config.keepalive = 30s;
    config.reconnect_max = 1s;  // the drain case: reconnect soon after the broker is back
    config.buffer.dir = spool_dir;
    config.buffer.max_bytes = 4ull << 30;
    return config;
}

// ---- (b) QoS 1 with and without the spool ---------------------------------------------------

struct E2eResult {
    double msgs_per_s = 0;
    std::uint64_t received = 0;
    std::uint64_t dropped = 0;
};

// `flood`: publish() as fast as the calling thread can, like nodebridged at poll 1ms, instead
// of keeping at most settings.window messages unreceived.
E2eResult run_e2e(const Settings& settings, const BrokerProcess& broker,
                  const std::string& spool_dir, bool flood) {
    const auto window_s = settings.measure_s;
    // Generous: a fast machine sends a lot in the window; the counter only needs the numbers.
    Counter counter(broker.port(), 1);
    QuietLogger log;
    Publisher publisher(publisher_config(broker.port(), spool_dir), log);
    publisher.start();
    if (!test::wait_until([&] { return publisher.stats().connected; }, 10s)) {
        throw std::runtime_error("the publisher did not connect");
    }
    std::uint64_t published = 0;
    const auto publish_until = [&](Steady::time_point end) {
        while (Steady::now() < end) {
            if (!flood && published - counter.received() >= settings.window) {
                std::this_thread::sleep_for(100us);
                continue;
            }
            for (int i = 0; i < 100; ++i) publisher.publish(bench_message(published++));
        }
    };
    publish_until(Steady::now() + 1s);  // warm-up
    const std::uint64_t before = counter.received();
    const auto start = Steady::now();
    publish_until(start + std::chrono::duration_cast<Steady::duration>(
                              std::chrono::duration<double>(window_s)));
    const double elapsed = seconds_since(start);
    E2eResult result;
    result.received = counter.received() - before;
    result.msgs_per_s = static_cast<double>(result.received) / elapsed;
    publisher.stop(2s);
    result.dropped = publisher.stats().dropped;
    return result;
}

// ---- (c) draining a backlog after an outage --------------------------------------------------

struct DrainResult {
    double fill_s = 0;         // publish() of the whole backlog, broker down
    double connect_s = 0;      // broker start until the publisher is connected
    double drain_s = 0;        // publisher connected until the subscriber has every message
    double spool_empty_s = 0;  // publisher connected until spooled_records == 0
    std::uint64_t spool_bytes = 0;
    std::uint64_t received = 0;
    std::uint64_t distinct = 0;
    std::uint64_t delivered = 0;
};

DrainResult run_drain(const Settings& settings, const TempDir& dir) {
    const int port = test::free_port();
    QuietLogger log;
    Publisher publisher(publisher_config(port, dir.path() + "/drain-spool"), log);
    publisher.start();
    DrainResult result;
    const auto fill_start = Steady::now();
    for (std::uint64_t i = 0; i < settings.backlog; ++i) publisher.publish(bench_message(i));
    result.fill_s = seconds_since(fill_start);
    const auto filled = publisher.stats();
    result.spool_bytes = filled.spooled_bytes;
    if (filled.spooled_records != settings.backlog) {
        throw std::runtime_error("the spool holds " + std::to_string(filled.spooled_records) +
                                 " of " + std::to_string(settings.backlog) + " messages");
    }

    TempDir broker_dir;
    const auto broker_start = Steady::now();
    BrokerProcess broker(broker_dir, port, kDeepQueue);
    Counter counter(port, settings.backlog);
    if (!test::wait_until([&] { return publisher.stats().connected; }, 30s)) {
        throw std::runtime_error("the publisher did not reconnect");
    }
    const auto connected = Steady::now();
    result.connect_s = std::chrono::duration<double>(connected - broker_start).count();
    const auto timeout = std::max(120s, std::chrono::seconds(settings.backlog / 1000));
    bool spool_empty = false;
    const bool all = test::wait_until(
        [&] {
            if (!spool_empty && publisher.stats().spooled_records == 0) {
                spool_empty = true;
                result.spool_empty_s = seconds_since(connected);
            }
            return counter.distinct() == settings.backlog;
        },
        timeout);
    result.drain_s = seconds_since(connected);
    if (!spool_empty) {
        test::wait_until([&] { return publisher.stats().spooled_records == 0; }, 10s);
        result.spool_empty_s = seconds_since(connected);
    }
    result.received = counter.received();
    result.distinct = counter.distinct();
    result.delivered = publisher.stats().delivered;
    publisher.stop(2s);
    if (!all) {
        std::fprintf(stderr, "drain: only %llu of %llu messages arrived within %lld s\n",
                     static_cast<unsigned long long>(result.distinct),
                     static_cast<unsigned long long>(settings.backlog),
                     static_cast<long long>(timeout.count()));
    }
    return result;
}

// ---- main ----------------------------------------------------------------------------------

Settings parse_args(int argc, char** argv) {
    Settings settings;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--raw") {
            settings.raw = std::stoull(value());
        } else if (arg == "--measure") {
            settings.measure_s = std::stod(value());
        } else if (arg == "--rounds") {
            settings.rounds = std::max(1, std::stoi(value()));
        } else if (arg == "--window") {
            settings.window = std::max<std::uint64_t>(1, std::stoull(value()));
        } else if (arg == "--backlog") {
            settings.backlog = std::stoull(value());
        } else if (arg == "--skip-raw") {
            settings.run_raw = false;
        } else if (arg == "--skip-e2e") {
            settings.run_e2e = false;
        } else if (arg == "--skip-drain") {
            settings.run_drain = false;
        } else {
            throw std::invalid_argument("unknown argument " + std::string(arg));
        }
    }
    return settings;
}

int run(int argc, char** argv) {
    const Settings settings = parse_args(argc, argv);
    mosquitto_lib_init();
    TempDir dir;
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    std::printf(
        "Spool benchmark, 2 CPU cores shared with whatever else runs; load average "
        "before: %.2f %.2f %.2f\n",
        load[0], load[1], load[2]);
    std::printf(
        "Messages like nodebridged's per-attribute JSON (topic ~18 bytes, payload ~70 "
        "bytes, QoS 1), spool in %s\n\n",
        dir.path().c_str());

    if (settings.run_raw) {
        const RawResult raw = run_raw(settings, dir.path() + "/raw-spool");
        const double n = static_cast<double>(settings.raw);
        std::printf("#### (a) Spool alone, %s records\n\n", thousands(n).c_str());
        std::printf("| operation | msgs/s | MB/s | notes |\n|---|---:|---:|---|\n");
        std::printf(
            "| append(), sync() every 100 ms | %s | %.1f | %llu syncs, %.0f bytes/record "
            "|\n",
            thousands(n / raw.append_s).c_str(),
            static_cast<double>(raw.bytes) / raw.append_s / 1e6,
            static_cast<unsigned long long>(raw.syncs), static_cast<double>(raw.bytes) / n);
        std::printf("| next() + acknowledge() | %s | %.1f | segments deleted as they empty |\n\n",
                    thousands(n / raw.read_s).c_str(),
                    static_cast<double>(raw.bytes) / raw.read_s / 1e6);
        std::fflush(stdout);
    }

    if (settings.run_e2e) {
        TempDir broker_dir;
        BrokerProcess broker(broker_dir, test::free_port(), kDeepQueue);
        std::printf(
            "#### (b) QoS 1 through a Publisher and mosquitto: %d rounds, each one "
            "window of %.0f s (after 1 s warm-up) memory only and one with the spool, "
            "in alternating order\n\n",
            settings.rounds, settings.measure_s);
        std::printf(
            "| producer | memory only msgs/s, median (range) | disk spool msgs/s, median "
            "(range) | spool / memory, median of rounds (range) | target >= 90%% "
            "|\n|---|---:|---:|---:|---|\n");
        const auto median = [](std::vector<double> v) {
            std::sort(v.begin(), v.end());
            const std::size_t n = v.size();
            return n == 0 ? 0.0 : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        };
        const auto range = [](const std::vector<double>& v, double scale) {
            const auto [low, high] = std::minmax_element(v.begin(), v.end());
            return thousands(*low * scale) + " to " + thousands(*high * scale);
        };
        for (const bool flood : {false, true}) {
            std::vector<double> memory;
            std::vector<double> spooled;
            std::vector<double> ratios;
            for (int round = 0; round < settings.rounds; ++round) {
                const std::string spool_dir = dir.path() + "/e2e-spool-" + std::to_string(flood) +
                                              "-" + std::to_string(round);
                double m = 0;
                double d = 0;
                if (round % 2 == 0) {
                    m = run_e2e(settings, broker, "", flood).msgs_per_s;
                    d = run_e2e(settings, broker, spool_dir, flood).msgs_per_s;
                } else {
                    d = run_e2e(settings, broker, spool_dir, flood).msgs_per_s;
                    m = run_e2e(settings, broker, "", flood).msgs_per_s;
                }
                memory.push_back(m);
                spooled.push_back(d);
                ratios.push_back(m > 0 ? d / m : 0);
            }
            const double ratio = median(ratios);
            const std::string producer =
                flood ? std::string("flood: publish() as fast as one thread can")
                      : "at most " + thousands(static_cast<double>(settings.window)) +
                            " published and not received";
            std::printf("| %s | %s (%s) | %s (%s) | %.0f%% (%s%%) | %s |\n", producer.c_str(),
                        thousands(median(memory)).c_str(), range(memory, 1).c_str(),
                        thousands(median(spooled)).c_str(), range(spooled, 1).c_str(), ratio * 100,
                        range(ratios, 100).c_str(), ratio >= 0.9 ? "PASS" : "MISS");
            std::fflush(stdout);
        }
        std::printf("\n");
    }

    if (settings.run_drain) {
        const DrainResult drain = run_drain(settings, dir);
        const double n = static_cast<double>(settings.backlog);
        std::printf(
            "#### (c) Outage: %s QoS 1 messages spooled with no broker, then the broker "
            "starts\n\n",
            thousands(n).c_str());
        std::printf("| phase | seconds | msgs/s |\n|---|---:|---:|\n");
        std::printf("| publish() into the spool, broker down (%.0f MB) | %.2f | %s |\n",
                    static_cast<double>(drain.spool_bytes) / 1e6, drain.fill_s,
                    thousands(n / drain.fill_s).c_str());
        std::printf("| broker start -> publisher connected (reconnect backoff) | %.2f | |\n",
                    drain.connect_s);
        std::printf("| connected -> spool empty (every PUBACK) | %.2f | %s |\n",
                    drain.spool_empty_s, thousands(n / drain.spool_empty_s).c_str());
        std::printf("| connected -> subscriber has all %s | %.2f | %s |\n", thousands(n).c_str(),
                    drain.drain_s, thousands(n / drain.drain_s).c_str());
        std::printf("\nreceived %llu (%llu distinct, %llu resent), publisher delivered %llu\n",
                    static_cast<unsigned long long>(drain.received),
                    static_cast<unsigned long long>(drain.distinct),
                    static_cast<unsigned long long>(drain.received - drain.distinct),
                    static_cast<unsigned long long>(drain.delivered));
        std::fflush(stdout);
        if (drain.distinct != settings.backlog) return 1;
    }
    getloadavg(load, 3);
    std::printf("\nload average after: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
    mosquitto_lib_cleanup();
    return 0;
}

}  // namespace
}  // namespace nodebridge::bench

int main(int argc, char** argv) {
    try {
        return nodebridge::bench::run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "spool_bench: %s\n", e.what());
        return 1;
    }
}
