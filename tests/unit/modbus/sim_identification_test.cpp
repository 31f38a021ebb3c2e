// nodebridge-sim serving a model's `identify:` (docs/models.md): Read Device Identification
// (function 43 / MEI 14, APP V1.1b3 section 6.21) over TCP with the model's strings, the
// identification registers answered to a one-word read even where an attribute's register
// sits, and exception 1 from a model that names no strings (as from a device without it).

#include <gtest/gtest.h>
#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "device_id.hpp"
#include "mbap.hpp"
#include "sim_process.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;
using test::SimProcess;
using test::TempDir;

struct ContextDeleter {
    void operator()(modbus_t* context) const {
        modbus_close(context);
        modbus_free(context);
    }
};
using Context = std::unique_ptr<modbus_t, ContextDeleter>;

Context connect_tcp(int port, int unit) {
    Context context(modbus_new_tcp_pi("127.0.0.1", std::to_string(port).c_str()));
    EXPECT_NE(context, nullptr);
    modbus_set_response_timeout(context.get(), 0, 500000);
    EXPECT_EQ(modbus_connect(context.get()), 0) << modbus_strerror(errno);
    modbus_set_slave(context.get(), unit);
    return context;
}

// Sends function 43 / MEI 14 (basic stream) to `unit` on 127.0.0.1:`port` over a socket of
// its own (libmodbus's client reads only the function code of a reply to a function it does
// not know) and returns the reply PDU, or empty after 2 s.
std::vector<std::uint8_t> read_device_id(int port, int unit) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::vector<std::uint8_t> out;
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        const auto pdu = modbus::device_id::encode_request();
        std::vector<std::uint8_t> adu = {0x00,
                                         0x07,
                                         0x00,
                                         0x00,
                                         0x00,
                                         static_cast<std::uint8_t>(pdu.size() + 1),
                                         static_cast<std::uint8_t>(unit)};
        adu.insert(adu.end(), pdu.begin(), pdu.end());
        std::vector<std::uint8_t> in;
        modbus::mbap::Frame frame;
        if (send(fd, adu.data(), adu.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(adu.size())) {
            pollfd waiting{fd, POLLIN, 0};
            while (poll(&waiting, 1, 2000) > 0) {
                std::uint8_t chunk[300];
                const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
                if (n <= 0) break;
                in.insert(in.end(), chunk, chunk + n);
                if (modbus::mbap::find_frame(in, frame) == modbus::mbap::FrameStatus::frame) {
                    out.assign(frame.pdu.begin(), frame.pdu.end());
                    break;
                }
            }
        }
    }
    close(fd);
    return out;
}

constexpr const char* kModels = R"(models:
  acme-pm10:
    identify:
      vendor: ACME
      product_code: PM-10
      revision: "2.1"
      registers:
        - { table: input, address: 0x0B, values: [71, 72] }
        - { table: holding, address: 0xFC02, type: uint32, word_order: little, values: [0x12345] }
    attributes:
      voltage: { table: input, address: 0x0A, type: int32, word_order: little, scale: 0.1, unit: V, quantity: voltage }
  codes-only:
    identify:
      registers:
        - { table: input, address: 0x0B, values: [345] }
    attributes:
      voltage: { table: input, address: 0x00, type: uint16 }
)";

TEST(SimIdentification, AnswersFunction43WithTheModelsStrings) {
    TempDir dir;
    dir.write("models.yaml", kModels);
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--model", "acme-pm10", "--units", "4",
                         "--model-dir", dir.path()});
    const auto pdu = read_device_id(sim.port(), 4);
    modbus::device_id::Reply reply;
    std::uint8_t code = 0;
    ASSERT_EQ(modbus::device_id::decode_reply(pdu, reply, code), modbus::device_id::Status::ok);
    EXPECT_EQ(modbus::device_id::find(reply, 0x00), "ACME");
    EXPECT_EQ(modbus::device_id::find(reply, 0x01), "PM-10");
    EXPECT_EQ(modbus::device_id::find(reply, 0x02), "2.1");
}

TEST(SimIdentification, ServesTheIdentificationRegistersToAReadOfTheirWidth) {
    TempDir dir;
    dir.write("models.yaml", kModels);
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--model", "acme-pm10", "--units", "4",
                         "--model-dir", dir.path()});
    Context ctx = connect_tcp(sim.port(), 4);
    std::uint16_t word = 0;
    ASSERT_EQ(modbus_read_input_registers(ctx.get(), 0x0B, 1, &word), 1) << modbus_strerror(errno);
    EXPECT_EQ(word, 71);
    // Function 3 alike, as the Carlo Gavazzi documents say of their code.
    ASSERT_EQ(modbus_read_registers(ctx.get(), 0x0B, 1, &word), 1) << modbus_strerror(errno);
    EXPECT_EQ(word, 71);
    // The voltage the same address is part of still reads as a voltage (LSW first: 0x0A low).
    std::uint16_t voltage[2] = {};
    ASSERT_EQ(modbus_read_input_registers(ctx.get(), 0x0A, 2, voltage), 2);
    EXPECT_EQ(voltage[1], 0);
    EXPECT_GT(voltage[0], 2000);
    // A 32-bit code in little word order, far above the mapped registers.
    std::uint16_t pair[2] = {};
    ASSERT_EQ(modbus_read_registers(ctx.get(), 0xFC02, 2, pair), 2) << modbus_strerror(errno);
    EXPECT_EQ(pair[0], 0x2345);
    EXPECT_EQ(pair[1], 0x0001);
}

TEST(SimIdentification, AModelWithoutStringsGetsIllegalFunction) {
    TempDir dir;
    dir.write("models.yaml", kModels);
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--model", "codes-only", "--units", "1",
                         "--model-dir", dir.path()});
    Context ctx = connect_tcp(sim.port(), 1);
    EXPECT_EQ(read_device_id(sim.port(), 1), (std::vector<std::uint8_t>{0xAB, 0x01}));
    std::uint16_t word = 0;
    ASSERT_EQ(modbus_read_input_registers(ctx.get(), 0x0B, 1, &word), 1) << modbus_strerror(errno);
    EXPECT_EQ(word, 345);
}

}  // namespace
}  // namespace nodebridge
