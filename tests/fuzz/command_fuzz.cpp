// libFuzzer target for write-back commands: parse_command_payload() and
// CommandRouter::route() over a fixed config. The input is "<flags byte><topic>\n<payload>":
// bit 0 of the flags byte marks the message retained, and when bit 1 is set the topic is
// replaced by one of the router's own topics (chosen by the byte's upper bits), so most
// inputs reach the value checks. Traps when a result breaks the contract of command.hpp.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nodebridge/command.hpp"

namespace {

using namespace nodebridge;

ModbusAttribute holding(std::string name, std::uint16_t address, ModbusType type, double min,
                        double max) {
    ModbusAttribute a;
    a.name = std::move(name);
    a.address = address;
    a.type = type;
    a.writable = true;
    a.min = min;
    a.max = max;
    return a;
}

Config make_config() {
    ModbusAttribute relay;
    relay.name = "relay";
    relay.table = ModbusTable::coil;
    relay.type = ModbusType::boolean;
    relay.writable = true;
    ModbusAttribute setpoint = holding("setpoint", 0, ModbusType::uint16, 0, 100);
    ModbusAttribute scaled = holding("scaled", 1, ModbusType::int16, -50, 50);
    scaled.scale = 0.5;
    scaled.offset = -1;
    ModbusAttribute mode = holding("mode", 2, ModbusType::uint16, 0, 3);
    mode.allowed = {0, 1, 3};
    ModbusAttribute gain = holding("gain", 3, ModbusType::float32, -1e6, 1e6);
    ModbusAttribute volts;
    volts.name = "volts";
    volts.table = ModbusTable::input;
    ModbusNode node;
    node.id = "n1";
    node.attributes = {relay, setpoint, scaled, mode, gain, volts};
    ModbusSourceConfig modbus;
    modbus.link = ModbusTcpEndpoint{"127.0.0.1", 502};
    modbus.nodes = {node};
    Config config;
    config.gateway = "gw";
    config.sources.push_back({.name = "bus", .type = "modbus-tcp", .settings = modbus});
    MappingRule rule;
    rule.name = "r";
    rule.topic = "gw/{node}/{attribute}";
    rule.command_topic = "{topic}/set";
    config.mappings.push_back(rule);
    return config;
}

void check_payload(std::string_view payload) {
    auto result = parse_command_payload(payload);
    if (const auto* reason = std::get_if<std::string>(&result)) {
        if (reason->empty()) __builtin_trap();
        return;
    }
    if (payload.size() > kMaxCommandPayload) __builtin_trap();
    const Value& value = std::get<Value>(result);
    if (const auto* number = std::get_if<double>(&value)) {
        if (!std::isfinite(*number)) __builtin_trap();
    } else if (!std::holds_alternative<bool>(value)) {
        __builtin_trap();
    }
}

void check_route(const CommandRouter& router, std::string_view topic, std::string_view payload,
                 bool retained) {
    const CommandTarget* target = nullptr;
    for (const CommandTarget& candidate : router.targets()) {
        if (candidate.topic == topic) target = &candidate;
    }
    auto result = router.route(topic, payload, retained);
    if (const auto* rejection = std::get_if<CommandRejection>(&result)) {
        if (rejection->reason.empty()) __builtin_trap();
        if (rejection->reply_topic.empty() != (target == nullptr)) __builtin_trap();
        return;
    }
    const WriteCommand& command = std::get<WriteCommand>(result);
    if (target == nullptr || retained || !target->attribute.writable) __builtin_trap();
    if (command.reply_topic != target->reply_topic || command.node != target->node) {
        __builtin_trap();
    }
    const ModbusAttribute& attribute = target->attribute;
    if (attribute.type == ModbusType::boolean) {
        if (!std::holds_alternative<bool>(command.value)) __builtin_trap();
        return;
    }
    const auto* number = std::get_if<double>(&command.value);
    if (number == nullptr || !std::isfinite(*number)) __builtin_trap();
    if (*number < *attribute.min || *number > *attribute.max) __builtin_trap();
    if (!attribute.allowed.empty()) {
        bool found = false;
        for (double allowed : attribute.allowed) found |= allowed == *number;
        if (!found) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const CommandRouter router(make_config());
    if (size == 0) return 0;
    const std::uint8_t flags = data[0];
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    check_payload(rest);
    const std::size_t newline = rest.find('\n');
    std::string_view topic = rest.substr(0, newline);
    const std::string_view payload =
        newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    if ((flags & 2) != 0) {
        const auto& targets = router.targets();
        topic = targets[(flags >> 2) % targets.size()].topic;
    }
    check_route(router, topic, payload, (flags & 1) != 0);
    return 0;
}
