// HeardNodes: the serial-nodes nodes heard so far, for discovery.

#include <algorithm>

#include "nodebridge/homeassistant.hpp"

namespace nodebridge::homeassistant {
namespace {

HeardKind kind_of(const Value& value) {
    if (std::holds_alternative<bool>(value)) return HeardKind::boolean;
    if (std::holds_alternative<std::string>(value)) return HeardKind::text;
    return HeardKind::number;
}

}  // namespace

void HeardNodes::set_sources(const std::vector<std::string>& sources) {
    std::lock_guard lock(mutex_);
    sources_ = sources;
    const auto gone = [&](const std::pair<std::string, std::string>& key) {
        return std::find(sources_.begin(), sources_.end(), key.first) == sources_.end();
    };
    const std::size_t before = order_.size();
    for (const auto& key : order_) {
        if (gone(key)) nodes_.erase(key);
    }
    std::erase_if(order_, gone);
    if (order_.size() != before) ++generation_;
}

void HeardNodes::observe(const Sample& sample) {
    if (sample.online || sample.attributes.empty()) return;
    std::lock_guard lock(mutex_);
    if (std::find(sources_.begin(), sources_.end(), sample.source) == sources_.end()) return;
    auto key = std::make_pair(sample.source, sample.node);
    auto found = nodes_.find(key);
    if (found == nodes_.end()) {
        if (nodes_.size() >= kMaxNodes) return;
        found = nodes_.emplace(key, HeardNode{sample.source, sample.node, {}}).first;
        order_.push_back(std::move(key));
        ++generation_;
    }
    std::vector<HeardAttribute>& known = found->second.attributes;
    for (std::size_t i = 0; i < sample.attributes.size(); ++i) {
        const Attribute& attribute = sample.attributes[i];
        const HeardKind kind = kind_of(attribute.value);
        // Sources send attributes in a stable order: look where it was last time first.
        HeardAttribute* entry = nullptr;
        if (i < known.size() && known[i].name == attribute.name) {
            entry = &known[i];
        } else {
            for (HeardAttribute& candidate : known) {
                if (candidate.name == attribute.name) entry = &candidate;
            }
        }
        if (entry == nullptr) {
            if (known.size() >= kMaxAttributes) continue;
            known.push_back({attribute.name, kind, attribute.unit});
            ++generation_;
            continue;
        }
        // A number that reads as an integer one time and a fraction the next is one kind.
        if (entry->kind != kind || entry->unit != attribute.unit) {
            entry->kind = kind;
            entry->unit = attribute.unit;
            ++generation_;
        }
    }
}

std::uint64_t HeardNodes::generation() const {
    std::lock_guard lock(mutex_);
    return generation_;
}

std::vector<HeardNode> HeardNodes::snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<HeardNode> out;
    out.reserve(order_.size());
    for (const auto& key : order_) out.push_back(nodes_.at(key));
    return out;
}

}  // namespace nodebridge::homeassistant
