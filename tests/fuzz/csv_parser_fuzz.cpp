// libFuzzer target for the csv line format.

#include "fuzz_support.hpp"

namespace {

std::unique_ptr<nodebridge::serial::LineParser> make_parser() {
    using namespace nodebridge;
    SerialNodesSourceConfig config;
    config.format = LineFormat::csv;
    config.columns = {"node", "time", "voltage", "label"};
    config.time_key = "time";
    return serial::fuzz::make_or_trap(config);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto parser = make_parser();
    nodebridge::serial::fuzz::run(*parser, data, size);
    return 0;
}
