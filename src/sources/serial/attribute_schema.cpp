#include "sources/serial/attribute_schema.hpp"

#include <cmath>

#include "glob.hpp"

namespace nodebridge::serial {
namespace {

double round_to(double value, int decimals) {
    if (!std::isfinite(value)) return value;
    const double factor = std::pow(10.0, decimals);
    const double scaled = value * factor;
    if (!std::isfinite(scaled)) return value;
    return std::round(scaled) / factor;
}

}  // namespace

AttributeSchema::AttributeSchema(const std::vector<ReceivedAttribute>& entries) {
    for (const ReceivedAttribute& entry : entries) entries_[entry.key] = entry;
}

void AttributeSchema::apply(std::vector<Attribute>& attributes) const {
    if (entries_.empty()) return;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < attributes.size(); ++i) {
        Attribute& attribute = attributes[i];
        const auto it = entries_.find(attribute.name);
        if (it != entries_.end()) {
            const ReceivedAttribute& entry = it->second;
            if (entry.ignore) continue;
            if (!entry.name.empty()) attribute.name = entry.name;
            attribute.unit = entry.unit;
            const bool identity = entry.scale == 1.0 && entry.offset == 0.0 && !entry.round;
            if (!identity) {
                double number = 0;
                bool numeric = true;
                if (const auto* integer = std::get_if<std::int64_t>(&attribute.value)) {
                    number = static_cast<double>(*integer);
                } else if (const auto* real = std::get_if<double>(&attribute.value)) {
                    number = *real;
                } else {
                    numeric = false;
                }
                if (numeric) {
                    number = number * entry.scale + entry.offset;
                    if (entry.round) number = round_to(number, *entry.round);
                    attribute.value = number;
                }
            }
        }
        if (kept != i) attributes[kept] = std::move(attribute);
        ++kept;
    }
    attributes.resize(kept);
}

NodeSchemas::NodeSchemas(const SerialNodesSourceConfig& settings) : source_(settings.attributes) {
    entries_.reserve(settings.node_models.size());
    for (const NodeSchema& entry : settings.node_models) {
        entries_.emplace_back(entry.nodes, AttributeSchema(entry.attributes));
    }
}

const AttributeSchema& NodeSchemas::for_node(std::string_view node) const {
    for (const auto& [nodes, schema] : entries_) {
        if (mapping::glob_match(nodes, node)) return schema;
    }
    return source_;
}

}  // namespace nodebridge::serial
