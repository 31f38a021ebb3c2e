// The serial line settings shared by modbus-rtu and serial-nodes sources.

#include <algorithm>
#include <array>

#include "sections.hpp"

namespace nodebridge::config_detail {
namespace {

// The rates Linux termios can set; anything else would fail only when the port is opened.
constexpr std::array<long long, 24> kBaudRates = {
    300,     600,     1200,    1800,    2400,    4800,    9600,    19200,
    38400,   57600,   115200,  230400,  460800,  500000,  576000,  921600,
    1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000};

}  // namespace

void read_serial_line(MapReader& map, SerialLine& out) {
    const Context& ctx = map.context();
    if (map.text("device", out.device, true) && out.device.empty()) {
        ctx.error(map.value_position("device"), "device: must not be empty");
    }
    long long baud = out.baud;
    if (map.integer("baud", 1, 4000000, baud)) {
        if (std::find(kBaudRates.begin(), kBaudRates.end(), baud) == kBaudRates.end()) {
            ctx.error(map.value_position("baud"),
                      "baud: " + std::to_string(baud) +
                          " is not a rate the serial port supports (e.g. 9600, 19200, 115200)");
        } else {
            out.baud = static_cast<int>(baud);
        }
    }
    map.choice<Parity>("parity",
                       {{"none", Parity::none}, {"even", Parity::even}, {"odd", Parity::odd}},
                       out.parity);
    map.integer("data_bits", 5, 8, out.data_bits);
    map.integer("stop_bits", 1, 2, out.stop_bits);
    map.choice<FlowControl>("flow_control",
                            {{"none", FlowControl::none},
                             {"rtscts", FlowControl::rtscts},
                             {"xonxoff", FlowControl::xonxoff}},
                            out.flow_control);
}

}  // namespace nodebridge::config_detail
