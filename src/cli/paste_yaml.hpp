#pragma once
// The YAML block `nodebridge scan` ends with: one source with a node entry per model found
// (a unit range each) and a mapping that publishes them, for a file under
// /etc/nodebridge/conf.d/ as it is (nodebridged --check-config accepts it; the test proves it).

#include <string>
#include <vector>

namespace nodebridge::cli {

struct FoundUnit {
    int unit = 0;
    std::string model;  // the best fitting library model; empty: unknown
};

// A source name from `host`: "modbus-" and the host with every character other than a
// letter, digit or '-' made '-' ("modbus-192-168-1-20").
std::string source_name_for(const std::string& host);

// `source_lines` are the source's keys after name (type, host, port, line settings), each
// "key: value" without indentation. Units without a model become a comment naming them; with
// no unit recognised at all the block is only that comment (a source needs a node).
std::string paste_yaml(const std::string& name, const std::vector<std::string>& source_lines,
                       const std::vector<FoundUnit>& units);

}  // namespace nodebridge::cli
