// libFuzzer target for the regex line format.

#include "fuzz_support.hpp"

namespace {

std::unique_ptr<nodebridge::serial::LineParser> make_parser() {
    using namespace nodebridge;
    SerialNodesSourceConfig config;
    config.format = LineFormat::regex;
    config.pattern = R"(^(?:RX\s+)?(?<node>[0-9A-Fa-f]{2,8})(?:\s+T=(?<temp>-?\d+(?:\.\d+)?))?)"
                     R"((?:\s+H=(?<humidity>\d+))?(?:\s+(?<flags>(?:[a-z]+,?)*))?\s*$)";
    return serial::fuzz::make_or_trap(config);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto parser = make_parser();
    nodebridge::serial::fuzz::run(*parser, data, size);
    return 0;
}
