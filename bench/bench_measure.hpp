#pragma once
// What the end-to-end benchmarks measure with: wall-clock and payload timestamps, percentiles,
// CPU seconds of a process from /proc, the load average, a subscriber that timestamps every
// message it receives, and the report's number formats. Shared by pipeline_bench and
// tcp_gateway_bench.

#include <mosquitto.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/support.hpp"

namespace nodebridge::bench {

using Wall = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;

// ---- small helpers -----------------------------------------------------------------------

inline std::int64_t wall_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(Wall::now().time_since_epoch())
        .count();
}

// "2026-11-24T12:00:00.123Z" after `"ts":"` in `payload`, as microseconds since the epoch.
inline std::optional<std::int64_t> parse_ts_us(std::string_view payload) {
    constexpr std::string_view key = "\"ts\":\"";
    const std::size_t at = payload.find(key);
    if (at == std::string_view::npos || payload.size() < at + key.size() + 24) return std::nullopt;
    const std::string_view s = payload.substr(at + key.size(), 24);
    auto field = [&](std::size_t pos, std::size_t len, int& out) {
        const char* first = s.data() + pos;
        const auto [end, ec] = std::from_chars(first, first + len, out);
        return ec == std::errc() && end == first + len;
    };
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, ms = 0;
    if (!field(0, 4, y) || s[4] != '-' || !field(5, 2, mo) || s[7] != '-' || !field(8, 2, d) ||
        s[10] != 'T' || !field(11, 2, h) || s[13] != ':' || !field(14, 2, mi) || s[16] != ':' ||
        !field(17, 2, se) || s[19] != '.' || !field(20, 3, ms) || s[23] != 'Z') {
        return std::nullopt;
    }
    using namespace std::chrono;
    const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                              day{static_cast<unsigned>(d)}};
    if (!date.ok()) return std::nullopt;
    const auto time = sys_days{date} + hours{h} + minutes{mi} + seconds{se} + milliseconds{ms};
    return duration_cast<microseconds>(time.time_since_epoch()).count();
}

// The daemon's timestamp format: ISO 8601 UTC with milliseconds, truncated.
inline std::string iso_ms(std::int64_t epoch_us) {
    const std::time_t seconds = static_cast<std::time_t>(epoch_us / 1'000'000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>((epoch_us / 1000) % 1000));
    return buffer;
}

// Shortest round-trip text of a float32 reading widened to double, as the daemon prints it.
inline std::string number_text(float value) {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, static_cast<double>(value));
    return std::string(buffer, result.ptr);
}

struct Percentiles {
    std::size_t count = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    double max_ms = 0;
};

inline Percentiles percentiles(std::vector<std::int64_t> micros) {
    Percentiles p;
    p.count = micros.size();
    if (micros.empty()) return p;
    std::sort(micros.begin(), micros.end());
    auto at = [&](double q) {
        const auto index = static_cast<std::size_t>(q * static_cast<double>(micros.size() - 1));
        return static_cast<double>(micros[index]) / 1000.0;
    };
    p.p50_ms = at(0.50);
    p.p99_ms = at(0.99);
    p.max_ms = static_cast<double>(micros.back()) / 1000.0;
    return p;
}

// ---- /proc -------------------------------------------------------------------------------

// User + system CPU seconds a process has used, or 0 when it is gone.
inline double cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t paren = text.rfind(')');
    if (paren == std::string::npos) return 0;
    std::istringstream fields(text.substr(paren + 2));
    std::string field;
    double ticks = 0;
    // After ")": state is field 3; utime and stime are fields 14 and 15.
    for (int index = 3; index <= 15 && fields >> field; ++index) {
        if (index == 14 || index == 15) ticks += std::strtod(field.c_str(), nullptr);
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The first three fields of /proc/loadavg: other work on the machine skews every figure.
inline std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one, five, fifteen;
    in >> one >> five >> fifteen;
    return one + " " + five + " " + fifteen;
}

inline double self_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// CPU use of the processes in a case over its window, in % of one core.
struct CpuMeter {
    std::vector<std::pair<pid_t, double>> start;
    double self_start = 0;
    Steady::time_point taken;

    explicit CpuMeter(const std::vector<pid_t>& pids) {
        for (pid_t pid : pids) start.emplace_back(pid, cpu_seconds(pid));
        self_start = self_cpu_seconds();
        taken = Steady::now();
    }
    // Percent of one core for each pid given to the constructor, then for this process.
    std::vector<double> percent() const {
        const double wall = std::chrono::duration<double>(Steady::now() - taken).count();
        std::vector<double> out;
        for (const auto& [pid, before] : start)
            out.push_back(100.0 * (cpu_seconds(pid) - before) / wall);
        out.push_back(100.0 * (self_cpu_seconds() - self_start) / wall);
        return out;
    }
};

// ---- MQTT subscriber that timestamps receipt ---------------------------------------------

struct Record {
    std::int64_t received_us;
    std::int64_t latency_us;  // kNoLatency when the payload has no "ts"
};
inline constexpr std::int64_t kNoLatency = std::numeric_limits<std::int64_t>::min();

class Receiver {
  public:
    Receiver(int port, std::string topic, int qos) : topic_(std::move(topic)), qos_(qos) {
        records_.reserve(1 << 20);
        client_ = mosquitto_new(nullptr, true, this);
        if (client_ == nullptr) throw std::runtime_error("mosquitto_new failed");
        mosquitto_int_option(client_, MOSQ_OPT_TCP_NODELAY, 1);
        mosquitto_connect_callback_set(client_, [](mosquitto* client, void* self, int rc) {
            auto* me = static_cast<Receiver*>(self);
            if (rc == 0) mosquitto_subscribe(client, nullptr, me->topic_.c_str(), me->qos_);
        });
        mosquitto_subscribe_callback_set(client_, [](mosquitto*, void* self, int, int, const int*) {
            static_cast<Receiver*>(self)->subscribed_ = true;
        });
        mosquitto_message_callback_set(
            client_, [](mosquitto*, void* self, const mosquitto_message* message) {
                const std::int64_t now = wall_us();
                const std::string_view payload(static_cast<const char*>(message->payload),
                                               static_cast<std::size_t>(message->payloadlen));
                const auto ts = parse_ts_us(payload);
                auto* me = static_cast<Receiver*>(self);
                std::lock_guard lock(me->mutex_);
                me->records_.push_back({now, ts ? now - *ts : kNoLatency});
                me->count_.fetch_add(1, std::memory_order_release);
            });
        if (mosquitto_connect(client_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS ||
            mosquitto_loop_start(client_) != MOSQ_ERR_SUCCESS) {
            mosquitto_destroy(client_);
            throw std::runtime_error("subscriber cannot connect to 127.0.0.1:" +
                                     std::to_string(port));
        }
        if (!test::wait_until([this] { return subscribed_.load(); }, std::chrono::seconds(10))) {
            stop();
            throw std::runtime_error("subscriber got no SUBACK for " + topic_);
        }
    }
    ~Receiver() { stop(); }
    Receiver(const Receiver&) = delete;
    Receiver& operator=(const Receiver&) = delete;

    std::int64_t count() const {
        return static_cast<std::int64_t>(count_.load(std::memory_order_acquire));
    }

    // Messages received between `from_us` and `to_us` (wall clock) and their latencies.
    std::pair<std::int64_t, std::vector<std::int64_t>> window(std::int64_t from_us,
                                                              std::int64_t to_us) const {
        std::lock_guard lock(mutex_);
        std::int64_t received = 0;
        std::vector<std::int64_t> latencies;
        for (const Record& r : records_) {
            if (r.received_us < from_us || r.received_us >= to_us) continue;
            ++received;
            if (r.latency_us != kNoLatency) latencies.push_back(r.latency_us);
        }
        return {received, std::move(latencies)};
    }

  private:
    void stop() {
        if (client_ == nullptr) return;
        mosquitto_disconnect(client_);
        mosquitto_loop_stop(client_, true);
        mosquitto_destroy(client_);
        client_ = nullptr;
    }

    std::string topic_;
    int qos_;
    mosquitto* client_ = nullptr;
    std::atomic<bool> subscribed_{false};
    std::atomic<std::size_t> count_{0};
    mutable std::mutex mutex_;
    std::vector<Record> records_;
};

// ---- report ------------------------------------------------------------------------------

inline std::string rate_text(double value) {
    // Groups thousands with commas: 123456 -> "123,456".
    const auto whole = static_cast<long long>(value + 0.5);
    std::string digits = std::to_string(whole < 0 ? 0 : whole);
    std::string grouped;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) grouped.push_back(',');
        grouped.push_back(digits[i]);
    }
    return grouped;
}

inline std::string ms_text(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f", value);
    return buffer;
}

}  // namespace nodebridge::bench
