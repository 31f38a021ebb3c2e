// list_models() and show_model(): what --list-models and --show-model print.

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "sections.hpp"

namespace nodebridge {
namespace {

std::string place(const Position& where) {
    return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

std::string word_order_text(WordOrder order) { return order == WordOrder::big ? "big" : "little"; }

void emit_meaning(YAML::Emitter& out, const AttributeMeaning& meaning) {
    if (!meaning.quantity.empty())
        out << YAML::Key << "quantity" << YAML::Value << meaning.quantity;
    if (meaning.counter) out << YAML::Key << "counter" << YAML::Value << true;
    if (meaning.net) out << YAML::Key << "counter" << YAML::Value << "net";
    if (!meaning.states.empty()) {
        out << YAML::Key << "states" << YAML::Value << YAML::Flow << YAML::BeginMap;
        for (const auto& [code, name] : meaning.states) {
            out << YAML::Key << code << YAML::Value << name;
        }
        out << YAML::EndMap;
    }
    if (!meaning.homeassistant) return;
    const HomeAssistantHints& hints = *meaning.homeassistant;
    out << YAML::Key << "homeassistant" << YAML::Value << YAML::Flow << YAML::BeginMap;
    for (auto [key, value] : {std::pair<const char*, const std::string*>{"name", &hints.name},
                              {"device_class", &hints.device_class},
                              {"state_class", &hints.state_class},
                              {"icon", &hints.icon},
                              {"entity_category", &hints.entity_category}}) {
        if (!value->empty()) out << YAML::Key << key << YAML::Value << *value;
    }
    if (hints.enabled) out << YAML::Key << "enabled" << YAML::Value << *hints.enabled;
    out << YAML::EndMap;
}

void emit_attribute(YAML::Emitter& out, const ModbusAttribute& a) {
    out << YAML::Key << a.name << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "table" << YAML::Value << to_string(a.table);
    out << YAML::Key << "address" << YAML::Value << a.address;
    out << YAML::Key << "type" << YAML::Value << to_string(a.type);
    if (a.type == ModbusType::string) out << YAML::Key << "length" << YAML::Value << a.length;
    if (a.width() > 1 && a.type != ModbusType::string && a.word_order != WordOrder::big) {
        out << YAML::Key << "word_order" << YAML::Value << word_order_text(a.word_order);
    }
    if (a.byte_swap) out << YAML::Key << "byte_swap" << YAML::Value << true;
    if (a.scale != 1.0) out << YAML::Key << "scale" << YAML::Value << number_text(a.scale);
    if (a.offset != 0.0) out << YAML::Key << "offset" << YAML::Value << number_text(a.offset);
    if (a.round) out << YAML::Key << "round" << YAML::Value << *a.round;
    if (!a.unit.empty()) out << YAML::Key << "unit" << YAML::Value << a.unit;
    emit_meaning(out, a.meaning);
    if (a.writable) {
        out << YAML::Key << "writable" << YAML::Value << true;
        if (a.min) out << YAML::Key << "min" << YAML::Value << number_text(*a.min);
        if (a.max) out << YAML::Key << "max" << YAML::Value << number_text(*a.max);
        if (!a.allowed.empty()) {
            out << YAML::Key << "allowed" << YAML::Value << YAML::Flow << YAML::BeginSeq;
            for (double value : a.allowed) out << number_text(value);
            out << YAML::EndSeq;
        }
    }
    out << YAML::EndMap;
}

void emit_received(YAML::Emitter& out, const ReceivedAttribute& r) {
    out << YAML::Key << r.key << YAML::Value << YAML::Flow << YAML::BeginMap;
    if (r.name != r.key) out << YAML::Key << "name" << YAML::Value << r.name;
    if (r.ignore) out << YAML::Key << "ignore" << YAML::Value << true;
    if (r.scale != 1.0) out << YAML::Key << "scale" << YAML::Value << number_text(r.scale);
    if (r.offset != 0.0) out << YAML::Key << "offset" << YAML::Value << number_text(r.offset);
    if (r.round) out << YAML::Key << "round" << YAML::Value << *r.round;
    if (!r.unit.empty()) out << YAML::Key << "unit" << YAML::Value << r.unit;
    emit_meaning(out, r.meaning);
    out << YAML::EndMap;
}

}  // namespace

std::string list_models(const std::vector<ModelRef>& models) {
    struct Row {
        std::string cells[5];
    };
    std::vector<Row> rows{{{"MODEL", "MANUFACTURER", "DEVICE", "ATTRIBUTES", "FILE"}}};
    for (const ModelRef& model : models) {
        const std::size_t count =
            model->attributes.empty() ? model->received.size() : model->attributes.size();
        rows.push_back({{model->name, model->manufacturer.empty() ? "-" : model->manufacturer,
                         model->model.empty() ? "-" : model->model, std::to_string(count),
                         model->where.file}});
    }
    std::size_t widths[4] = {};
    for (const Row& row : rows) {
        for (std::size_t i = 0; i < 4; ++i) widths[i] = std::max(widths[i], row.cells[i].size());
    }
    std::string out;
    for (const Row& row : rows) {
        for (std::size_t i = 0; i < 4; ++i) {
            out += row.cells[i] + std::string(widths[i] - row.cells[i].size() + 2, ' ');
        }
        out += row.cells[4] + "\n";
    }
    if (models.empty()) out += "(no models)\n";
    return out;
}

std::string show_model(const DeviceModel& model) {
    std::string head = "# " + model.name + " from " + place(model.where) + "\n";
    for (const Position& earlier : model.replaced) {
        head += "# (replaces the definition at " + place(earlier) + ")\n";
    }
    YAML::Emitter out;
    out << YAML::BeginMap << YAML::Key << "models" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << model.name << YAML::Value << YAML::BeginMap;
    for (auto [key, value] :
         {std::pair<const char*, const std::string*>{"manufacturer", &model.manufacturer},
          {"model", &model.model},
          {"description", &model.description}}) {
        if (!value->empty()) out << YAML::Key << key << YAML::Value << *value;
    }
    const Datasheet& sheet = model.datasheet;
    if (!sheet.title.empty() || !sheet.version.empty() || !sheet.url.empty()) {
        out << YAML::Key << "datasheet" << YAML::Value << YAML::BeginMap;
        if (!sheet.title.empty()) out << YAML::Key << "title" << YAML::Value << sheet.title;
        if (!sheet.version.empty()) out << YAML::Key << "version" << YAML::Value << sheet.version;
        if (!sheet.url.empty()) out << YAML::Key << "url" << YAML::Value << sheet.url;
        out << YAML::EndMap;
    }
    if (model.max_registers)
        out << YAML::Key << "max_registers" << YAML::Value << *model.max_registers;
    if (model.max_gap) out << YAML::Key << "max_gap" << YAML::Value << *model.max_gap;
    if (model.request_gap) {
        out << YAML::Key << "request_gap" << YAML::Value
            << config_detail::format_duration(*model.request_gap);
    }
    const ModelIdentity& identity = model.identify;
    if (!identity.empty()) {
        out << YAML::Key << "identify" << YAML::Value << YAML::BeginMap;
        for (auto [key, value] :
             {std::pair<const char*, const std::string*>{"vendor", &identity.vendor},
              {"product_code", &identity.product_code},
              {"revision", &identity.revision}}) {
            if (!value->empty()) out << YAML::Key << key << YAML::Value << *value;
        }
        if (!identity.registers.empty()) {
            out << YAML::Key << "registers" << YAML::Value << YAML::BeginSeq;
            for (const IdentifyRegister& reg : identity.registers) {
                out << YAML::Flow << YAML::BeginMap;
                out << YAML::Key << "table" << YAML::Value << to_string(reg.table);
                out << YAML::Key << "address" << YAML::Value << reg.address;
                if (reg.type != ModbusType::uint16)
                    out << YAML::Key << "type" << YAML::Value << to_string(reg.type);
                if (reg.word_order == WordOrder::little)
                    out << YAML::Key << "word_order" << YAML::Value << "little";
                const bool single = std::all_of(reg.ranges.begin(), reg.ranges.end(),
                                                [](const auto& r) { return r.first == r.second; });
                if (single) {
                    out << YAML::Key << "values" << YAML::Value << YAML::Flow << YAML::BeginSeq;
                    for (const auto& range : reg.ranges) out << range.first;
                    out << YAML::EndSeq;
                } else if (!reg.ranges.empty()) {
                    out << YAML::Key << "min" << YAML::Value << reg.ranges.front().first;
                    out << YAML::Key << "max" << YAML::Value << reg.ranges.front().second;
                }
                out << YAML::EndMap;
            }
            out << YAML::EndSeq;
        }
        out << YAML::EndMap;
    }
    if (!model.attributes.empty()) {
        out << YAML::Key << "attributes" << YAML::Value << YAML::BeginMap;
        for (const ModbusAttribute& attribute : model.attributes) emit_attribute(out, attribute);
        out << YAML::EndMap;
    }
    if (!model.received.empty()) {
        out << YAML::Key << "received" << YAML::Value << YAML::BeginMap;
        for (const ReceivedAttribute& entry : model.received) emit_received(out, entry);
        out << YAML::EndMap;
    }
    out << YAML::EndMap << YAML::EndMap << YAML::EndMap;
    return head + out.c_str() + "\n";
}

}  // namespace nodebridge
