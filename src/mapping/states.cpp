// StateNames: the names of codes (its constructor from a Config is src/config/state_names.cpp).

#include <cmath>
#include <limits>

#include "glob.hpp"
#include "nodebridge/mapping.hpp"

namespace nodebridge {

const StateNames::Table* StateNames::find(std::string_view source, std::string_view node,
                                          std::string_view attribute) const {
    const auto in = [&](const Attributes& attributes) -> const Table* {
        const auto found = attributes.find(attribute);
        return found == attributes.end() ? nullptr : &found->second;
    };
    const auto found = sources_.find(source);
    if (found == sources_.end()) return nullptr;
    const Source& entry = found->second;
    if (const auto by_node = entry.nodes.find(node); by_node != entry.nodes.end()) {
        return in(by_node->second);
    }
    // A serial-nodes node takes the schema of the first `models:` entry matching its id.
    for (const auto& [glob, attributes] : entry.node_models) {
        if (mapping::glob_match(glob, node)) return in(attributes);
    }
    return in(entry.schema);
}

const std::string* StateNames::name_of(const Table& table, const Value& value) {
    std::int64_t code = 0;
    if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        code = *integer;
    } else if (const auto* number = std::get_if<double>(&value)) {
        // Codes are whole numbers well inside what a double holds exactly.
        if (!std::isfinite(*number) || std::trunc(*number) != *number ||
            std::fabs(*number) > 9.0e15) {
            return nullptr;
        }
        code = static_cast<std::int64_t>(*number);
    } else {
        return nullptr;
    }
    for (const auto& [known, name] : table) {
        if (known == code) return &name;
    }
    return nullptr;
}

}  // namespace nodebridge
