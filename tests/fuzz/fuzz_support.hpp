#pragma once
// Shared by the parser fuzz targets: feed the input through the line framer, parse every
// line, and trap if a result breaks the parser's contract.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sources/serial/line_framer.hpp"
#include "sources/serial/line_parser.hpp"

namespace nodebridge::serial::fuzz {

inline void check_report(LineError result, const Report& report) {
    if (result != LineError::none) {
        if (!report.node.empty() || !report.attributes.empty()) __builtin_trap();
        return;
    }
    if (report.node.empty() || report.node.size() > kMaxNodeIdBytes) __builtin_trap();
    if (report.attributes.size() > kMaxAttributes + 1) __builtin_trap();  // + a kept "id"
    for (const Attribute& attribute : report.attributes) {
        if (attribute.name.empty() || attribute.name.size() > kMaxKeyBytes) __builtin_trap();
    }
}

// Parses `data` as one line, then as a stream of lines through a small framer.
inline void run(LineParser& parser, const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    Report report;
    check_report(parser.parse(bytes, report), report);
    LineFramer framer(256);
    framer.feed(bytes, [&](std::string_view line) {
        if (line.size() > 256) __builtin_trap();
        check_report(parser.parse(line, report), report);
    });
}

inline std::unique_ptr<LineParser> make_or_trap(const SerialNodesSourceConfig& config) {
    std::string error;
    auto parser = make_line_parser(config, error);
    if (!parser) __builtin_trap();
    return parser;
}

}  // namespace nodebridge::serial::fuzz
