#pragma once
// The optional per-source schema (`attributes:` of a serial-nodes source): renames received
// keys, scales numbers, adds units and drops ignored keys. Keys without an entry pass
// through unchanged.

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/sample.hpp"

namespace nodebridge::serial {

class AttributeSchema {
  public:
    // Later entries for the same key replace earlier ones (the loader rejects duplicates).
    explicit AttributeSchema(const std::vector<ReceivedAttribute>& entries);

    // Rewrites `attributes` in place, keeping their order: ignored keys are removed; a
    // configured key gets its name and unit; numbers become raw * scale + offset, rounded to
    // `round` decimals when set. An integer stays an integer when scale is 1, offset 0 and
    // no rounding is asked; otherwise it becomes a number. Bools and text are not scaled.
    void apply(std::vector<Attribute>& attributes) const;

    bool empty() const { return entries_.empty(); }

  private:
    std::unordered_map<std::string, ReceivedAttribute> entries_;
};

// The schema of each node of a source: the first `models:` entry (NodeSchema) whose glob
// matches the node's id, else the source's own `attributes` (docs/models.md).
class NodeSchemas {
  public:
    explicit NodeSchemas(const SerialNodesSourceConfig& settings);

    const AttributeSchema& for_node(std::string_view node) const;

  private:
    std::vector<std::pair<std::string, AttributeSchema>> entries_;  // node glob, its schema
    AttributeSchema source_;
};

}  // namespace nodebridge::serial
