// StateNames from a Config: which attributes are coded (`states:`). In nb_config, since it
// walks the config's attribute tables; the lookups themselves are src/mapping/states.cpp.

#include "nodebridge/mapping.hpp"

namespace nodebridge {

StateNames::StateNames(const Config& config) {
    const auto add = [](Attributes& into, const std::string& name, const AttributeMeaning& m) {
        if (!m.states.empty()) into.insert_or_assign(name, m.states);
    };
    const auto schema_of = [&](const std::vector<ReceivedAttribute>& attributes) {
        Attributes out;
        for (const ReceivedAttribute& attribute : attributes) {
            if (attribute.ignore) continue;
            add(out, attribute.name.empty() ? attribute.key : attribute.name, attribute.meaning);
        }
        return out;
    };
    for (const SourceConfig& source : config.sources) {
        Source entry;
        if (const auto* modbus = std::get_if<ModbusSourceConfig>(&source.settings)) {
            for (const ModbusNode& node : modbus->nodes) {
                Attributes attributes;
                for (const ModbusAttribute& attribute : node.attributes) {
                    add(attributes, attribute.name, attribute.meaning);
                }
                if (!attributes.empty()) entry.nodes.emplace(node.id, std::move(attributes));
            }
        } else if (const auto* serial = std::get_if<SerialNodesSourceConfig>(&source.settings)) {
            entry.schema = schema_of(serial->attributes);
            bool any = !entry.schema.empty();
            for (const NodeSchema& schema : serial->node_models) {
                entry.node_models.emplace_back(schema.nodes, schema_of(schema.attributes));
                any |= !entry.node_models.back().second.empty();
            }
            if (!any) continue;
        }
        if (entry.nodes.empty() && entry.schema.empty() && entry.node_models.empty()) continue;
        sources_.emplace(source.name, std::move(entry));
    }
}

}  // namespace nodebridge
