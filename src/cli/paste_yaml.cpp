// The YAML block scan prints (paste_yaml.hpp).

#include "paste_yaml.hpp"

#include <cctype>
#include <map>

#include "cli.hpp"

namespace nodebridge::cli {

std::string source_name_for(const std::string& host) {
    std::string out = "modbus-";
    for (char c : host) {
        out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '-';
    }
    return out.substr(0, 100);
}

std::string paste_yaml(const std::string& name, const std::vector<std::string>& source_lines,
                       const std::vector<FoundUnit>& units) {
    std::map<std::string, std::vector<int>> by_model;
    std::vector<int> unknown;
    for (const FoundUnit& found : units) {
        if (found.model.empty()) {
            unknown.push_back(found.unit);
        } else {
            by_model[found.model].push_back(found.unit);
        }
    }
    const std::string unknown_note =
        unknown.empty()
            ? std::string()
            : "# unit" + std::string(unknown.size() > 1 ? "s " : " ") + unit_ranges(unknown) +
                  ": no library model fits; add a node with its own attributes "
                  "(docs/configuration.md)\n";
    if (by_model.empty()) {
        // A source needs a node: with none recognised there is nothing to paste but the note.
        return unknown_note + "# (no source: no unit was recognised)\n";
    }
    std::string out = "sources:\n  - name: " + name + "\n";
    for (const std::string& line : source_lines) out += "    " + line + "\n";
    out += "    nodes:\n";
    for (const auto& [model, list] : by_model) {
        out += "      - id: \"" + name + "-{unit}\"\n";
        out += "        units: [" + unit_ranges(list) + "]\n";
        out += "        model: " + model + "\n";
    }
    if (!unknown_note.empty()) out += "    " + unknown_note;
    out += "mappings:\n  - name: " + name + "-readings\n";
    out += "    match: { source: " + name + " }\n";
    out += "    topic: site/{gateway}/{node}\n";
    out += "    payload: json\n";
    return out;
}

}  // namespace nodebridge::cli
