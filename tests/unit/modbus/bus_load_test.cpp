// bus_load() and describe_bus_loads(): the reads per second a source's interval groups need,
// and the share of an RTU line's time they take, from the line's framing (rtu_timing.hpp).

#include "bus_load.hpp"

#include <gtest/gtest.h>

#include "rtu_timing.hpp"

namespace nodebridge::modbus {
namespace {

using namespace std::chrono_literals;

ModbusAttribute float_at(std::uint16_t address, std::optional<Millis> poll = std::nullopt) {
    ModbusAttribute a;
    a.name = "a" + std::to_string(address);
    a.table = ModbusTable::input;
    a.address = address;
    a.type = ModbusType::float32;
    a.poll = poll;
    return a;
}

ModbusSourceConfig line(int baud, std::vector<ModbusNode> nodes) {
    ModbusSourceConfig config;
    config.link = SerialLine{.device = "/dev/ttyUSB0", .baud = baud};
    config.nodes = std::move(nodes);
    return config;
}

ModbusNode node(std::vector<ModbusAttribute> attributes, Millis poll) {
    ModbusNode out;
    out.id = "n";
    out.poll = poll;
    out.attributes = std::move(attributes);
    return out;
}

TEST(BusLoad, CountsEachGroupsRequestsAtItsInterval) {
    // 0..3 every 500 ms (one read), 10..11 every minute (one read), 20..21 every 2 s.
    const auto config =
        line(19200, {node({float_at(0), float_at(2), float_at(10, 60s), float_at(20, 2s)}, 500ms)});
    const BusLoad load = bus_load(config);
    EXPECT_NEAR(load.requests_per_second, 2.0 + 1.0 / 60 + 0.5, 1e-9);
    EXPECT_TRUE(load.rtu);
    const CharFraming framing{.baud = 19200, .parity = false};
    const double four = static_cast<double>(
        transaction_time(framing, kReadRequestChars, read_registers_reply_chars(4), {}).count());
    const double two = static_cast<double>(
        transaction_time(framing, kReadRequestChars, read_registers_reply_chars(2), {}).count());
    EXPECT_NEAR(load.line_share, (2.0 * four + (1.0 / 60 + 0.5) * two) / 1e6, 1e-9);
    EXPECT_NEAR(load.line_limit, load.requests_per_second / load.line_share, 1e-9);
}

TEST(BusLoad, ARequestGapTakesLineTimeToo) {
    auto config = line(9600, {node({float_at(0)}, 1s)});
    const double without = bus_load(config).line_share;
    config.request_gap = 100ms;
    EXPECT_NEAR(bus_load(config).line_share, without + 0.1, 1e-9);
}

TEST(BusLoad, TcpHasReadsPerSecondOnly) {
    ModbusSourceConfig config;
    config.link = ModbusTcpEndpoint{.host = "127.0.0.1"};
    config.nodes = {node({float_at(0), float_at(100, 10s)}, 100ms)};
    const BusLoad load = bus_load(config);
    EXPECT_NEAR(load.requests_per_second, 10.1, 1e-9);
    EXPECT_FALSE(load.rtu);
    EXPECT_EQ(load.line_share, 0.0);
}

TEST(BusLoad, WarnsAboutAnOvercommittedLineOnly) {
    Config config;
    std::vector<ModbusAttribute> forty;  // one read of 80 registers: 170 bytes back
    for (std::uint16_t k = 0; k < 40; ++k)
        forty.push_back(float_at(static_cast<std::uint16_t>(2 * k)));
    SourceConfig busy;
    busy.name = "busy";
    busy.settings = line(9600, {node(forty, 100ms)});  // 10 reads/s of ~0.19 s each
    busy.where.file = "c.yaml";
    busy.where.line = 4;
    busy.where.column = 5;
    SourceConfig calm;
    calm.name = "calm";
    calm.settings = line(9600, {node(forty, 1s)});
    config.sources = {busy, calm};
    std::vector<std::string> warnings;
    const std::string text = describe_bus_loads(config, warnings);
    ASSERT_EQ(warnings.size(), 1u) << text;
    EXPECT_TRUE(warnings[0].starts_with("c.yaml:4:5: source 'busy' needs 10.0 reads/s"))
        << warnings[0];
    EXPECT_NE(text.find("bus busy: 10.0 reads/s, "), std::string::npos) << text;
    EXPECT_NE(text.find("over-committed"), std::string::npos) << text;
    EXPECT_NE(text.find("bus calm: 1.0 reads/s, "), std::string::npos) << text;
}

}  // namespace
}  // namespace nodebridge::modbus
