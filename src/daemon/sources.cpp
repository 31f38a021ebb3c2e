#include "daemon.hpp"
#include "sources/modbus/modbus_source.hpp"
#include "sources/serial/serial_nodes_source.hpp"

namespace nodebridge {

std::unique_ptr<Source> make_source(const SourceConfig& config, SampleQueue& samples, Logger& log,
                                    TurnSamples& tcp) {
    if (std::holds_alternative<ModbusSourceConfig>(config.settings)) {
        return make_modbus_source(config, samples, log, &tcp);
    }
    return make_serial_nodes_source(config, samples, log);
}

}  // namespace nodebridge
