// Which library models a unit is (identify.hpp).

#include "identify.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>

namespace nodebridge::cli {
namespace {

using Key = std::tuple<ModbusTable, std::uint16_t, std::uint16_t>;  // table, address, width

Key key_of(const IdentifyRegister& reg) { return {reg.table, reg.address, register_width(reg)}; }

std::string hex4(unsigned value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%04X", value);
    return text;
}

std::string fits_text(const IdentifyRegister& reg) {
    std::string out;
    for (const auto& [low, high] : reg.ranges) {
        if (!out.empty()) out += ", ";
        out += std::to_string(low);
        if (high != low) out += ".." + std::to_string(high);
    }
    return out;
}

std::string place(const IdentifyRegister& reg) {
    return to_string(reg.table) + " " + hex4(reg.address);
}

}  // namespace

std::uint16_t register_width(const IdentifyRegister& reg) {
    switch (reg.type) {
        case ModbusType::int32:
        case ModbusType::uint32:
            return 2;
        case ModbusType::int64:
        case ModbusType::uint64:
            return 4;
        default:
            return 1;
    }
}

std::optional<std::int64_t> register_value(const IdentifyRegister& reg,
                                           const std::vector<std::uint16_t>& words) {
    const std::size_t width = register_width(reg);
    if (words.size() != width) return std::nullopt;
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < width; ++i) {
        const std::size_t index = reg.word_order == WordOrder::little ? width - 1 - i : i;
        bits = (bits << 16) | words[index];
    }
    switch (reg.type) {
        case ModbusType::int16:
            return static_cast<std::int16_t>(bits);
        case ModbusType::int32:
            return static_cast<std::int32_t>(bits);
        case ModbusType::int64:
            return static_cast<std::int64_t>(bits);
        case ModbusType::uint64:
            if (bits > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
            return static_cast<std::int64_t>(bits);
        default:
            return static_cast<std::int64_t>(bits);
    }
}

std::vector<Candidate> match_models(const std::vector<ModelRef>& models,
                                    const std::optional<modbus::device_id::Reply>& id,
                                    const ReadRegister& read) {
    std::map<Key, RegisterAnswer> answers;
    auto answer_for = [&](const IdentifyRegister& reg) -> const RegisterAnswer& {
        const Key key = key_of(reg);
        auto it = answers.find(key);
        if (it == answers.end()) it = answers.emplace(key, read(reg)).first;
        return it->second;
    };
    std::vector<Candidate> out;
    for (const ModelRef& model : models) {
        const ModelIdentity& identity = model->identify;
        if (identity.empty()) continue;
        Candidate candidate;
        candidate.model = model;
        bool fits = true;
        auto check_text = [&](const std::string& wanted, std::uint8_t object, const char* what,
                              bool prefix) {
            if (wanted.empty() || !fits) return;
            if (!id) {
                fits = false;
                return;
            }
            const std::string_view got = modbus::device_id::find(*id, object);
            const bool same = prefix ? got.starts_with(wanted) : got == wanted;
            if (!same) {
                fits = false;
                return;
            }
            ++candidate.checks;
            candidate.evidence.push_back(std::string(what) + " '" + std::string(got) + "'");
        };
        check_text(identity.vendor, modbus::device_id::kVendorName, "vendor", false);
        check_text(identity.product_code, modbus::device_id::kProductCode, "product code", false);
        check_text(identity.revision, modbus::device_id::kRevision, "revision", true);
        for (const IdentifyRegister& reg : identity.registers) {
            if (!fits) break;
            const RegisterAnswer& answer = answer_for(reg);
            const auto value = answer.words ? register_value(reg, *answer.words) : std::nullopt;
            if (!value || !reg.accepts(*value)) {
                fits = false;
                break;
            }
            ++candidate.checks;
            candidate.evidence.push_back(place(reg) + " = " + std::to_string(*value) + " (fits " +
                                         fits_text(reg) + ")");
        }
        if (fits) out.push_back(std::move(candidate));
    }
    std::stable_sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
        if (a.checks != b.checks) return a.checks > b.checks;
        return a.model->name < b.model->name;
    });
    return out;
}

std::size_t identification_reads(const std::vector<ModelRef>& models) {
    std::map<Key, bool> seen;
    for (const ModelRef& model : models) {
        for (const IdentifyRegister& reg : model->identify.registers) seen[key_of(reg)] = true;
    }
    return seen.size();
}

}  // namespace nodebridge::cli
