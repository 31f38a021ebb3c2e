// The floor of tcp_gateway_bench (issue #21): a bare single-threaded program that does exactly
// the socket work nodebridged does for the benchmark's scenarios and nothing else. One epoll
// loop; one non-blocking connection per endpoint (TCP_NODELAY, as the daemon's); for every
// node the same Modbus TCP request the daemon's planner makes for its 20 float32 attributes
// at addresses 0, 2, ..., 38 (one read of 40 input registers, function 4); polls evenly
// paced over the period (node k of T is due at start + k * period / T, then every period), or
// flat out with a window of requests in flight per endpoint; and for every reply the same
// JSON the daemon's rule publishes (per node or per attribute), through libmosquitto at QoS 0
// to the same broker. Requests due in one loop turn go out in one send per endpoint.
//
// Usage: tcp_floor --broker-port P --ports P1,P2,... --units N --attributes M
//                  [--period-ms 1000 | --flat-out] [--window K] [--shape node|attribute]
//                  [--topic PREFIX]
// Prints "ready" once connected, runs until SIGTERM or SIGINT, then prints its counts.
// MBAP framing: MODBUS Messaging on TCP/IP Implementation Guide V1.0b, section 3.1.3.

#include <arpa/inet.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench_measure.hpp"

namespace nodebridge::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Settings {
    int broker_port = 0;
    std::vector<int> ports;
    int units = 1;
    int attributes = 20;
    std::chrono::microseconds period{1'000'000};
    bool flat_out = false;
    std::size_t window = 1;
    bool per_node = true;
    std::string topic = "bench/floor";
};

struct InFlight {
    std::uint16_t transaction;
    int unit;
    Clock::time_point sent;
};

struct Endpoint {
    int fd = -1;
    int index = 0;  // 1-based, as the daemon's {index}
    std::vector<std::uint8_t> in;
    std::vector<std::uint8_t> out;
    std::deque<InFlight> in_flight;
    std::deque<int> waiting;  // units due but beyond the window
    std::uint16_t next_transaction = 1;
    int next_unit = 1;  // flat out: round robin
};

struct Counts {
    long requests = 0;
    long replies = 0;
    long published = 0;
    long publish_errors = 0;
    long bad_replies = 0;
    long timeouts = 0;
};

constexpr std::uint64_t kSignals = 1ULL << 40;
constexpr std::uint64_t kBroker = 1ULL << 41;
constexpr auto kTimeout = std::chrono::seconds(1);

class Floor {
  public:
    Floor(const Settings& settings, mosquitto* mqtt, int epoll_fd)
        : settings_(settings), mqtt_(mqtt), epoll_(epoll_fd) {}

    bool connect_all() {
        for (std::size_t i = 0; i < settings_.ports.size(); ++i) {
            Endpoint endpoint;
            endpoint.index = static_cast<int>(i) + 1;
            endpoint.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_port = htons(static_cast<std::uint16_t>(settings_.ports[i]));
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (::connect(endpoint.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) !=
                0) {
                std::fprintf(stderr, "tcp_floor: cannot connect to port %d: %s\n",
                             settings_.ports[i], std::strerror(errno));
                return false;
            }
            const int on = 1;
            ::setsockopt(endpoint.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            ::fcntl(endpoint.fd, F_SETFL, O_NONBLOCK);
            epoll_event event{};
            event.events = EPOLLIN;
            event.data.u64 = i;
            ::epoll_ctl(epoll_, EPOLL_CTL_ADD, endpoint.fd, &event);
            endpoints_.push_back(std::move(endpoint));
        }
        return true;
    }

    // Evenly paced: asks every node that is due by `now`. Returns when the next is due.
    Clock::time_point poll_due(Clock::time_point start, Clock::time_point now) {
        const auto total = static_cast<long>(endpoints_.size()) * settings_.units;
        while (true) {
            const auto due =
                start + std::chrono::microseconds(settings_.period.count() * polled_ / total);
            if (due > now) return due;
            const long node = polled_ % total;
            ask(endpoints_[static_cast<std::size_t>(node / settings_.units)],
                static_cast<int>(node % settings_.units) + 1);
            ++polled_;
        }
    }

    // Flat out: fills every endpoint's window, unless the broker's socket has not taken
    // what was published (then libmosquitto holds a backlog, and reading more would only
    // grow it: the daemon's bounded outbox holds back the same way).
    void fill_windows() {
        if (mosquitto_want_write(mqtt_)) return;
        for (Endpoint& endpoint : endpoints_) {
            while (endpoint.in_flight.size() + endpoint.waiting.size() < settings_.window) {
                ask(endpoint, endpoint.next_unit);
                endpoint.next_unit = endpoint.next_unit % settings_.units + 1;
            }
        }
    }

    // Sends what the turn queued: one send per endpoint.
    void flush() {
        for (Endpoint& endpoint : endpoints_) {
            if (endpoint.out.empty()) continue;
            const ssize_t n = ::send(endpoint.fd, endpoint.out.data(), endpoint.out.size(),
                                     MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                endpoint.out.erase(endpoint.out.begin(), endpoint.out.begin() + n);
            }
        }
    }

    void readable(std::size_t index) {
        Endpoint& endpoint = endpoints_[index];
        std::array<std::uint8_t, 16384> chunk{};
        const ssize_t n = ::recv(endpoint.fd, chunk.data(), chunk.size(), 0);
        if (n <= 0) return;
        endpoint.in.insert(endpoint.in.end(), chunk.begin(), chunk.begin() + n);
        std::size_t at = 0;
        while (endpoint.in.size() - at >= 7) {
            const std::uint8_t* adu = endpoint.in.data() + at;
            const std::size_t size = 6 + static_cast<std::size_t>((adu[4] << 8) | adu[5]);
            if (endpoint.in.size() - at < size) break;
            reply(endpoint, adu, size);
            at += size;
        }
        endpoint.in.erase(endpoint.in.begin(), endpoint.in.begin() + static_cast<long>(at));
    }

    // Requests older than the timeout are given up.
    void expire(Clock::time_point now) {
        for (Endpoint& endpoint : endpoints_) {
            while (!endpoint.in_flight.empty() &&
                   now - endpoint.in_flight.front().sent > kTimeout) {
                endpoint.in_flight.pop_front();
                ++counts_.timeouts;
                release(endpoint);
            }
        }
    }

    const Counts& counts() const { return counts_; }

  private:
    void ask(Endpoint& endpoint, int unit) {
        if (endpoint.in_flight.size() >= settings_.window) {
            endpoint.waiting.push_back(unit);
            return;
        }
        const std::uint16_t transaction = endpoint.next_transaction++;
        const auto registers = static_cast<std::uint16_t>(2 * settings_.attributes);
        const std::uint8_t request[12] = {static_cast<std::uint8_t>(transaction >> 8),
                                          static_cast<std::uint8_t>(transaction & 0xFF),
                                          0,
                                          0,
                                          0,
                                          6,
                                          static_cast<std::uint8_t>(unit),
                                          4,
                                          0,
                                          0,
                                          static_cast<std::uint8_t>(registers >> 8),
                                          static_cast<std::uint8_t>(registers & 0xFF)};
        endpoint.out.insert(endpoint.out.end(), request, request + sizeof request);
        endpoint.in_flight.push_back({transaction, unit, Clock::now()});
        ++counts_.requests;
    }

    void release(Endpoint& endpoint) {
        if (!endpoint.waiting.empty()) {
            const int unit = endpoint.waiting.front();
            endpoint.waiting.pop_front();
            ask(endpoint, unit);
        } else if (settings_.flat_out && !mosquitto_want_write(mqtt_)) {
            ask(endpoint, endpoint.next_unit);
            endpoint.next_unit = endpoint.next_unit % settings_.units + 1;
        }
    }

    void reply(Endpoint& endpoint, const std::uint8_t* adu, std::size_t size) {
        const auto transaction = static_cast<std::uint16_t>((adu[0] << 8) | adu[1]);
        const auto match =
            std::find_if(endpoint.in_flight.begin(), endpoint.in_flight.end(),
                         [&](const InFlight& f) { return f.transaction == transaction; });
        const std::size_t bytes = 4 * static_cast<std::size_t>(settings_.attributes);
        if (match == endpoint.in_flight.end() || adu[2] != 0 || adu[3] != 0 ||
            adu[6] != match->unit || size != 9 + bytes || adu[7] != 4 || adu[8] != bytes) {
            ++counts_.bad_replies;
            return;
        }
        const int unit = match->unit;
        endpoint.in_flight.erase(match);
        ++counts_.replies;
        publish(endpoint, unit, adu + 9);
        release(endpoint);
    }

    // The daemon's per-node or per-attribute JSON for one reply (docs/topics.md), QoS 0.
    void publish(const Endpoint& endpoint, int unit, const std::uint8_t* data) {
        const std::string node = "e" + std::to_string(endpoint.index) + "-" + std::to_string(unit);
        const std::string ts = iso_ms(wall_us());
        auto value = [&](int k) {
            const std::uint8_t* p = data + 4 * k;
            const std::uint32_t bits = (static_cast<std::uint32_t>(p[0]) << 24) |
                                       (static_cast<std::uint32_t>(p[1]) << 16) |
                                       (static_cast<std::uint32_t>(p[2]) << 8) | p[3];
            float f = 0;
            std::memcpy(&f, &bits, sizeof f);
            return number_text(f);
        };
        if (settings_.per_node) {
            payload_ = "{\"node\":\"" + node + "\",\"ts\":\"" + ts + "\"";
            for (int k = 0; k < settings_.attributes; ++k) {
                payload_ += ",\"a" + std::to_string(k) + "\":" + value(k);
            }
            payload_ += "}";
            send(settings_.topic + "/" + node);
            return;
        }
        for (int k = 0; k < settings_.attributes; ++k) {
            payload_ = "{\"value\":" + value(k) + ",\"unit\":\"V\",\"ts\":\"" + ts + "\"}";
            send(settings_.topic + "/" + node + "/a" + std::to_string(k));
        }
    }

    void send(const std::string& topic) {
        const int rc =
            mosquitto_publish(mqtt_, nullptr, topic.c_str(), static_cast<int>(payload_.size()),
                              payload_.data(), 0, false);
        if (rc == MOSQ_ERR_SUCCESS) {
            ++counts_.published;
        } else {
            ++counts_.publish_errors;
        }
    }

    const Settings& settings_;
    mosquitto* mqtt_;
    int epoll_;
    std::vector<Endpoint> endpoints_;
    long polled_ = 0;
    Counts counts_;
    std::string payload_;
};

std::vector<int> port_list(std::string_view text) {
    std::vector<int> ports;
    std::istringstream in{std::string(text)};
    std::string item;
    while (std::getline(in, item, ',')) ports.push_back(std::atoi(item.c_str()));
    return ports;
}

int run(const Settings& settings) {
    mosquitto_lib_init();
    mosquitto* mqtt = mosquitto_new(nullptr, true, nullptr);
    // As nodebridged's Publisher: each message sent at once, without Nagle's wait.
    if (mqtt != nullptr) mosquitto_int_option(mqtt, MOSQ_OPT_TCP_NODELAY, 1);
    if (mqtt == nullptr ||
        mosquitto_connect(mqtt, "127.0.0.1", settings.broker_port, 30) != MOSQ_ERR_SUCCESS) {
        std::fprintf(stderr, "tcp_floor: cannot connect to the broker\n");
        return 1;
    }
    const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, nullptr);
    const int signal_fd = ::signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = kSignals;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, signal_fd, &event);
    event.data.u64 = kBroker;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, mosquitto_socket(mqtt), &event);

    Floor floor(settings, mqtt, epoll_fd);
    if (!floor.connect_all()) return 1;
    std::printf("ready tcp_floor %zu endpoints x %d units\n", settings.ports.size(),
                settings.units);
    std::fflush(stdout);

    const auto start = Clock::now();
    auto next_misc = start;
    bool writing = false;
    std::array<epoll_event, 256> events{};
    bool running = true;
    while (running) {
        auto now = Clock::now();
        auto next = next_misc;
        if (settings.flat_out) {
            floor.fill_windows();
        } else {
            next = std::min(next, floor.poll_due(start, now));
        }
        floor.flush();
        // libmosquitto wrote each publish at once; what the socket did not take waits here.
        const bool want_write = mosquitto_want_write(mqtt);
        if (want_write != writing) {
            event.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
            event.data.u64 = kBroker;
            ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, mosquitto_socket(mqtt), &event);
            writing = want_write;
        }
        now = Clock::now();
        const int wait =
            next <= now ? 0
                        : static_cast<int>(
                              std::chrono::ceil<std::chrono::milliseconds>(next - now).count());
        const int ready = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()),
                                       settings.flat_out ? std::min(wait, 100) : wait);
        for (int i = 0; i < ready; ++i) {
            const epoll_event& e = events[static_cast<std::size_t>(i)];
            if (e.data.u64 == kSignals) {
                running = false;
            } else if (e.data.u64 == kBroker) {
                if (e.events & EPOLLIN) mosquitto_loop_read(mqtt, 1);
                if (e.events & EPOLLOUT) mosquitto_loop_write(mqtt, 1);
            } else {
                floor.readable(static_cast<std::size_t>(e.data.u64));
            }
        }
        now = Clock::now();
        if (now >= next_misc) {
            mosquitto_loop_misc(mqtt);
            floor.expire(now);
            next_misc = now + std::chrono::milliseconds(500);
        }
    }
    const Counts& counts = floor.counts();
    std::printf(
        "tcp_floor: requests %ld replies %ld published %ld publish_errors %ld bad_replies %ld "
        "timeouts %ld\n",
        counts.requests, counts.replies, counts.published, counts.publish_errors,
        counts.bad_replies, counts.timeouts);
    std::fflush(stdout);
    mosquitto_disconnect(mqtt);
    mosquitto_destroy(mqtt);
    mosquitto_lib_cleanup();
    return 0;
}

}  // namespace
}  // namespace nodebridge::bench

int main(int argc, char** argv) {
    using namespace nodebridge::bench;
    Settings settings;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        if (arg == "--flat-out") {
            settings.flat_out = true;
            continue;
        }
        if (value == nullptr) {
            std::fprintf(stderr, "tcp_floor: %s needs a value\n", argv[i]);
            return 64;
        }
        ++i;
        if (arg == "--broker-port") {
            settings.broker_port = std::atoi(value);
        } else if (arg == "--ports") {
            settings.ports = port_list(value);
        } else if (arg == "--units") {
            settings.units = std::max(1, std::atoi(value));
        } else if (arg == "--attributes") {
            settings.attributes = std::clamp(std::atoi(value), 1, 62);
        } else if (arg == "--period-ms") {
            settings.period = std::chrono::milliseconds(std::max(1, std::atoi(value)));
        } else if (arg == "--window") {
            settings.window = static_cast<std::size_t>(std::max(1, std::atoi(value)));
        } else if (arg == "--shape") {
            settings.per_node = std::string_view(value) != "attribute";
        } else if (arg == "--topic") {
            settings.topic = value;
        } else {
            std::fprintf(stderr,
                         "usage: tcp_floor --broker-port P --ports P1,P2,... --units N "
                         "--attributes M [--period-ms 1000 | --flat-out] [--window K] "
                         "[--shape node|attribute] [--topic PREFIX]\n");
            return 64;
        }
    }
    if (settings.broker_port <= 0 || settings.ports.empty()) {
        std::fprintf(stderr, "tcp_floor: --broker-port and --ports are required\n");
        return 64;
    }
    return run(settings);
}
