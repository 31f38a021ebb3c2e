#include "node_table.hpp"

#include <algorithm>
#include <variant>

namespace nodebridge::http {
namespace {

// Readings waiting for the history mutex; past this new ones are left out of the history.
// Reached only if HTTP threads held the mutex for many batches in a row.
constexpr std::size_t kMaxPending = 100'000;

std::string key_of(const std::string& source, const std::string& node) {
    std::string key;
    key.reserve(source.size() + node.size() + 1);
    key += source;
    key += '\0';
    key += node;
    return key;
}

std::optional<double> numeric(const Value& value) {
    if (const auto* number = std::get_if<double>(&value)) return *number;
    if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        return static_cast<double>(*integer);
    }
    if (const auto* flag = std::get_if<bool>(&value)) return *flag ? 1.0 : 0.0;
    return std::nullopt;
}

}  // namespace

NodeTable::NodeTable(std::size_t history, std::size_t max_nodes, Millis interval)
    : history_(std::max<std::size_t>(history, 2)),
      max_nodes_(max_nodes),
      interval_(interval),
      snapshot_(std::make_shared<const NodesSnapshot>()) {}

void NodeTable::observe(const Sample& sample, SteadyClock::time_point now) {
    std::string key = key_of(sample.source, sample.node);
    auto found = entries_.find(key);
    if (found == entries_.end()) {
        if (entries_.size() >= max_nodes_) {
            ++ignored_;
            return;
        }
        found = entries_.emplace(key, Entry{}).first;
        found->second.summary.source = sample.source;
        found->second.summary.node = sample.node;
    }
    NodeSummary& node = found->second.summary;
    if (sample.online) {
        node.online = *sample.online;
        return;
    }
    node.online = true;
    if (node.has_reading) {
        node.interval_s = std::chrono::duration<double>(now - node.last_reading).count();
    }
    node.has_reading = true;
    node.last_reading = now;
    node.last_reading_wall = sample.time;
    ++node.readings;
    const std::int64_t time_ms =
        std::chrono::duration_cast<Millis>(sample.time.time_since_epoch()).count();
    for (const Attribute& attribute : sample.attributes) {
        auto same = std::find_if(node.attributes.begin(), node.attributes.end(),
                                 [&](const Attribute& a) { return a.name == attribute.name; });
        if (same == node.attributes.end()) {
            node.attributes.push_back(attribute);
        } else {
            same->value = attribute.value;
            same->unit = attribute.unit;
        }
        if (auto value = numeric(attribute.value)) {
            if (pending_.size() < kMaxPending) {
                pending_.push_back(Point{key, attribute.name, attribute.unit, time_ms, *value});
            }
        }
    }
}

void NodeTable::flush_pending() {
    if (pending_.empty()) return;
    std::unique_lock lock(history_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;  // an HTTP thread is copying a history: next time
    for (Point& point : pending_) {
        std::vector<Ring>& rings = histories_[point.key];
        auto same = std::find_if(rings.begin(), rings.end(),
                                 [&](const Ring& r) { return r.attribute == point.attribute; });
        if (same == rings.end()) {
            rings.push_back(Ring{std::move(point.attribute), std::move(point.unit), {}, 0});
            same = rings.end() - 1;
            same->points.reserve(history_);
        } else if (same->unit != point.unit) {
            same->unit = std::move(point.unit);
        }
        if (same->points.size() < history_) {
            same->points.emplace_back(point.time_ms, point.value);
        } else {
            same->points[same->next] = {point.time_ms, point.value};
            same->next = (same->next + 1) % history_;
        }
    }
    pending_.clear();
}

void NodeTable::tick(SteadyClock::time_point now) {
    flush_pending();
    if (now < next_publish_) return;
    next_publish_ = now + interval_;
    auto fresh = std::make_shared<NodesSnapshot>();
    fresh->taken = now;
    fresh->nodes_ignored = ignored_;
    fresh->nodes.reserve(entries_.size());
    for (const auto& [key, entry] : entries_) fresh->nodes.push_back(entry.summary);
    std::sort(fresh->nodes.begin(), fresh->nodes.end(),
              [](const NodeSummary& a, const NodeSummary& b) {
                  return a.source != b.source ? a.source < b.source : a.node < b.node;
              });
    std::shared_ptr<const NodesSnapshot> published = std::move(fresh);
    std::lock_guard lock(snapshot_mutex_);
    snapshot_.swap(published);
    // The previous snapshot is freed here or by the last request still reading it.
}

std::shared_ptr<const NodesSnapshot> NodeTable::snapshot() const {
    std::lock_guard lock(snapshot_mutex_);
    return snapshot_;
}

std::optional<std::vector<Series>> NodeTable::history(const std::string& source,
                                                      const std::string& node) const {
    std::lock_guard lock(history_mutex_);
    auto found = histories_.find(key_of(source, node));
    if (found == histories_.end()) return std::nullopt;
    std::vector<Series> out;
    out.reserve(found->second.size());
    for (const Ring& ring : found->second) {
        Series series{ring.attribute, ring.unit, {}};
        series.points.reserve(ring.points.size());
        // Oldest first: from `next` to the end, then from the start (a full ring only).
        const std::size_t start = ring.points.size() < history_ ? 0 : ring.next;
        for (std::size_t i = 0; i < ring.points.size(); ++i) {
            series.points.push_back(ring.points[(start + i) % ring.points.size()]);
        }
        out.push_back(std::move(series));
    }
    return out;
}

}  // namespace nodebridge::http
