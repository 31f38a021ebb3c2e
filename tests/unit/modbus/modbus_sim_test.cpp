// nodebridge-sim seen through a bare libmodbus client: units, writes that stick, devices
// files, generated benchmark devices, and clean exits.

#include <gtest/gtest.h>
#include <modbus.h>

#include <cerrno>
#include <memory>
#include <thread>

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

Context connect_tcp(int port) {
    Context context(modbus_new_tcp_pi("127.0.0.1", std::to_string(port).c_str()));
    EXPECT_NE(context, nullptr);
    modbus_set_response_timeout(context.get(), 0, 300000);
    EXPECT_EQ(modbus_connect(context.get()), 0) << modbus_strerror(errno);
    return context;
}

std::vector<std::uint16_t> read_holding(modbus_t* ctx, int unit, int address, int count) {
    std::vector<std::uint16_t> regs(static_cast<std::size_t>(count));
    modbus_set_slave(ctx, unit);
    EXPECT_EQ(modbus_read_registers(ctx, address, count, regs.data()), count)
        << modbus_strerror(errno);
    return regs;
}

float read_float(modbus_t* ctx, int unit, int address) {
    std::uint16_t regs[2] = {};
    modbus_set_slave(ctx, unit);
    EXPECT_EQ(modbus_read_input_registers(ctx, address, 2, regs), 2) << modbus_strerror(errno);
    return modbus_get_float_abcd(regs);
}

TEST(ModbusSim, ClientWritesStickEvenOnAnimatedRegisters) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0"});
    Context ctx = connect_tcp(sim.port());
    modbus_set_slave(ctx.get(), 1);
    const std::uint16_t energy[2] = {0, 42};
    ASSERT_EQ(modbus_write_registers(ctx.get(), 100, 2, energy), 2);
    ASSERT_EQ(modbus_write_register(ctx.get(), 50, 1234), 1);
    ASSERT_EQ(modbus_write_bit(ctx.get(), 0, 0), 1);
    std::this_thread::sleep_for(400ms);  // several animation ticks
    EXPECT_EQ(read_holding(ctx.get(), 1, 100, 2), (std::vector<std::uint16_t>{0, 42}));
    EXPECT_EQ(read_holding(ctx.get(), 1, 50, 1), (std::vector<std::uint16_t>{1234}));
    std::uint8_t breaker = 1;
    ASSERT_EQ(modbus_read_bits(ctx.get(), 0, 1, &breaker), 1);
    EXPECT_EQ(breaker, 0);
    // Unit 2 is a separate device: its counter still runs and its breaker is still on.
    const auto first = read_holding(ctx.get(), 2, 100, 2);
    std::this_thread::sleep_for(2100ms);
    const auto later = read_holding(ctx.get(), 2, 100, 2);
    const auto wh = [](const std::vector<std::uint16_t>& r) { return (r[0] << 16) | r[1]; };
    EXPECT_GT(wh(later), wh(first));
    EXPECT_GE(wh(first), 200000);
    modbus_set_slave(ctx.get(), 2);
    ASSERT_EQ(modbus_read_bits(ctx.get(), 0, 1, &breaker), 1);
    EXPECT_EQ(breaker, 1);
}

TEST(ModbusSim, UnknownUnitGetsNoReplyAndOutOfRangeAnException) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0"});
    Context ctx = connect_tcp(sim.port());
    std::uint16_t reg = 0;
    modbus_set_slave(ctx.get(), 9);
    EXPECT_EQ(modbus_read_registers(ctx.get(), 0, 1, &reg), -1);
    EXPECT_EQ(errno, ETIMEDOUT);
    modbus_set_slave(ctx.get(), 7);
    EXPECT_EQ(modbus_read_input_registers(ctx.get(), 100, 1, &reg), -1);
    EXPECT_EQ(errno, EMBXILADD);
    // The meter's frequency is little word order.
    std::uint16_t regs[2] = {};
    ASSERT_EQ(modbus_read_input_registers(ctx.get(), 70, 2, regs), 2);
    EXPECT_NEAR(modbus_get_float_cdab(regs), 50.0, 0.06);
}

TEST(ModbusSim, ValuesMoveOverTime) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0"});
    Context ctx = connect_tcp(sim.port());
    const float current = read_float(ctx.get(), 1, 2);
    const float voltage = read_float(ctx.get(), 1, 0);
    std::this_thread::sleep_for(500ms);
    EXPECT_GT(read_float(ctx.get(), 1, 2), current);  // the ramp climbs (60 s period)
    EXPECT_NE(read_float(ctx.get(), 1, 0), voltage);  // noise
}

TEST(ModbusSim, DevicesFileDefinesUnitsAndPoints) {
    TempDir dir;
    const std::string file = dir.write("devices.yaml", R"(devices:
  - unit: 5
    sizes: { holding: 40 }
    points:
      - { table: holding, address: 0, type: string, length: 4, value: "HELLO" }
      - { table: holding, address: 10, type: int32, word_order: little, value: -5 }
      - { name: a, value: 6, table: input, address: 0, type: uint16 }
      - { name: b, table: input, address: 1, type: uint16, value: 7 }
      - { table: input, address: 2, type: uint16, signal: product, of: [a, b] }
      - { table: discrete, address: 3, type: bool, value: true }
  - unit: 7
    model: meter
)");
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--devices", file});
    EXPECT_NE(sim.process().output().find("units 5,7"), std::string::npos);
    Context ctx = connect_tcp(sim.port());
    EXPECT_EQ(read_holding(ctx.get(), 5, 0, 4),
              (std::vector<std::uint16_t>{0x4845, 0x4C4C, 0x4F00, 0x0000}));
    EXPECT_EQ(read_holding(ctx.get(), 5, 10, 2), (std::vector<std::uint16_t>{0xFFFB, 0xFFFF}));
    std::uint16_t inputs[3] = {};
    ASSERT_EQ(modbus_read_input_registers(ctx.get(), 0, 3, inputs), 3);
    EXPECT_EQ(inputs[2], 42);
    std::uint8_t bits[4] = {};
    ASSERT_EQ(modbus_read_input_bits(ctx.get(), 0, 4, bits), 4);
    EXPECT_EQ(bits[3], 1);
    EXPECT_EQ(bits[0], 0);
    EXPECT_NEAR(modbus_get_float_cdab(std::vector<std::uint16_t>{0, 0}.data()), 0, 0);
    std::uint16_t regs[2] = {};
    modbus_set_slave(ctx.get(), 7);
    ASSERT_EQ(modbus_read_input_registers(ctx.get(), 70, 2, regs), 2);
    EXPECT_NEAR(modbus_get_float_cdab(regs), 50.0, 0.06);
}

TEST(ModbusSim, InvalidDevicesFileExits78WithPosition) {
    TempDir dir;
    const std::string file = dir.write("devices.yaml", "devices:\n  - unit: 5\n    colour: red\n");
    test::Process sim({NODEBRIDGE_SIM_PATH, "modbus-tcp", "--port", "0", "--devices", file},
                      dir.file("sim.log"));
    EXPECT_EQ(sim.wait_for_exit(5s), 78);
    EXPECT_NE(sim.output().find("devices.yaml:3:5: unknown key 'colour'"), std::string::npos)
        << sim.output();
}

TEST(ModbusSim, BadArgumentsExit64) {
    TempDir dir;
    test::Process missing({NODEBRIDGE_SIM_PATH, "modbus-tcp"}, dir.file("a.log"));
    EXPECT_EQ(missing.wait_for_exit(5s), 64);
    test::Process unknown({NODEBRIDGE_SIM_PATH, "modbus-tcp", "--port", "0", "--colour", "red"},
                          dir.file("b.log"));
    EXPECT_EQ(unknown.wait_for_exit(5s), 64);
    test::Process command({NODEBRIDGE_SIM_PATH, "frobnicate"}, dir.file("c.log"));
    EXPECT_EQ(command.wait_for_exit(5s), 64);
}

// Every command answers --help with its own usage on stdout, exit 0, wherever it stands.
TEST(ModbusSim, EachCommandHasItsOwnHelp) {
    TempDir dir;
    const std::vector<std::pair<std::string, std::string>> commands = {
        {"modbus-tcp", "--model-dir"},
        {"modbus-rtu", "--turnaround"},
        {"serial-nodes", "--garbage"}};
    for (const auto& [name, option] : commands) {
        for (const std::vector<std::string>& args :
             {std::vector<std::string>{NODEBRIDGE_SIM_PATH, name, "--help"},
              std::vector<std::string>{NODEBRIDGE_SIM_PATH, name, "--port", "0", "-h"}}) {
            test::Process help(args, dir.file(name + std::to_string(args.size()) + ".log"));
            EXPECT_EQ(help.wait_for_exit(5s), 0) << help.output();
            const std::string text = help.output();
            EXPECT_TRUE(text.starts_with("usage: nodebridge-sim " + name + " ")) << text;
            EXPECT_NE(text.find(option), std::string::npos) << text;
        }
    }
}

// A model with each encoding the library uses: float32 in both word orders, a scaled int32
// with the low word first, a scaled int16 and a scaled counter.
constexpr const char* kModel = R"(models:
  test-meter:
    manufacturer: Test
    model: Meter
    description: every encoding
    datasheet: {title: none, version: "1", url: "https://example.invalid/"}
    attributes:
      voltage: {table: input, address: 0, type: float32, unit: V, quantity: voltage}
      frequency: {table: input, address: 2, type: float32, word_order: little, unit: Hz, quantity: frequency}
      current: {table: input, address: 4, type: int32, word_order: little, scale: 0.001, unit: A, quantity: current}
      temperature: {table: holding, address: 10, type: int16, scale: 0.1, unit: "°C", quantity: temperature}
      energy: {table: holding, address: 20, type: uint32, scale: 0.1, unit: kWh, quantity: energy, counter: true}
)";

TEST(ModbusSim, ModelServesEveryAttributeEncodedAsTheModelSays) {
    TempDir dir;
    dir.write("test-meter.yaml", kModel);
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--model", "test-meter", "--units", "2-3",
                         "--model-dir", dir.path()});
    EXPECT_NE(sim.process().output().find("units 2,3"), std::string::npos)
        << sim.process().output();
    Context ctx = connect_tcp(sim.port());
    for (int unit : {2, 3}) {
        std::uint16_t in[6] = {};
        modbus_set_slave(ctx.get(), unit);
        ASSERT_EQ(modbus_read_input_registers(ctx.get(), 0, 6, in), 6) << modbus_strerror(errno);
        EXPECT_NEAR(modbus_get_float_abcd(in), 230.0, 1.51);      // mains voltage, high word first
        EXPECT_NEAR(modbus_get_float_cdab(in + 2), 50.0, 0.051);  // low word first
        const auto milliamps = static_cast<std::int32_t>((std::uint32_t{in[5]} << 16) | in[4]);
        EXPECT_GE(milliamps, 500);  // a 0.5..16 A ramp in mA
        EXPECT_LE(milliamps, 16000);
        const auto holding = read_holding(ctx.get(), unit, 10, 12);
        const auto tenths = static_cast<std::int16_t>(holding[0]);
        EXPECT_GE(tenths, 205);  // 22 +- 1.5 degC in 0.1 degC
        EXPECT_LE(tenths, 235);
        const std::uint32_t energy = (std::uint32_t{holding[10]} << 16) | holding[11];
        EXPECT_GE(energy, 12345u);  // a counter from 1234.5 kWh in 0.1 kWh
        EXPECT_LT(energy, 12400u);
    }
    std::uint16_t reg = 0;
    modbus_set_slave(ctx.get(), 4);
    EXPECT_EQ(modbus_read_input_registers(ctx.get(), 0, 1, &reg), -1);  // not in --units
    EXPECT_EQ(sim.terminate(), 0);
}

TEST(ModbusSim, UnknownModelOrBadUnitsExit78) {
    TempDir dir;
    dir.write("test-meter.yaml", kModel);
    test::Process unknown({NODEBRIDGE_SIM_PATH, "modbus-tcp", "--port", "0", "--model", "nope",
                           "--model-dir", dir.path()},
                          dir.file("a.log"));
    EXPECT_EQ(unknown.wait_for_exit(5s), 78);
    EXPECT_NE(unknown.output().find("unknown model 'nope'"), std::string::npos) << unknown.output();
    test::Process units({NODEBRIDGE_SIM_PATH, "modbus-tcp", "--port", "0", "--model", "test-meter",
                         "--units", "3-1", "--model-dir", dir.path()},
                        dir.file("b.log"));
    EXPECT_EQ(units.wait_for_exit(5s), 78);
    EXPECT_NE(units.output().find("--units"), std::string::npos) << units.output();
    test::Process both({NODEBRIDGE_SIM_PATH, "modbus-tcp", "--port", "0", "--model", "test-meter",
                        "--nodes", "2", "--model-dir", dir.path()},
                       dir.file("c.log"));
    EXPECT_EQ(both.wait_for_exit(5s), 78);
}

TEST(ModbusSim, GeneratedDevicesForTheBenchmark) {
    TempDir dir;
    SimProcess sim(dir, {"modbus-tcp", "--port", "0", "--nodes", "3", "--attributes", "4"});
    EXPECT_NE(sim.process().output().find("units 1,2,3"), std::string::npos);
    Context ctx = connect_tcp(sim.port());
    std::uint16_t regs[8] = {};
    modbus_set_slave(ctx.get(), 3);
    ASSERT_EQ(modbus_read_input_registers(ctx.get(), 0, 8, regs), 8);
    EXPECT_NEAR(modbus_get_float_abcd(regs + 6), 33.0, 0.51);  // 10 * k + unit, +-0.5
    modbus_set_slave(ctx.get(), 4);
    EXPECT_EQ(modbus_read_input_registers(ctx.get(), 0, 1, regs), -1);
    EXPECT_EQ(sim.terminate(), 0);
}

}  // namespace
}  // namespace nodebridge
