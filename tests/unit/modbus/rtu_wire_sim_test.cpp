// nodebridge-sim modbus-rtu --wire seen through the pty itself: bytes take the line's time
// in both directions, silences frame requests, and the injected faults (corrupt, drop, slow,
// dead, per-unit turnaround) do what they say. Timing checks here are lower bounds the wire
// must respect, which a loaded machine can only make longer.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <modbus.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>
#include <vector>

#include "rtu_timing.hpp"
#include "sim_process.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::SimProcess;
using test::TempDir;

// The raw slave side of the simulator's pty.
class RawPort {
  public:
    explicit RawPort(const std::string& path) : fd_(open(path.c_str(), O_RDWR | O_NOCTTY)) {
        EXPECT_GE(fd_, 0) << path;
        termios tio{};
        tcgetattr(fd_, &tio);
        cfmakeraw(&tio);
        tcsetattr(fd_, TCSANOW, &tio);
    }
    ~RawPort() {
        if (fd_ >= 0) close(fd_);
    }
    void send(const std::vector<std::uint8_t>& bytes) {
        ASSERT_EQ(write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    }
    // Reads until `count` bytes arrived or `timeout` passed.
    std::vector<std::uint8_t> receive(std::size_t count, std::chrono::milliseconds timeout) {
        std::vector<std::uint8_t> out;
        const auto deadline = Clock::now() + timeout;
        while (out.size() < count && Clock::now() < deadline) {
            pollfd pfd{fd_, POLLIN, 0};
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (poll(&pfd, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
            std::uint8_t buffer[256];
            const ssize_t n = read(fd_, buffer, sizeof buffer);
            if (n > 0) out.insert(out.end(), buffer, buffer + n);
        }
        return out;
    }

  private:
    int fd_;
};

std::uint16_t crc16(const std::vector<std::uint8_t>& data) {
    std::uint16_t crc = 0xFFFF;
    for (std::uint8_t byte : data) {
        crc ^= byte;
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 1) != 0 ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001)
                                 : static_cast<std::uint16_t>(crc >> 1);
        }
    }
    return crc;
}

// A read-input-registers request (function 4), CRC included.
std::vector<std::uint8_t> read_input(int unit, int address, int count) {
    std::vector<std::uint8_t> frame = {
        static_cast<std::uint8_t>(unit),         4,
        static_cast<std::uint8_t>(address >> 8), static_cast<std::uint8_t>(address),
        static_cast<std::uint8_t>(count >> 8),   static_cast<std::uint8_t>(count)};
    const std::uint16_t crc = crc16(frame);
    frame.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    frame.push_back(static_cast<std::uint8_t>(crc >> 8));
    return frame;
}

bool crc_ok(const std::vector<std::uint8_t>& frame) {
    if (frame.size() < 4) return false;
    std::vector<std::uint8_t> body(frame.begin(), frame.end() - 2);
    const std::uint16_t crc = crc16(body);
    return frame[frame.size() - 2] == (crc & 0xFF) && frame[frame.size() - 1] == (crc >> 8);
}

std::vector<std::string> wire_args(const TempDir& dir, std::vector<std::string> extra) {
    std::vector<std::string> args = {"modbus-rtu", "--link", dir.file("ttySIM"), "--wire"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

modbus::CharFraming framing_8n1(int baud) {
    return {.baud = baud, .data_bits = 8, .parity = false, .stop_bits = 1};
}

TEST(RtuWireSim, ReplyTakesTheLinesTimeInBothDirections) {
    TempDir dir;
    SimProcess sim(dir, wire_args(dir, {"--baud", "9600", "--nodes", "2", "--attributes", "20"}));
    RawPort port(dir.file("ttySIM"));
    const auto framing = framing_8n1(9600);
    // 8 request bytes + t3.5 + 85 reply bytes: at least 100.5 ms at 9600 8N1.
    const auto least = modbus::frame_time(framing, 8) + modbus::t35(framing) +
                       modbus::frame_time(framing, modbus::read_registers_reply_chars(40));
    const auto start = Clock::now();
    port.send(read_input(2, 0, 40));
    const auto first = port.receive(1, 2000ms);
    const auto first_at = Clock::now() - start;
    ASSERT_FALSE(first.empty());
    const auto rest = port.receive(85 - first.size(), 2000ms);
    const auto done_at = Clock::now() - start;
    ASSERT_EQ(first.size() + rest.size(), 85u);
    std::vector<std::uint8_t> reply = first;
    reply.insert(reply.end(), rest.begin(), rest.end());
    EXPECT_TRUE(crc_ok(reply));
    EXPECT_EQ(reply[0], 2);
    EXPECT_EQ(reply[2], 80);
    // The first bytes are only there once the request crossed, the silence passed and they
    // came back; the last once every character did.
    EXPECT_GE(first_at, modbus::frame_time(framing, 8) + modbus::t35(framing) +
                            modbus::frame_time(framing, first.size()));
    EXPECT_GE(done_at, least);
    EXPECT_LT(done_at, least + 1000ms);  // it does answer, not just late
    EXPECT_EQ(sim.terminate(), 0);
}

TEST(RtuWireSim, ReadyLineStatesTheWiresLimit) {
    TempDir dir;
    SimProcess sim(dir, wire_args(dir, {"--baud", "19200", "--parity", "even", "--turnaround",
                                        "2ms", "--request-registers", "40"}));
    const std::string output = sim.process().output();
    std::smatch match;
    ASSERT_TRUE(std::regex_search(
        output, match,
        std::regex(R"(wire 19200 8E1 .* limit ([0-9.]+) tx/s reading 40 registers)")))
        << output;
    const modbus::CharFraming framing{
        .baud = 19200, .data_bits = 8, .parity = true, .stop_bits = 1};
    EXPECT_NEAR(std::stod(match[1]),
                modbus::transactions_per_second(framing, 8, 85, modbus::Micros(2000)), 0.01);
    EXPECT_NE(output.find("t3.5 2006us"), std::string::npos) << output;
}

TEST(RtuWireSim, AGapOverOneAndAHalfCharactersVoidsTheRequest) {
    TempDir dir;
    // At 300 baud a character is 33 ms: t1.5 = 50 ms, t3.5 = 117 ms, wide enough margins
    // for a loaded machine's scheduling.
    SimProcess sim(dir, wire_args(dir, {"--baud", "300"}));
    RawPort port(dir.file("ttySIM"));
    const auto request = read_input(1, 0, 2);
    // The first half crosses in 4 characters (133 ms); then 2.5 characters (83 ms) of silence.
    port.send({request.begin(), request.begin() + 4});
    std::this_thread::sleep_for(133ms + 83ms);
    port.send({request.begin() + 4, request.end()});
    EXPECT_TRUE(port.receive(1, 800ms).empty()) << "a torn request was answered";
    // The line resynchronises on the next silence: a whole request is answered.
    port.send(request);
    const auto reply = port.receive(9, 3000ms);
    ASSERT_EQ(reply.size(), 9u);
    EXPECT_TRUE(crc_ok(reply));
    EXPECT_EQ(sim.terminate(), 0);
}

TEST(RtuWireSim, TwoRequestsWithoutSilenceAreOneBadFrame) {
    TempDir dir;
    SimProcess sim(dir, wire_args(dir, {"--baud", "19200"}));
    RawPort port(dir.file("ttySIM"));
    auto twice = read_input(1, 0, 2);
    const auto again = read_input(2, 0, 2);
    twice.insert(twice.end(), again.begin(), again.end());
    port.send(twice);
    EXPECT_TRUE(port.receive(1, 500ms).empty());
    EXPECT_EQ(sim.terminate(), 0);
}

struct Client {
    explicit Client(const std::string& path, int baud)
        : ctx(modbus_new_rtu(path.c_str(), baud, 'N', 8, 1)) {
        modbus_set_response_timeout(ctx, 1, 0);
        EXPECT_EQ(modbus_connect(ctx), 0) << modbus_strerror(errno);
    }
    ~Client() {
        modbus_close(ctx);
        modbus_free(ctx);
    }
    // modbus_read_input_registers' result, and errno when -1.
    std::pair<int, int> read(int unit, int count = 2) {
        std::uint16_t regs[125] = {};
        modbus_set_slave(ctx, unit);
        const int rc = modbus_read_input_registers(ctx, 0, count, regs);
        const int err = errno;
        modbus_flush(ctx);
        std::this_thread::sleep_for(5ms);  // more than t3.5 before the next request
        return {rc, rc == -1 ? err : 0};
    }
    modbus_t* ctx;
};

TEST(RtuWireSim, DeadUnitsDropsAndCorruptionMisbehaveOnPurpose) {
    TempDir dir;
    SimProcess dead(dir, wire_args(dir, {"--nodes", "3", "--attributes", "1", "--dead", "2,3"}));
    {
        Client client(dir.file("ttySIM"), 19200);
        EXPECT_EQ(client.read(1).first, 2);
        EXPECT_EQ(client.read(2), std::make_pair(-1, ETIMEDOUT));
        EXPECT_EQ(client.read(3), std::make_pair(-1, ETIMEDOUT));
    }
    EXPECT_EQ(dead.terminate(), 0);

    TempDir dir2;
    SimProcess corrupt(dir2,
                       wire_args(dir2, {"--nodes", "1", "--attributes", "1", "--corrupt", "1"}));
    {
        Client client(dir2.file("ttySIM"), 19200);
        int failed = 0;
        for (int i = 0; i < 5; ++i) failed += client.read(1).first == -1 ? 1 : 0;
        EXPECT_EQ(failed, 5);  // every reply has a flipped bit; libmodbus sees each one
    }
    EXPECT_EQ(corrupt.terminate(), 0);

    TempDir dir3;
    SimProcess dropping(dir3,
                        wire_args(dir3, {"--nodes", "1", "--attributes", "1", "--drop", "1"}));
    {
        Client client(dir3.file("ttySIM"), 19200);
        EXPECT_EQ(client.read(1), std::make_pair(-1, ETIMEDOUT));
    }
    EXPECT_EQ(dropping.terminate(), 0);
}

TEST(RtuWireSim, SlowUnitsAndTurnaroundDelayOnlyTheirOwnReplies) {
    TempDir dir;
    const std::string devices = dir.write("devices.yaml", R"(devices:
  - unit: 1
    points: [{ table: input, address: 0, type: float32, value: 1 }]
  - unit: 2
    turnaround: 150ms
    points: [{ table: input, address: 0, type: float32, value: 2 }]
  - unit: 3
    points: [{ table: input, address: 0, type: float32, value: 3 }]
)");
    SimProcess sim(dir, wire_args(dir, {"--devices", devices, "--slow", "3:250"}));
    Client client(dir.file("ttySIM"), 19200);
    auto timed = [&](int unit) {
        const auto start = Clock::now();
        EXPECT_EQ(client.read(unit).first, 2) << "unit " << unit;
        return Clock::now() - start;
    };
    EXPECT_LT(timed(1), 120ms);
    EXPECT_GE(timed(2), 150ms);
    EXPECT_GE(timed(3), 250ms);
    EXPECT_LT(timed(1), 120ms);
    EXPECT_EQ(sim.terminate(), 0);
}

TEST(RtuWireSim, ARequestRightAfterTheReplyIsMissed) {
    TempDir dir;
    // At 300 baud t3.5 is 117 ms: a request sent as soon as the reply is in is missed, one
    // sent after the silence is answered.
    SimProcess sim(dir, wire_args(dir, {"--baud", "300"}));
    RawPort port(dir.file("ttySIM"));
    const auto request = read_input(1, 0, 2);
    port.send(request);
    ASSERT_EQ(port.receive(9, 3000ms).size(), 9u);
    port.send(request);
    EXPECT_TRUE(port.receive(1, 1200ms).empty()) << "a request inside the silence was answered";
    std::this_thread::sleep_for(150ms);
    port.send(request);
    EXPECT_EQ(port.receive(9, 3000ms).size(), 9u);
    EXPECT_EQ(sim.terminate(), 0);
}

TEST(RtuWireSim, BadWireOptionsExit64) {
    TempDir dir;
    for (std::vector<std::string> bad : {std::vector<std::string>{"--corrupt", "2"},
                                         {"--slow", "3"},
                                         {"--dead", "0"},
                                         {"--parity", "mark"},
                                         {"--turnaround", "soon"},
                                         {"--baud", "12"}}) {
        auto args = wire_args(dir, bad);
        args.insert(args.begin(), NODEBRIDGE_SIM_PATH);
        test::Process sim(args, dir.file("bad.log"));
        EXPECT_EQ(sim.wait_for_exit(5s), 64) << bad[0] << " " << bad[1];
    }
}

}  // namespace
}  // namespace nodebridge
