// nodebridge-sim modbus-tcp seen through a raw socket (issue #21): requests sent back to back
// on one connection are answered in order, each with its own transaction id; --rtu-gateway
// answers one request at a time across all connections, paced by its line; --ports serves
// many endpoints from one process; and the TCP source with max_in_flight 4 reads everything
// right through the gateway.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "modbus_source.hpp"
#include "rtu_timing.hpp"
#include "sim_process.hpp"
#include "source_fixtures.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;
using namespace modbus_test;
using test::SimProcess;
using test::TempDir;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

// Units 1..3, each with input registers 0..9 holding 100 * unit + address, and ten holding
// registers; constant, so every reply's values are known.
std::string constant_devices(const TempDir& dir) {
    std::ostringstream yaml;
    yaml << "devices:\n";
    for (int unit = 1; unit <= 3; ++unit) {
        yaml << "  - unit: " << unit << "\n    sizes: { holding: 10 }\n    points:\n";
        for (int address = 0; address < 10; ++address) {
            yaml << "      - { table: input, address: " << address
                 << ", type: uint16, value: " << 100 * unit + address << " }\n";
        }
    }
    return dir.write("devices.yaml", yaml.str());
}

class Client {
  public:
    explicit Client(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        const int on = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    ~Client() { ::close(fd_); }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    bool connected() const { return connected_; }
    int fd() const { return fd_; }

    bool send(const Bytes& bytes) {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return false;
            sent += static_cast<std::size_t>(n);
        }
        return true;
    }

    // The next whole MBAP frame within `timeout`; empty on timeout or a closed connection.
    Bytes frame(std::chrono::milliseconds timeout = 3s) {
        const auto deadline = Clock::now() + timeout;
        while (true) {
            if (buffer_.size() >= 6) {
                const std::size_t size = 6 + ((buffer_[4] << 8) | buffer_[5]);
                if (buffer_.size() >= size) {
                    Bytes out(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(size));
                    buffer_.erase(buffer_.begin(),
                                  buffer_.begin() + static_cast<std::ptrdiff_t>(size));
                    return out;
                }
            }
            if (!readable_until(deadline)) return {};
            std::uint8_t chunk[4096];
            const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) {
                closed_ = true;
                return {};
            }
            buffer_.insert(buffer_.end(), chunk, chunk + n);
        }
    }

    // Whether the peer closed the connection within `timeout`.
    bool closed_within(std::chrono::milliseconds timeout) {
        frame(timeout);
        return closed_;
    }

    bool readable_until(Clock::time_point deadline) const {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        pollfd fd{fd_, POLLIN, 0};
        return ::poll(&fd, 1, static_cast<int>(left.count())) == 1;
    }

  private:
    int fd_ = -1;
    bool connected_ = false;
    bool closed_ = false;
    Bytes buffer_;
};

Bytes& operator+=(Bytes& out, const Bytes& more) {
    out.insert(out.end(), more.begin(), more.end());
    return out;
}

Bytes operator+(Bytes first, const Bytes& second) { return first += second; }

void put16(Bytes& out, int value) {
    out.push_back(static_cast<std::uint8_t>((value >> 8) & 0xFF));
    out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

// One request ADU: MBAP header (transaction, protocol 0, length, unit) and `pdu`.
Bytes adu(int transaction, int unit, const Bytes& pdu) {
    Bytes out;
    put16(out, transaction);
    put16(out, 0);
    put16(out, static_cast<int>(pdu.size()) + 1);
    out.push_back(static_cast<std::uint8_t>(unit));
    out.insert(out.end(), pdu.begin(), pdu.end());
    return out;
}

Bytes read_pdu(int function, int address, int count) {
    Bytes pdu{static_cast<std::uint8_t>(function)};
    put16(pdu, address);
    put16(pdu, count);
    return pdu;
}

int transaction_of(const Bytes& frame) { return (frame[0] << 8) | frame[1]; }

// The registers of a read reply (function 3 or 4), or nothing when it is anything else.
std::vector<int> registers_of(const Bytes& frame) {
    std::vector<int> out;
    if (frame.size() < 9 || (frame[7] != 3 && frame[7] != 4)) return out;
    for (std::size_t i = 9; i + 1 < frame.size(); i += 2)
        out.push_back((frame[i] << 8) | frame[i + 1]);
    return out;
}

// What a request expects back.
struct Expected {
    int transaction;
    int unit;
    int function;             // the reply's function code (| 0x80 for an exception)
    std::vector<int> values;  // read replies: the registers; exceptions: {code}
};

// Sixty requests back to back in one send: reads of every unit at shifting addresses and
// lengths, a write followed by a read of what it wrote, a unit with no device (no reply) and a
// read past the table (exception 2). Every reply comes in request order with its own
// transaction id, unit and values.
TEST(ModbusTcpSim, AnswersRequestsSentBackToBackInOrder) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--devices", constant_devices(dir)});
    Client client(sim.port());
    ASSERT_TRUE(client.connected());
    Bytes batch;
    std::vector<Expected> expected;
    for (int i = 0; i < 60; ++i) {
        const int transaction = 1000 + 7 * i;
        const int unit = 1 + i % 3;
        if (i == 20) {
            Bytes pdu{6};
            put16(pdu, 2);
            put16(pdu, 4242);
            batch += adu(transaction, 2, pdu);
            expected.push_back({transaction, 2, 6, {}});
        } else if (i == 21) {
            batch += adu(transaction, 2, read_pdu(3, 2, 1));
            expected.push_back({transaction, 2, 3, {4242}});
        } else if (i == 30) {
            batch += adu(transaction, 9, read_pdu(4, 0, 1));  // no such unit: silence
        } else if (i == 40) {
            batch += adu(transaction, unit, read_pdu(4, 9, 5));
            expected.push_back({transaction, unit, 0x84, {2}});
        } else {
            const int address = i % 5;
            const int count = 1 + i % 6;
            batch += adu(transaction, unit, read_pdu(4, address, count));
            std::vector<int> values;
            for (int k = 0; k < count; ++k) values.push_back(100 * unit + address + k);
            expected.push_back({transaction, unit, 4, values});
        }
    }
    ASSERT_TRUE(client.send(batch));
    for (const Expected& want : expected) {
        const Bytes reply = client.frame();
        ASSERT_FALSE(reply.empty()) << "no reply for transaction " << want.transaction;
        EXPECT_EQ(transaction_of(reply), want.transaction);
        EXPECT_EQ(reply[6], want.unit) << want.transaction;
        EXPECT_EQ(reply[7], want.function) << want.transaction;
        if (want.function == 4 || want.function == 3) {
            EXPECT_EQ(registers_of(reply), want.values) << want.transaction;
        } else if (want.function & 0x80) {
            ASSERT_EQ(reply.size(), 9u);
            EXPECT_EQ(reply[8], want.values.at(0));
        }
    }
    EXPECT_TRUE(client.frame(200ms).empty()) << "a reply nobody asked for";
}

// Register reads get the exceptions libmodbus 3.1's modbus_reply() gives (the simulator
// builds these replies itself): 1..125 registers or exception 3 (illegal data value, APP
// 6.3/6.4), inside the table or exception 2; holding and input alike. Unlike modbus_reply(),
// which flushes the socket's input after exception 3, the requests pipelined behind it are
// still answered (the simulator before issue #21 lost them).
TEST(ModbusTcpSim, RegisterReadsOutsideTheLimitsGetLibmodbussExceptions) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--devices", constant_devices(dir)});
    Client client(sim.port());
    ASSERT_TRUE(client.send(adu(1, 1, read_pdu(4, 0, 0)) + adu(2, 1, read_pdu(3, 0, 126)) +
                            adu(3, 1, read_pdu(3, 8, 3)) + adu(4, 1, read_pdu(3, 7, 3)) +
                            adu(5, 2, read_pdu(4, 10, 1))));
    const std::vector<std::pair<int, int>> expected{
        {0x84, 3}, {0x83, 3}, {0x83, 2}, {0x03, 0}, {0x84, 2}};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const Bytes reply = client.frame();
        ASSERT_FALSE(reply.empty()) << i;
        EXPECT_EQ(transaction_of(reply), static_cast<int>(i) + 1);
        EXPECT_EQ(reply[7], expected[i].first) << i;
        if (expected[i].first & 0x80) {
            ASSERT_EQ(reply.size(), 9u);
            EXPECT_EQ(reply[8], expected[i].second) << i;
        } else {
            EXPECT_EQ(registers_of(reply), (std::vector<int>{0, 0, 0})) << i;
        }
    }
}

// The same requests arriving a byte at a time are put together and answered.
TEST(ModbusTcpSim, PutsTogetherRequestsSplitAcrossSegments) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--devices", constant_devices(dir)});
    Client client(sim.port());
    ASSERT_TRUE(client.connected());
    Bytes batch = adu(1, 1, read_pdu(4, 0, 3)) + adu(2, 3, read_pdu(4, 4, 2));
    for (std::uint8_t byte : batch) {
        ASSERT_TRUE(client.send({byte}));
        std::this_thread::sleep_for(2ms);
    }
    const Bytes first = client.frame();
    const Bytes second = client.frame();
    ASSERT_FALSE(first.empty());
    ASSERT_FALSE(second.empty());
    EXPECT_EQ(transaction_of(first), 1);
    EXPECT_EQ(registers_of(first), (std::vector<int>{100, 101, 102}));
    EXPECT_EQ(transaction_of(second), 2);
    EXPECT_EQ(registers_of(second), (std::vector<int>{304, 305}));
}

// A stream that cannot be framed (protocol id 1, or a length field of 0 or 255) is closed;
// the other connections go on.
TEST(ModbusTcpSim, ClosesAConnectionThatCannotBeFramed) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--devices", constant_devices(dir)});
    Client good(sim.port());
    for (const Bytes& bad : {Bytes{0, 1, 0, 1, 0, 6, 1, 4, 0, 0, 0, 1}, Bytes{0, 1, 0, 0, 0, 0, 1},
                             Bytes{0, 1, 0, 0, 0, 255, 1}}) {
        Client client(sim.port());
        ASSERT_TRUE(client.send(bad));
        EXPECT_TRUE(client.closed_within(2s));
    }
    ASSERT_TRUE(good.send(adu(5, 1, read_pdu(4, 1, 1))));
    EXPECT_EQ(registers_of(good.frame()), (std::vector<int>{101}));
}

// A reply frame and when it arrived.
struct Arrival {
    int transaction;
    Clock::duration at;  // since the first request was sent
};

// Reads `count` replies from `a` and `b` together, in the order they arrive.
std::vector<Arrival> arrivals(Client& a, Client& b, std::size_t count, Clock::time_point start) {
    std::vector<Arrival> out;
    const auto deadline = Clock::now() + 10s;
    while (out.size() < count && Clock::now() < deadline) {
        pollfd fds[2] = {{a.fd(), POLLIN, 0}, {b.fd(), POLLIN, 0}};
        if (::poll(fds, 2, 100) <= 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (!(fds[i].revents & POLLIN)) continue;
            Client& client = i == 0 ? a : b;
            Bytes frame = client.frame(1s);
            // Then every further whole frame the same read brought.
            for (; !frame.empty(); frame = client.frame(0ms)) {
                out.push_back({transaction_of(frame), Clock::now() - start});
            }
        }
    }
    return out;
}

// Through --rtu-gateway with a 40 ms turnaround: three requests sent together on one
// connection and two on another just after are answered one at a time, in the order they
// arrived, none sooner than its place in the line allows.
TEST(ModbusTcpSim, RtuGatewayAnswersOneAtATimeInArrivalOrder) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--devices", constant_devices(dir),
                         "--rtu-gateway", "--turnaround", "40ms"});
    EXPECT_NE(sim.process().output().find("rtu-gateway turnaround 40000us"), std::string::npos);
    Client a(sim.port());
    Client b(sim.port());
    ASSERT_TRUE(a.connected() && b.connected());
    const auto start = Clock::now();
    ASSERT_TRUE(a.send(adu(1, 1, read_pdu(4, 0, 1)) + adu(2, 2, read_pdu(4, 0, 1)) +
                       adu(3, 3, read_pdu(4, 0, 1))));
    std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(b.send(adu(11, 1, read_pdu(4, 1, 1)) + adu(12, 2, read_pdu(4, 1, 1))));
    const std::vector<Arrival> got = arrivals(a, b, 5, start);
    ASSERT_EQ(got.size(), 5u);
    const std::vector<int> order{1, 2, 3, 11, 12};
    for (std::size_t k = 0; k < got.size(); ++k) {
        EXPECT_EQ(got[k].transaction, order[k]);
        EXPECT_GE(got[k].at, 40ms * static_cast<int>(k + 1) - 1ms) << "reply " << k;
    }
}

// Without --rtu-gateway the same five requests are answered at once.
TEST(ModbusTcpSim, WithoutTheGatewayPipelinedRequestsAreNotPaced) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--devices", constant_devices(dir)});
    Client a(sim.port());
    Client b(sim.port());
    const auto start = Clock::now();
    ASSERT_TRUE(a.send(adu(1, 1, read_pdu(4, 0, 1)) + adu(2, 2, read_pdu(4, 0, 1)) +
                       adu(3, 3, read_pdu(4, 0, 1))));
    ASSERT_TRUE(b.send(adu(11, 1, read_pdu(4, 1, 1)) + adu(12, 2, read_pdu(4, 1, 1))));
    const std::vector<Arrival> got = arrivals(a, b, 5, start);
    ASSERT_EQ(got.size(), 5u);
    std::set<int> seen;
    for (const Arrival& arrival : got) seen.insert(arrival.transaction);
    EXPECT_EQ(seen, (std::set<int>{1, 2, 3, 11, 12}));
}

// With --baud each transaction takes the RTU line's time for its frames: a read of 40
// registers at 9600 8N1 is 8 request bytes, t3.5, 85 reply bytes and t3.5 (rtu_timing.hpp).
TEST(ModbusTcpSim, RtuGatewayTakesTheLinesTimeAtItsBaudRate) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--nodes", "4", "--attributes", "20",
                         "--rtu-gateway", "--baud", "9600"});
    const modbus::CharFraming framing{
        .baud = 9600, .data_bits = 8, .parity = false, .stop_bits = 1};
    const auto transaction = modbus::transaction_time(framing, 8, 85, modbus::Micros(0));
    ASSERT_GT(transaction, 90ms);  // 93 characters of 1.04 ms and two t3.5 of 3.6 ms
    Client client(sim.port());
    const auto start = Clock::now();
    Bytes batch;
    for (int unit = 1; unit <= 4; ++unit) batch += adu(unit, unit, read_pdu(4, 0, 40));
    ASSERT_TRUE(client.send(batch));
    for (int k = 1; k <= 4; ++k) {
        const Bytes reply = client.frame();
        ASSERT_EQ(reply.size(), 7u + 2 + 80);
        EXPECT_EQ(transaction_of(reply), k);
        EXPECT_GE(Clock::now() - start, transaction * k - 1ms) << "reply " << k;
    }
}

TEST(ModbusTcpSim, LineOptionsNeedTheGateway) {
    TempDir dir;
    test::Process sim({NODEBRIDGE_SIM_PATH, "modbus-tcp", "--port", "0", "--baud", "9600"},
                      dir.file("sim.log"));
    EXPECT_EQ(sim.wait_for_exit(5s), 64);
    EXPECT_NE(sim.output().find("need --rtu-gateway"), std::string::npos) << sim.output();
    test::Process past({NODEBRIDGE_SIM_PATH, "modbus-tcp", "--port", "65535", "--ports", "2"},
                       dir.file("past.log"));
    EXPECT_EQ(past.wait_for_exit(5s), 64);
}

// The ports of "ready modbus-tcp HOST:PORT units ... ports P1,P2,...".
std::vector<int> ready_ports(const std::string& output) {
    std::smatch match;
    std::vector<int> ports;
    if (!std::regex_search(output, match, std::regex(R"( ports ([0-9,]+))"))) return ports;
    std::istringstream list(match[1].str());
    std::string item;
    while (std::getline(list, item, ',')) ports.push_back(std::stoi(item));
    return ports;
}

// --ports 500 --port 0: five hundred listeners of one process, all listed on the ready line,
// each serving the same devices; a client on every one of them at once gets its reply.
TEST(ModbusTcpSim, ServesManyPortsFromOneProcess) {
    TempDir dir;
    SimProcess sim(
        dir, {"modbus-tcp", "--port", "0", "--ports", "500", "--devices", constant_devices(dir)});
    const std::vector<int> ports = ready_ports(sim.process().output());
    ASSERT_EQ(ports.size(), 500u);
    EXPECT_EQ(ports.front(), sim.port());
    EXPECT_EQ(std::set<int>(ports.begin(), ports.end()).size(), 500u);
    std::vector<std::unique_ptr<Client>> clients;
    for (int port : ports) {
        clients.push_back(std::make_unique<Client>(port));
        ASSERT_TRUE(clients.back()->connected()) << port;
    }
    for (std::size_t i = 0; i < clients.size(); ++i) {
        const int unit = 1 + static_cast<int>(i % 3);
        ASSERT_TRUE(clients[i]->send(adu(static_cast<int>(i), unit, read_pdu(4, 0, 2))));
    }
    for (std::size_t i = 0; i < clients.size(); ++i) {
        const Bytes reply = clients[i]->frame();
        ASSERT_FALSE(reply.empty()) << "port " << ports[i];
        const int unit = 1 + static_cast<int>(i % 3);
        EXPECT_EQ(transaction_of(reply), static_cast<int>(i));
        EXPECT_EQ(registers_of(reply), (std::vector<int>{100 * unit, 100 * unit + 1}));
    }
}

// --port P --ports 3 listens on P, P+1 and P+2. P comes from free_port(); its neighbours
// may be taken, so a start that cannot listen (exit 1) is tried again with another P.
TEST(ModbusTcpSim, ManyPortsFromAGivenPortAreConsecutive) {
    TempDir dir;
    for (int attempt = 0; attempt < 10; ++attempt) {
        const int base = test::free_port();
        if (base > 65533) continue;
        test::Process sim({NODEBRIDGE_SIM_PATH, "modbus-tcp", "--port", std::to_string(base),
                           "--ports", "3", "--devices", constant_devices(dir)},
                          dir.file("sim" + std::to_string(attempt) + ".log"));
        // Not just "ready": "Address already in use" holds it too, when another test took one
        // of the ports first.
        if (!sim.wait_for_output("ready modbus-tcp", 5s)) {
            EXPECT_EQ(sim.wait_for_exit(5s), 1) << sim.output();
            continue;
        }
        EXPECT_EQ(ready_ports(sim.output()), (std::vector<int>{base, base + 1, base + 2}));
        Client client(base + 2);
        ASSERT_TRUE(client.send(adu(9, 3, read_pdu(4, 0, 1))));
        EXPECT_EQ(registers_of(client.frame()), (std::vector<int>{300}));
        return;
    }
    FAIL() << "no free run of three ports in ten tries";
}

// A single port prints no port list.
TEST(ModbusTcpSim, OnePortKeepsTheShortReadyLine) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0"});
    EXPECT_TRUE(ready_ports(sim.process().output()).empty()) << sim.process().output();
    EXPECT_GT(sim.port(), 0);
}

// The TCP source with four requests in flight, through a gateway that answers one at a time
// (20 ms each, so 50 a second for the 16 a second asked): every reading arrives, each value
// from its own unit, and nothing is counted as an error.
TEST(ModbusTcpSim, SourceWithFourInFlightReadsEverythingThroughTheGateway) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--nodes", "8", "--attributes", "4",
                         "--rtu-gateway", "--turnaround", "20ms"});
    std::vector<ModbusNode> nodes;
    for (int unit = 1; unit <= 8; ++unit) nodes.push_back(generated_node(unit, 4, 500ms));
    auto config = tcp_config(sim.port(), 1s, nodes);
    std::get<ModbusTcpEndpoint>(config.link).max_in_flight = 4;
    SampleQueue queue(10'000);
    RecordingLogger log;
    ModbusSource source("gateway", config, queue, log);
    source.start();
    const auto readings = gather(queue, 3s);
    source.stop();
    ASSERT_EQ(readings.size(), 8u);
    for (const auto& [node, samples] : readings) {
        const int unit = std::stoi(node.substr(5));
        EXPECT_GE(samples.size(), 5u) << node;  // 3 s at two polls a second
        for (const Sample& sample : samples) {
            ASSERT_EQ(sample.attributes.size(), 4u) << node;
            for (int k = 0; k < 4; ++k) {
                const Attribute* a = find(sample, "a" + std::to_string(k));
                ASSERT_NE(a, nullptr) << node;
                EXPECT_NEAR(std::get<double>(a->value), 10.0 * k + unit, 0.51) << node;
            }
        }
    }
    EXPECT_TRUE(source.stats().errors.empty()) << source.stats().last_error;
}

}  // namespace
}  // namespace nodebridge
