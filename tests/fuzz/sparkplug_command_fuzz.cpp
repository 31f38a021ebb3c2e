// libFuzzer target for what a Sparkplug edge node receives: NCMD, DCMD and STATE payloads
// (protobuf and JSON) through EdgeNode::receive() over a fixed config. The input is
// "<flags byte><payload>": bits 0-1 pick the topic (NCMD, DCMD of the device, DCMD of an
// unknown device, the primary host's STATE), bit 2 marks it retained, bit 3 leaves the
// session before the message. Traps when a result breaks the contract of edge_node.hpp.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec.hpp"
#include "edge_node.hpp"

namespace {

using namespace nodebridge;
using namespace nodebridge::sparkplug;

Config make_config() {
    ModbusAttribute relay{.name = "relay", .table = ModbusTable::coil,
                          .type = ModbusType::boolean, .writable = true};
    ModbusAttribute setpoint{.name = "setpoint", .address = 0, .type = ModbusType::int16,
                             .writable = true, .min = -50, .max = 50};
    ModbusAttribute gain{.name = "gain", .address = 1, .type = ModbusType::float32,
                         .writable = true, .min = -1e6, .max = 1e6};
    ModbusAttribute volts{.name = "volts", .table = ModbusTable::input};
    ModbusNode node{.id = "pdu-1"};
    node.attributes = {relay, setpoint, gain, volts};
    ModbusSourceConfig modbus;
    modbus.link = ModbusTcpEndpoint{"127.0.0.1", 502};
    modbus.nodes = {node};
    Config config;
    config.gateway = "gw";
    config.sources.push_back({.name = "bus", .type = "modbus-tcp", .settings = modbus});
    config.mappings.push_back(MappingRule{.name = "r", .topic = "gw/{node}/{attribute}",
                                          .sparkplug = true});
    config.sparkplug = SparkplugConfig{.group_id = "g", .edge_node_id = "gw",
                                       .primary_host_id = "host"};
    return config;
}

void check(const Received& received, bool retained, bool in_session) {
    for (const std::string& reason : received.refusals) {
        if (reason.empty()) __builtin_trap();
    }
    if (retained && !received.writes.empty()) __builtin_trap();
    for (const WriteCommand& write : received.writes) {
        if (write.node != "pdu-1" || write.source != "bus") __builtin_trap();
        if (write.attribute == "relay") {
            if (!std::holds_alternative<bool>(write.value)) __builtin_trap();
        } else if (write.attribute == "setpoint" || write.attribute == "gain") {
            const auto* number = std::get_if<double>(&write.value);
            const double limit = write.attribute == "setpoint" ? 50 : 1e6;
            if (number == nullptr || !(*number >= -limit && *number <= limit)) __builtin_trap();
        } else {
            __builtin_trap();  // volts is not writable
        }
    }
    if (!received.publish.empty() && !in_session) __builtin_trap();
    for (std::size_t i = 0; i < received.publish.size(); ++i) {
        const auto payload = decode(received.publish[i].payload);
        if (!payload || !payload->seq || *payload->seq != i) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Config config = make_config();
    if (size == 0) return 0;
    const std::uint8_t flags = data[0];
    const std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
    if (auto decoded = decode(payload)) {
        if (decoded->metrics.size() > kMaxDecodedMetrics) __builtin_trap();
        (void)encode(*decoded);  // whatever decodes encodes again
    }
    EdgeNode edge(config);
    const NodeMetrics metrics{.version = "fuzz", .counters = {{"samples", 1}}};
    edge.will();
    edge.connected(WallClock::time_point{}, metrics);
    edge.receive("spBv1.0/STATE/host", R"({"online":true,"timestamp":1})", false,
                 WallClock::time_point{}, metrics);
    const bool leave = (flags & 8) != 0;
    if (leave) edge.disconnected();
    static const char* const kTopics[] = {"spBv1.0/g/NCMD/gw", "spBv1.0/g/DCMD/gw/pdu-1",
                                          "spBv1.0/g/DCMD/gw/ghost", "spBv1.0/STATE/host"};
    const bool retained = (flags & 4) != 0;
    const Received received =
        edge.receive(kTopics[flags & 3], payload, retained, WallClock::time_point{}, metrics);
    // A rebirth needs a session; STATE online after leaving does not birth either.
    check(received, retained, !leave);
    return 0;
}
