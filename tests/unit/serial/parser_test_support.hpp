#pragma once
// Builds parsers from config in tests and checks reports compactly.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "sources/serial/line_parser.hpp"

namespace nodebridge::serial::testing {

inline std::unique_ptr<LineParser> parser_for(const SerialNodesSourceConfig& config) {
    std::string error;
    auto parser = make_line_parser(config, error);
    EXPECT_NE(parser, nullptr) << error;
    return parser;
}

inline SerialNodesSourceConfig config_with(LineFormat format) {
    SerialNodesSourceConfig config;
    config.format = format;
    return config;
}

// Finds an attribute by name; fails the test when it is missing.
inline const Value* attribute(const Report& report, std::string_view name) {
    for (const Attribute& a : report.attributes) {
        if (a.name == name) return &a.value;
    }
    ADD_FAILURE() << "no attribute " << name;
    return nullptr;
}

inline std::string names(const Report& report) {
    std::string out;
    for (const Attribute& a : report.attributes) {
        if (!out.empty()) out += ',';
        out += a.name;
    }
    return out;
}

}  // namespace nodebridge::serial::testing
