// The Modbus TCP event loop beyond what ModbusSource's TCP tests share with RTU: pipelined
// requests matched to their replies by transaction id, and a device that sends what it should
// not (issue #21, "Bad input"), played by a scripted server on loopback.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <thread>
#include <vector>

#include "modbus_source.hpp"
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

// ---- a scripted device -------------------------------------------------------------------

// Listens on 127.0.0.1; for each request it reads, calls `answer` with the request's bytes and
// sends what it returns (nothing: no reply). Counts connections.
class ScriptedDevice {
  public:
    using Answer = std::function<std::vector<std::uint8_t>(const std::vector<std::uint8_t>&)>;

    explicit ScriptedDevice(Answer answer) : answer_(std::move(answer)) {
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
                if (!reply.empty()) ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
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
}

}  // namespace
}  // namespace nodebridge
