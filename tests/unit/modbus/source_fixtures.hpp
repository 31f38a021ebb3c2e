#pragma once
// What the ModbusSource tests share: a recording logger, the simulator's default nodes as
// source configuration, and ways to wait for readings.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/source.hpp"

namespace nodebridge::modbus_test {

using namespace std::chrono_literals;

// Keeps every line, as "event message", so tests can look at what was logged.
class RecordingLogger final : public Logger {
  public:
    RecordingLogger() : Logger(LogLevel::debug) {}
    std::vector<std::string> lines() const {
        std::lock_guard lock(mutex_);
        return lines_;
    }

  protected:
    void write(LogLevel, std::string_view message, const LogContext& context) override {
        std::lock_guard lock(mutex_);
        lines_.push_back(std::string(context.event) + " " + std::string(message));
    }

  private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

inline ModbusAttribute attribute(std::string name, ModbusTable table, std::uint16_t address,
                                 ModbusType type, std::string unit = "") {
    ModbusAttribute a;
    a.name = std::move(name);
    a.table = table;
    a.address = address;
    a.type = type;
    a.unit = std::move(unit);
    return a;
}

// The simulator's pdu (units 1 and 2).
inline ModbusNode pdu_node(std::string id, int unit, Millis poll) {
    ModbusNode node;
    node.id = std::move(id);
    node.unit = unit;
    node.poll = poll;
    node.attributes = {
        attribute("voltage", ModbusTable::input, 0, ModbusType::float32, "V"),
        attribute("current", ModbusTable::input, 2, ModbusType::float32, "A"),
        attribute("power", ModbusTable::input, 4, ModbusType::float32, "W"),
        attribute("energy", ModbusTable::holding, 100, ModbusType::uint32, "kWh"),
        attribute("breaker", ModbusTable::coil, 0, ModbusType::boolean),
    };
    node.attributes[3].scale = 0.001;
    return node;
}

// The simulator's meter (unit 7).
inline ModbusNode meter_node(std::string id, int unit, Millis poll) {
    ModbusNode node;
    node.id = std::move(id);
    node.unit = unit;
    node.poll = poll;
    auto frequency = attribute("frequency", ModbusTable::input, 70, ModbusType::float32, "Hz");
    frequency.word_order = WordOrder::little;
    auto temperature = attribute("temperature", ModbusTable::holding, 10, ModbusType::int16, "°C");
    temperature.scale = 0.1;
    temperature.round = 1;
    node.attributes = {frequency, temperature};
    return node;
}

// `count` float32 input registers from address 0, as the simulator's --nodes/--attributes
// devices serve them: attribute k of unit u is 10 k + u +- 0.5.
inline ModbusNode generated_node(int unit, int count, Millis poll) {
    ModbusNode node;
    node.id = "unit-" + std::to_string(unit);
    node.unit = unit;
    node.poll = poll;
    for (int k = 0; k < count; ++k) {
        node.attributes.push_back(attribute("a" + std::to_string(k), ModbusTable::input,
                                            static_cast<std::uint16_t>(2 * k),
                                            ModbusType::float32));
    }
    return node;
}

inline ModbusSourceConfig tcp_config(int port, Millis timeout, std::vector<ModbusNode> nodes) {
    ModbusSourceConfig config;
    config.link = ModbusTcpEndpoint{.host = "127.0.0.1", .port = port};
    config.timeout = timeout;
    config.nodes = std::move(nodes);
    return config;
}

inline ModbusSourceConfig rtu_config(const std::string& device, Millis timeout,
                                     std::vector<ModbusNode> nodes) {
    ModbusSourceConfig config;
    config.link = SerialLine{.device = device, .baud = 19200, .parity = Parity::even};
    config.timeout = timeout;
    config.nodes = std::move(nodes);
    return config;
}

// Pops every sample that arrives within `span`, readings per node.
inline std::map<std::string, std::vector<Sample>> gather(
    SampleQueue& queue, Millis span, std::vector<Sample>* availability = nullptr) {
    std::map<std::string, std::vector<Sample>> readings;
    const auto deadline = SteadyClock::now() + span;
    while (auto sample = queue.pop_until(deadline)) {
        if (sample->online) {
            if (availability != nullptr) availability->push_back(std::move(*sample));
            continue;
        }
        readings[sample->node].push_back(std::move(*sample));
    }
    return readings;
}

inline const Attribute* find(const Sample& sample, std::string_view name) {
    for (const Attribute& a : sample.attributes) {
        if (a.name == name) return &a;
    }
    return nullptr;
}

// The next reading within `timeout`, skipping availability samples.
inline std::optional<Sample> next_reading(SampleQueue& queue, Millis timeout = 5s) {
    const auto deadline = SteadyClock::now() + timeout;
    while (auto sample = queue.pop_until(deadline)) {
        if (!sample->online) return sample;
    }
    return std::nullopt;
}

}  // namespace nodebridge::modbus_test
