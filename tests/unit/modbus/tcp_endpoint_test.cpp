// The Modbus TCP event loop beyond what ModbusSource's TCP tests share with RTU: pipelined
// requests matched to their replies by transaction id, and a device that sends what it should
// not (issue #21, "Bad input"), played by a scripted server on loopback.

#include "tcp_endpoint.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "modbus_source.hpp"
#include "nodebridge/io_loop.hpp"
#include "rtu_frame.hpp"
#include "sim_process.hpp"
#include "source_fixtures.hpp"
#include "support/delay_proxy.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;
using namespace modbus_test;
using test::SimProcess;
using test::TempDir;

// Readings per node in `span` of 20 units polled every 500 ms through a proxy that adds 50 ms
// to every reply, with `in_flight` requests outstanding at most; checks every value is the
// one its own unit holds, so a reply matched to the wrong request would show.
std::map<std::string, std::vector<Sample>> pipelined_readings(int in_flight, Millis span) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--nodes", "20", "--attributes", "4"});
    test::DelayProxy proxy(sim.port());
    proxy.set_reply_delay(50ms);
    std::vector<ModbusNode> nodes;
    for (int unit = 1; unit <= 20; ++unit) nodes.push_back(generated_node(unit, 4, 500ms));
    auto config = tcp_config(proxy.port(), 1s, nodes);
    std::get<ModbusTcpEndpoint>(config.link).max_in_flight = in_flight;
    SampleQueue queue(10'000);
    RecordingLogger log;
    ModbusSource source("pipelined", config, queue, log);
    source.start();
    auto readings = gather(queue, span);
    source.stop();
    for (const auto& [node, samples] : readings) {
        const int unit = std::stoi(node.substr(5));
        for (const Sample& sample : samples) {
            EXPECT_EQ(sample.attributes.size(), 4u);
            for (int k = 0; k < 4; ++k) {
                const Attribute* a = find(sample, "a" + std::to_string(k));
                if (a == nullptr) {
                    ADD_FAILURE() << "a" << k << " missing in a reading of " << node;
                    continue;
                }
                EXPECT_NEAR(std::get<double>(a->value), 10.0 * k + unit, 0.51) << node;
            }
        }
    }
    EXPECT_EQ(proxy.connections(), 1);
    EXPECT_TRUE(source.stats().errors.empty()) << source.stats().last_error;
    return readings;
}

std::size_t fewest(const std::map<std::string, std::vector<Sample>>& readings) {
    if (readings.size() < 20) return 0;
    std::size_t least = SIZE_MAX;
    for (const auto& [node, samples] : readings) least = std::min(least, samples.size());
    return least;
}

// 20 units x 2 polls a second need 40 requests a second; one at a time through 50 ms of
// latency gives at most 20. With 8 in flight every poll is served, each value from its own unit.
TEST(ModbusTcpPipelining, RepliesAreMatchedToTheirRequestsWithManyInFlight) {
    const auto pipelined = pipelined_readings(8, 3s);
    EXPECT_GE(fewest(pipelined), 5u);
    const auto one_at_a_time = pipelined_readings(1, 3s);
    std::size_t total = 0;
    for (const auto& [node, samples] : one_at_a_time) total += samples.size();
    EXPECT_LE(total, 70u);  // 3 s at <= 20 requests a second
    EXPECT_GE(total, 30u);
}

// Polled faster than the device answers, with 8 in flight: the requests that one turn frees
// room for (several replies read at once) leave in one send, not one segment each. Counted by
// a proxy in front of the simulator; requests are the source's own count.
TEST(ModbusTcpPipelining, TheRequestsOfATurnLeaveInOneSegment) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--nodes", "20", "--attributes", "4"});
    test::DelayProxy proxy(sim.port());
    proxy.set_reply_delay(20ms);  // replies come back in bunches, several per read
    std::vector<ModbusNode> nodes;
    for (int unit = 1; unit <= 20; ++unit) nodes.push_back(generated_node(unit, 4, 10ms));
    auto config = tcp_config(proxy.port(), 1s, nodes);
    std::get<ModbusTcpEndpoint>(config.link).max_in_flight = 8;
    SampleQueue queue(100'000);
    RecordingLogger log;
    ModbusSource source("coalesced", config, queue, log);
    source.start();
    ASSERT_TRUE(test::wait_until([&] { return source.stats().polls >= 400; }, 10s));
    source.stop();
    const SourceStats stats = source.stats();
    const std::uint64_t segments = proxy.client_segments();
    std::printf("%llu requests in %llu segments\n", static_cast<unsigned long long>(stats.polls),
                static_cast<unsigned long long>(segments));
    EXPECT_TRUE(stats.errors.empty()) << stats.last_error;
    EXPECT_GE(segments, 1u);
    // One a request without coalescing; 116 to 201 for 400 here, fewer per segment on a busy
    // machine (ASan, tests in parallel).
    EXPECT_LE(segments * 4, stats.polls * 3);
}

// ---- a scripted device -------------------------------------------------------------------

// Listens on 127.0.0.1; for each request it reads, calls `answer` with the request's bytes and
// sends what it returns (nothing: no reply). Counts connections. How it sends:
struct Delivery {
    Millis byte_gap{0};   // above 0: one byte at a time, this long apart
    int reset_every = 0;  // above 0: after this many replies, resets the connection (RST)
};

class ScriptedDevice {
  public:
    using Answer = std::function<std::vector<std::uint8_t>(const std::vector<std::uint8_t>&)>;

    explicit ScriptedDevice(Answer answer, Delivery delivery = {})
        : answer_(std::move(answer)), delivery_(delivery) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        ::bind(listener_, reinterpret_cast<sockaddr*>(&address), length);
        ::listen(listener_, 8);
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~ScriptedDevice() {
        stop_ = true;
        thread_.join();
        ::close(listener_);
    }
    int port() const { return port_; }
    int connections() const { return connections_; }

  private:
    void run() {
        int client = -1;
        std::vector<std::uint8_t> pending;
        while (!stop_) {
            std::vector<pollfd> fds{{listener_, POLLIN, 0}};
            if (client >= 0) fds.push_back({client, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
            if (fds[0].revents & POLLIN) {
                if (client >= 0) ::close(client);
                client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
                pending.clear();
                ++connections_;
                continue;
            }
            std::uint8_t buffer[512];
            const ssize_t got = ::read(client, buffer, sizeof buffer);
            if (got <= 0) {
                ::close(client);
                client = -1;
                continue;
            }
            pending.insert(pending.end(), buffer, buffer + got);
            // Requests are whole MBAP frames: 6 header bytes + the length field.
            while (pending.size() >= 6) {
                const std::size_t size = 6 + (pending[4] << 8 | pending[5]);
                if (pending.size() < size) break;
                const std::vector<std::uint8_t> request(pending.begin(), pending.begin() + size);
                pending.erase(pending.begin(), pending.begin() + size);
                const auto reply = answer_(request);
                send(client, reply);
                if (delivery_.reset_every > 0 && ++replies_ % delivery_.reset_every == 0) {
                    const linger abort{.l_onoff = 1, .l_linger = 0};  // close sends RST
                    ::setsockopt(client, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
                    ::close(client);
                    client = -1;
                    pending.clear();
                    break;
                }
            }
        }
        if (client >= 0) ::close(client);
    }

    void send(int client, const std::vector<std::uint8_t>& reply) {
        if (delivery_.byte_gap == Millis(0)) {
            if (!reply.empty()) ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
            return;
        }
        for (std::uint8_t byte : reply) {
            ::send(client, &byte, 1, MSG_NOSIGNAL);
            std::this_thread::sleep_for(delivery_.byte_gap);
        }
    }

    Answer answer_;
    Delivery delivery_;
    int replies_ = 0;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::thread thread_;
};

// The reply a device owes a read of one input register: the request's header, FC4, one word.
std::vector<std::uint8_t> register_reply(const std::vector<std::uint8_t>& request,
                                         std::uint16_t value) {
    return {request[0],
            request[1],
            0,
            0,
            0,
            5,
            request[6],
            4,
            2,
            static_cast<std::uint8_t>(value >> 8),
            static_cast<std::uint8_t>(value)};
}

ModbusNode one_register_node() {
    ModbusNode node;
    node.id = "dev";
    node.unit = 1;
    node.poll = 100ms;
    node.attributes = {attribute("value", ModbusTable::input, 0, ModbusType::uint16)};
    return node;
}

struct Polled {
    std::vector<Sample> readings;
    SourceStats stats;
};

Polled poll_scripted(ScriptedDevice& device, Millis span) {
    SampleQueue queue(1000);
    RecordingLogger log;
    auto config = tcp_config(device.port(), 200ms, {one_register_node()});
    config.dead_after = 0;
    ModbusSource source("scripted", config, queue, log);
    source.start();
    auto readings = gather(queue, span);
    source.stop();
    return {readings["dev"], source.stats()};
}

// The reading's value; -1 when it is missing or not a whole number.
long long value_of(const Sample& sample) {
    const Attribute* value = find(sample, "value");
    if (value == nullptr) return -1;
    if (const auto* integer = std::get_if<std::int64_t>(&value->value)) return *integer;
    if (const auto* number = std::get_if<double>(&value->value)) return std::llround(*number);
    return -1;
}

TEST(ModbusTcpBadInput, AReplyToNoRequestInFlightIsCountedAndDropped) {
    // Before each true reply, a reply with another transaction id and a value that must never
    // be published.
    ScriptedDevice device([](const std::vector<std::uint8_t>& request) {
        auto stale = register_reply(request, 666);
        stale[0] ^= 0x55;
        auto reply = register_reply(request, 42);
        stale.insert(stale.end(), reply.begin(), reply.end());
        return stale;
    });
    const Polled run = poll_scripted(device, 1s);
    ASSERT_GE(run.readings.size(), 5u);
    for (const Sample& sample : run.readings) EXPECT_EQ(value_of(sample), 42);
    ASSERT_TRUE(run.stats.errors.contains("stale"));
    EXPECT_GE(run.stats.errors.at("stale"), run.readings.size());
    EXPECT_EQ(device.connections(), 1);
}

TEST(ModbusTcpBadInput, AReplyFromAnotherUnitIsDroppedAndTheRequestTimesOut) {
    ScriptedDevice device([](const std::vector<std::uint8_t>& request) {
        auto reply = register_reply(request, 666);
        reply[6] = 9;  // another unit
        return reply;
    });
    const Polled run = poll_scripted(device, 1s);
    EXPECT_TRUE(run.readings.empty());
    ASSERT_TRUE(run.stats.errors.contains("wrong-unit"));
    ASSERT_TRUE(run.stats.errors.contains("timeout"));
    EXPECT_EQ(device.connections(), 1);
}

TEST(ModbusTcpBadInput, AReplyToAnotherFunctionIsDropped) {
    ScriptedDevice device([](const std::vector<std::uint8_t>& request) {
        auto reply = register_reply(request, 666);
        reply[7] = 3;  // a holding-register reply to an input-register read
        return reply;
    });
    const Polled run = poll_scripted(device, 1s);
    EXPECT_TRUE(run.readings.empty());
    ASSERT_TRUE(run.stats.errors.contains("garbled"));
    ASSERT_TRUE(run.stats.errors.contains("timeout"));
}

// A stream that cannot be framed is not read past: the connection is closed and reopened.
void expect_reconnect_after(const std::function<void(std::vector<std::uint8_t>&)>& spoil,
                            const std::string& kind) {
    std::atomic<int> answered{0};
    ScriptedDevice device([&](const std::vector<std::uint8_t>& request) {
        auto reply = register_reply(request, 42);
        if (answered++ % 2 == 0) spoil(reply);  // every other reply is bad
        return reply;
    });
    const Polled run = poll_scripted(device, 2s);
    ASSERT_TRUE(run.stats.errors.contains(kind)) << kind;
    EXPECT_GE(device.connections(), 2) << kind;
    for (const Sample& sample : run.readings) EXPECT_EQ(value_of(sample), 42) << kind;
    EXPECT_FALSE(run.readings.empty()) << kind;
}

TEST(ModbusTcpBadInput, AProtocolIdOtherThanZeroOrAnImpossibleLengthClosesTheConnection) {
    expect_reconnect_after([](auto& reply) { reply[3] = 1; }, "garbled");
    expect_reconnect_after([](auto& reply) { reply[5] = 0; }, "garbled");  // length 0
    expect_reconnect_after([](auto& reply) { reply[4] = 1; }, "garbled");  // length 261
}

TEST(ModbusTcpBadInput, AReplyThatStopsHalfWayClosesTheConnectionAfterTheTimeout) {
    expect_reconnect_after([](auto& reply) { reply.resize(8); }, "truncated");
}

TEST(ModbusTcpBadInput, ARefusedConnectionIsRetriedWithBackoff) {
    // A closed port on loopback refuses at once: a "connection" error, then the next attempt
    // after the backoff (0.5 s, then 1 s).
    SampleQueue queue(100);
    RecordingLogger log;
    ModbusSource source("refused", tcp_config(test::free_port(), 200ms, {one_register_node()}),
                        queue, log);
    source.start();
    std::this_thread::sleep_for(1200ms);  // attempts at 0, 0.5 s, 1.5 s
    const SourceStats stats = source.stats();
    source.stop();
    ASSERT_TRUE(stats.errors.contains("connection"));
    EXPECT_EQ(stats.errors.at("connection"), 2u);
    // Both counted, logged once: the same reason again is not news.
    const auto lines = log.lines();
    EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                            [](const std::string& line) {
                                return line.starts_with("modbus-connection cannot connect");
                            }),
              1)
        << testing::PrintToString(lines);
}

TEST(ModbusTcpBadInput, RepliesSplitIntoSingleBytesAreReadWhole) {
    // 11 bytes 5 ms apart: every reply arrives over many reads, well within the timeout.
    ScriptedDevice device([](const auto& request) { return register_reply(request, 42); },
                          Delivery{.byte_gap = 5ms});
    const Polled run = poll_scripted(device, 1s);
    ASSERT_GE(run.readings.size(), 3u);
    for (const Sample& sample : run.readings) EXPECT_EQ(value_of(sample), 42);
    EXPECT_TRUE(run.stats.errors.empty()) << run.stats.last_error;
    EXPECT_EQ(device.connections(), 1);
}

TEST(ModbusTcpBadInput, AResetConnectionIsCountedAndReopened) {
    ScriptedDevice device([](const auto& request) { return register_reply(request, 42); },
                          Delivery{.reset_every = 3});
    const Polled run = poll_scripted(device, 2s);
    ASSERT_TRUE(run.stats.errors.contains("connection"));
    EXPECT_GE(device.connections(), 2);
    ASSERT_FALSE(run.readings.empty());
    for (const Sample& sample : run.readings) EXPECT_EQ(value_of(sample), 42);
}

// ---- many endpoints on one loop -----------------------------------------------------------

// Readings of `queue`'s node `node` within `span`, and the longest time between two of them.
struct Paced {
    std::size_t readings = 0;
    Millis longest_gap{0};
};

Paced pace_of(SampleQueue& queue, const std::string& node, Millis span) {
    Paced paced;
    auto last = SteadyClock::now();
    const auto deadline = last + span;
    while (auto sample = queue.pop_until(deadline)) {
        if (sample->online || sample->node != node) continue;
        const auto now = SteadyClock::now();
        paced.longest_gap =
            std::max(paced.longest_gap, std::chrono::duration_cast<Millis>(now - last));
        last = now;
        ++paced.readings;
    }
    return paced;
}

TEST(ModbusTcpBadInput, AFloodingDeviceDoesNotStarveTheOthersOnTheLoop) {
    // Every request of the flooding device is answered with 16 MB of replies to no request
    // (about 1.5 million frames, each counted and dropped): without a bound on what one
    // connection may take per turn, the loop would parse them all before serving anyone else.
    std::vector<std::uint8_t> flood;
    for (std::uint16_t i = 0; flood.size() < 16u << 20; ++i) {
        const std::vector<std::uint8_t> fake{
            static_cast<std::uint8_t>(0xF0 | (i >> 12)), 0, 0, 0, 0, 5, 1, 4, 2, 0, 0};
        flood.insert(flood.end(), fake.begin(), fake.end());
    }
    ScriptedDevice flooder([&](const auto&) { return flood; });
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--nodes", "1", "--attributes", "1"});

    IoLoop loop("test-loop");
    loop.start();
    SampleQueue queue(10'000);
    TurnSamples samples(loop, queue);
    RecordingLogger log;
    modbus::TcpEndpoint flooded("flooder", tcp_config(flooder.port(), 200ms, {one_register_node()}),
                                samples, log);
    modbus::TcpEndpoint calm("calm", tcp_config(sim.port(), 500ms, {generated_node(1, 1, 50ms)}),
                             samples, log);
    calm.start();
    flooded.start();
    const Paced paced = pace_of(queue, "unit-1", 3s);
    const SourceStats flood_stats = flooded.stats();
    flooded.stop();
    calm.stop();
    loop.stop();

    ASSERT_TRUE(flood_stats.errors.contains("stale"));
    EXPECT_GE(flood_stats.errors.at("stale"), 100'000u);  // it did flood
    EXPECT_GE(paced.readings, 20u);                       // 60 polls due in 3 s
    std::printf("beside a flood: %zu readings, longest gap %lld ms\n", paced.readings,
                static_cast<long long>(paced.longest_gap.count()));
    // Seen: about 60 ms (170 under TSan); with no bound and an 8 MB flood, 409 ms.
    EXPECT_LT(paced.longest_gap, 300ms);
    EXPECT_TRUE(calm.stats().errors.empty()) << calm.stats().last_error;
}

// A resolver for "device.test" that answers with `port` on 127.0.0.1, after `delay`, noting
// the thread it runs on.
struct FakeResolver {
    std::atomic<int> port{0};
    Millis delay{0};
    std::mutex mutex;
    std::vector<std::thread::id> threads;

    modbus::Resolver resolver() {
        return [this](const std::string& host, int) {
            {
                std::lock_guard lock(mutex);
                threads.push_back(std::this_thread::get_id());
            }
            std::this_thread::sleep_for(delay);
            modbus::Resolved resolved;
            if (host != "device.test") return modbus::Resolved{{}, "unknown host " + host};
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            address.sin_port = htons(static_cast<std::uint16_t>(port.load()));
            sockaddr_storage stored{};
            std::memcpy(&stored, &address, sizeof address);
            resolved.addresses.push_back(stored);
            return resolved;
        };
    }
};

TEST(ModbusTcpResolve, AHostThatMovedIsLookedUpAgainOffTheLoop) {
    TempDir dir;
    SimProcess moved(dir, {"modbus-tcp", "--port", "0", "--nodes", "1", "--attributes", "1"});
    SimProcess calm_sim(dir, {"modbus-tcp", "--port", "0", "--nodes", "1", "--attributes", "1"});
    FakeResolver names;
    names.port = test::free_port();  // where the device was: nothing listens there any more
    names.delay = 300ms;             // a slow resolver

    IoLoop loop("test-loop");
    loop.start();
    std::thread::id loop_thread;
    loop.run_sync([&] { loop_thread = std::this_thread::get_id(); });
    SampleQueue moved_queue(1000);
    SampleQueue calm_queue(1000);
    TurnSamples moved_samples(loop, moved_queue);
    TurnSamples calm_samples(loop, calm_queue);
    RecordingLogger log;
    auto config = tcp_config(0, 300ms, {generated_node(1, 1, 50ms)});
    std::get<ModbusTcpEndpoint>(config.link).host = "device.test";
    modbus::TcpEndpoint device("moved", config, moved_samples, log, names.resolver());
    modbus::TcpEndpoint calm("calm",
                             tcp_config(calm_sim.port(), 300ms, {generated_node(1, 1, 50ms)}),
                             calm_samples, log);
    calm.start();
    device.start();             // resolves to the old port, which refuses
    names.port = moved.port();  // the name now gives the device's new address
    const auto reading = next_reading(moved_queue, 5s);
    const Paced paced = pace_of(calm_queue, "unit-1", 1s);
    device.stop();
    calm.stop();
    loop.stop();

    ASSERT_TRUE(reading.has_value()) << "never read at its new address";
    std::lock_guard lock(names.mutex);
    ASSERT_GE(names.threads.size(), 2u);
    for (const auto& id : names.threads) EXPECT_NE(id, loop_thread);
    EXPECT_GE(paced.readings, 10u);
    EXPECT_LT(paced.longest_gap, 250ms);  // the 300 ms lookups never held up the loop
}

// Resident memory of this process, in KiB (VmRSS in /proc/self/status).
long resident_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    }
    return -1;
}

std::size_t open_descriptors() {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator("/proc/self/fd")) {
        ++count;
    }
    return count;
}

// A logger that keeps nothing: 10,000 endpoints' failures would be a lot of lines.
class CountingLogger final : public Logger {
  public:
    CountingLogger() : Logger(LogLevel::debug) {}
    std::size_t lines() const { return lines_; }
    std::size_t connection_lines() const { return connection_lines_; }

  protected:
    void write(LogLevel, std::string_view, const LogContext& context) override {
        ++lines_;
        if (context.event == "modbus-connection") ++connection_lines_;
    }

  private:
    std::atomic<std::size_t> lines_{0};
    std::atomic<std::size_t> connection_lines_{0};
};

TEST(ModbusTcpBadInput, TenThousandUnreachableEndpointsKeepMemoryAndDescriptorsBounded) {
#if defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "a memory bound, and a minute of work under ThreadSanitizer: the plain and "
                    "ASan builds check it";
#endif
    // Every endpoint's port refuses; each retries on its backoff (0.5, 1, 2 s, ...).
    constexpr int kEndpoints = 10'000;
    const int closed = test::free_port();
    IoLoop loop("test-loop");
    loop.start();
    SampleQueue queue(100);
    TurnSamples samples(loop, queue);
    CountingLogger log;
    const std::size_t descriptors_before = open_descriptors();
    const long before = resident_kib();
    std::vector<std::unique_ptr<modbus::TcpEndpoint>> endpoints;
    for (int i = 0; i < kEndpoints; ++i) {
        endpoints.push_back(std::make_unique<modbus::TcpEndpoint>(
            "pdu-" + std::to_string(i), tcp_config(closed, 200ms, {one_register_node()}), samples,
            log));
        endpoints.back()->start();
    }
    std::this_thread::sleep_for(1s);  // the first attempts and the 0.5 s retries are done
    const long settled = resident_kib();
    std::this_thread::sleep_for(3s);  // the 1 s and 2 s retries
    const long later = resident_kib();
    const std::size_t descriptors = open_descriptors();
    std::uint64_t failures = 0;
    for (const auto& endpoint : endpoints) {
        const SourceStats stats = endpoint->stats();
        if (stats.errors.contains("connection")) failures += stats.errors.at("connection");
    }
    const std::size_t logged = log.lines();
    endpoints.clear();
    loop.stop();

    std::printf(
        "10,000 unreachable endpoints: %ld KiB resident (%ld bytes each), %ld KiB more "
        "3 s later, %zu attempts failed, %zu log lines\n",
        settled, (settled - before) * 1024 / kEndpoints, later - settled,
        static_cast<std::size_t>(failures), logged);
    EXPECT_GE(failures, 3u * kEndpoints);  // at 0, 0.5 and 1.5 s at least
#if !defined(__SANITIZE_ADDRESS__)         // ASan's quarantine keeps what was freed, up to 256 MiB
    EXPECT_LT(later - settled, 4 * 1024);  // retrying does not grow memory
#endif
    EXPECT_LT(descriptors, descriptors_before + 64);  // a refused attempt keeps no descriptor
    EXPECT_LE(log.connection_lines(), std::size_t{kEndpoints});  // each says why, once
    EXPECT_LE(logged, 2u * kEndpoints);  // and, once, that its node is offline
}

// ---- a TCP-to-RTU gateway -------------------------------------------------------------------

TEST(ModbusTcpGateway, ADeadUnitBehindTheGatewayTakesNeitherTheConnectionNorTheOthersDown) {
    // Units 1 and 2 answer; unit 3 (unknown to the simulator) never does, as a meter that
    // is switched off behind a gateway. The defaults: one request at a time.
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--nodes", "2", "--attributes", "1"});
    test::DelayProxy proxy(sim.port());
    std::vector<ModbusNode> nodes;
    for (int unit = 1; unit <= 3; ++unit) nodes.push_back(generated_node(unit, 1, 100ms));
    auto config = tcp_config(proxy.port(), 200ms, nodes);
    config.dead_after = 2;
    config.dead_poll = 1s;
    SampleQueue queue(10'000);
    RecordingLogger log;
    ModbusSource source("gateway", config, queue, log);
    source.start();
    auto readings = gather(queue, 3s);
    const auto errors = source.node_errors();
    const SourceStats stats = source.stats();
    source.stop();

    EXPECT_EQ(proxy.connections(), 1);
    EXPECT_FALSE(stats.errors.contains("connection")) << stats.last_error;
    // 30 polls due each; the dead unit costs 2 x 200 ms, then one timeout a second.
    EXPECT_GE(readings["unit-1"].size(), 15u);
    EXPECT_GE(readings["unit-2"].size(), 15u);
    EXPECT_TRUE(readings["unit-3"].empty());
    ASSERT_TRUE(errors.contains("unit-3"));
    EXPECT_LE(errors.at("unit-3").at("timeout"), 6u);  // 2 to die, then at dead_poll
    EXPECT_FALSE(errors.contains("unit-1"));
}

// ---- RTU frames over TCP (a serial device server) ----------------------------------------

ModbusSourceConfig rtu_over_tcp(int port, Millis timeout, std::vector<ModbusNode> nodes) {
    auto config = tcp_config(port, timeout, std::move(nodes));
    std::get<ModbusTcpEndpoint>(config.link).framing = TcpFraming::rtu;
    return config;
}

TEST(ModbusRtuOverTcp, ReadsANoisyLineBehindASerialServerWithADeadUnit) {
    // 19,200 baud paced byte by byte (each byte its own TCP segment, so every reply arrives
    // split), one reply in ten with a bit flipped, unit 3 never answering.
    TempDir dir;
    SimProcess sim(dir,
                   {"modbus-rtu", "--tcp-port", "0", "--nodes", "3", "--attributes", "4", "--wire",
                    "--baud", "19200", "--corrupt", "0.1", "--dead", "3", "--seed", "5"});
    std::vector<ModbusNode> nodes;
    for (int unit = 1; unit <= 3; ++unit) nodes.push_back(generated_node(unit, 4, 200ms));
    // Every failure costs its timeout and as long again of silence before the next request.
    auto config = rtu_over_tcp(sim.port(), 150ms, nodes);
    config.retries = 1;
    config.dead_after = 2;
    config.request_gap = 5ms;  // t3.5 of the line behind the server, and some
    SampleQueue queue(10'000);
    RecordingLogger log;
    ModbusSource source("serial-server", config, queue, log);
    source.start();
    auto readings = gather(queue, 4s);
    const SourceStats stats = source.stats();
    source.stop();

    for (int unit = 1; unit <= 2; ++unit) {
        const auto& samples = readings["unit-" + std::to_string(unit)];
        EXPECT_GE(samples.size(), 5u) << unit;
        for (const Sample& sample : samples) {
            for (int k = 0; k < 4; ++k) {
                const Attribute* a = find(sample, "a" + std::to_string(k));
                ASSERT_NE(a, nullptr);
                EXPECT_NEAR(std::get<double>(a->value), 10.0 * k + unit, 0.51) << unit;
            }
        }
    }
    EXPECT_TRUE(readings["unit-3"].empty());
    ASSERT_TRUE(stats.errors.contains("crc")) << stats.last_error;
    ASSERT_TRUE(stats.errors.contains("timeout"));
    EXPECT_FALSE(stats.errors.contains("connection")) << stats.last_error;
}

// Listens on 127.0.0.1 as a serial device server with a scripted line behind it: for each RTU
// read request (8 bytes), `answer` gives the reply bytes and how long the line takes.
class ScriptedSerialServer {
  public:
    struct Reply {
        std::vector<std::uint8_t> bytes;
        Millis after{0};        // before the first byte
        std::size_t split = 0;  // above 0: this many bytes, a pause of 20 ms, the rest
    };
    using Answer = std::function<Reply(const std::vector<std::uint8_t>& request)>;

    explicit ScriptedSerialServer(Answer answer) : answer_(std::move(answer)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        ::bind(listener_, reinterpret_cast<sockaddr*>(&address), length);
        ::listen(listener_, 8);
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~ScriptedSerialServer() {
        stop_ = true;
        thread_.join();
        ::close(listener_);
    }
    int port() const { return port_; }
    int connections() const { return connections_; }

  private:
    void run() {
        int client = -1;
        std::vector<std::uint8_t> pending;
        while (!stop_) {
            std::vector<pollfd> fds{{listener_, POLLIN, 0}};
            if (client >= 0) fds.push_back({client, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
            if (fds[0].revents & POLLIN) {
                if (client >= 0) ::close(client);
                client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
                pending.clear();
                ++connections_;
                continue;
            }
            std::uint8_t buffer[512];
            const ssize_t got = ::read(client, buffer, sizeof buffer);
            if (got <= 0) {
                ::close(client);
                client = -1;
                continue;
            }
            pending.insert(pending.end(), buffer, buffer + got);
            while (pending.size() >= 8) {
                const std::vector<std::uint8_t> request(pending.begin(), pending.begin() + 8);
                pending.erase(pending.begin(), pending.begin() + 8);
                const Reply reply = answer_(request);
                std::this_thread::sleep_for(reply.after);
                const std::size_t first = reply.split > 0 ? reply.split : reply.bytes.size();
                ::send(client, reply.bytes.data(), first, MSG_NOSIGNAL);
                if (first < reply.bytes.size()) {
                    std::this_thread::sleep_for(20ms);
                    ::send(client, reply.bytes.data() + first, reply.bytes.size() - first,
                           MSG_NOSIGNAL);
                }
            }
        }
        if (client >= 0) ::close(client);
    }

    Answer answer_;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::thread thread_;
};

// The RTU reply to a read of one input register with `value`.
std::vector<std::uint8_t> rtu_register_reply(const std::vector<std::uint8_t>& request,
                                             std::uint16_t value) {
    std::vector<std::uint8_t> reply;
    modbus::rtu::append_frame(request[0],
                              std::vector<std::uint8_t>{4, 2, static_cast<std::uint8_t>(value >> 8),
                                                        static_cast<std::uint8_t>(value)},
                              reply);
    return reply;
}

std::uint16_t requested_address(const std::vector<std::uint8_t>& request) {
    return static_cast<std::uint16_t>(request[2] << 8 | request[3]);
}

// Two single-register reads per poll: "first" at address 0, "second" at address 10.
ModbusNode two_register_node() {
    ModbusNode node;
    node.id = "dev";
    node.unit = 1;
    node.poll = 100ms;
    node.attributes = {attribute("first", ModbusTable::input, 0, ModbusType::uint16),
                       attribute("second", ModbusTable::input, 10, ModbusType::uint16)};
    return node;
}

struct RtuPolled {
    std::vector<Sample> readings;
    SourceStats stats;
};

RtuPolled poll_serial_server(ScriptedSerialServer& server, Millis span) {
    SampleQueue queue(1000);
    RecordingLogger log;
    auto config = rtu_over_tcp(server.port(), 200ms, {two_register_node()});
    config.max_gap = 0;  // two requests, not one read across the gap
    config.dead_after = 0;
    config.retries = 0;  // a timed-out read is not sent again: the poll goes on to the next
    ModbusSource source("serial-server", config, queue, log);
    source.start();
    auto readings = gather(queue, span);
    source.stop();
    return {readings["dev"], source.stats()};
}

long long attribute_value(const Sample& sample, std::string_view name) {
    const Attribute* a = find(sample, name);
    if (a == nullptr) return -1;
    if (const auto* integer = std::get_if<std::int64_t>(&a->value)) return *integer;
    if (const auto* number = std::get_if<double>(&a->value)) return std::llround(*number);
    return -1;
}

TEST(ModbusRtuOverTcp, ALateReplyIsNeverTakenForTheNextRequest) {
    // Every other read of "second" (222) is answered 300 ms late, after its 200 ms timeout.
    // The poll ends there, and the next one starts with the read of "first" at once: a master
    // that matched frames naively would take the late reply (same unit, function and size)
    // for it and publish "first" = 222. "first" is answered 50 ms after it is asked, so the
    // late reply arrives alone.
    std::atomic<int> seconds_asked{0};
    ScriptedSerialServer server([&](const auto& request) -> ScriptedSerialServer::Reply {
        if (requested_address(request) == 0) return {rtu_register_reply(request, 111), 50ms};
        return {rtu_register_reply(request, 222), seconds_asked++ % 2 ? 300ms : 0ms};
    });
    const RtuPolled run = poll_serial_server(server, 3s);
    ASSERT_GE(run.readings.size(), 3u);
    std::size_t firsts = 0;
    for (const Sample& sample : run.readings) {
        const long long first = attribute_value(sample, "first");
        if (first == -1) continue;
        ++firsts;
        EXPECT_EQ(first, 111) << "a late reply to another request was published";
        const long long second = attribute_value(sample, "second");
        if (second != -1) {
            EXPECT_EQ(second, 222);
        }
    }
    EXPECT_GE(firsts, 3u);
    ASSERT_TRUE(run.stats.errors.contains("timeout"));
    ASSERT_TRUE(run.stats.errors.contains("stale")) << run.stats.last_error;
    EXPECT_EQ(server.connections(), 1);
}

TEST(ModbusRtuOverTcp, JoinedSplitAndCorruptRepliesAreCountedAndNeverPublished) {
    // Request by request: a reply followed by a second copy (joined), a reply with a bad CRC,
    // a reply in two pieces, a reply from another unit, then a good one; round and round.
    std::atomic<int> count{0};
    ScriptedSerialServer server([&](const auto& request) -> ScriptedSerialServer::Reply {
        auto reply = rtu_register_reply(request, requested_address(request) == 0 ? 111 : 222);
        switch (count++ % 5) {
            case 0: {
                auto joined = reply;
                joined.insert(joined.end(), reply.begin(), reply.end());
                return {joined, 0ms};
            }
            case 1:
                reply[4] ^= 0x01;
                return {reply, 0ms};
            case 2:
                return {reply, 0ms, 3};
            case 3: {
                auto other = request;
                other[0] = 9;
                return {rtu_register_reply(other, 666), 0ms};
            }
            default:
                return {reply, 0ms};
        }
    });
    const RtuPolled run = poll_serial_server(server, 3s);
    ASSERT_FALSE(run.readings.empty());
    for (const Sample& sample : run.readings) {
        const long long first = attribute_value(sample, "first");
        const long long second = attribute_value(sample, "second");
        if (first != -1) {
            EXPECT_EQ(first, 111);
        }
        if (second != -1) {
            EXPECT_EQ(second, 222);
        }
    }
    for (const char* kind : {"stale", "crc", "wrong-unit"}) {
        EXPECT_TRUE(run.stats.errors.contains(kind)) << kind << ": " << run.stats.last_error;
    }
    EXPECT_EQ(server.connections(), 1);
}

TEST(ModbusRtuOverTcp, AServerWithNoLineBehindItTimesOutWithoutReconnecting) {
    ScriptedSerialServer server([](const auto&) { return ScriptedSerialServer::Reply{}; });
    const RtuPolled run = poll_serial_server(server, 1500ms);
    EXPECT_TRUE(run.readings.empty());
    ASSERT_TRUE(run.stats.errors.contains("timeout"));
    EXPECT_EQ(server.connections(), 1);
}

}  // namespace
}  // namespace nodebridge
