#pragma once
// The JSON API under /api/ (docs/http.md): pure functions from a View to a body.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "view.hpp"

namespace nodebridge::http {

// GET /api/status: the gateway (version, uptime, broker, spool, health) and every source
// with its counters.
std::string status_json(const View& view, SteadyClock::time_point now);

// GET /api/nodes: one page of the nodes that match. `text` matches the source or node id
// (case-insensitive substring), `source` an exact source name, `state` "online" or
// "offline". `limit` is clamped to 1..kMaxPage.
struct NodeQuery {
    std::string text;
    std::string source;
    std::string state;
    std::size_t offset = 0;
    std::size_t limit = 100;
};
constexpr std::size_t kMaxPage = 500;
std::string nodes_json(const View& view, const NodeQuery& query, SteadyClock::time_point now);

// GET /api/node?source=S&node=N: one node with its recent readings; nullopt if unknown.
std::optional<std::string> node_json(const View& view, const std::string& source,
                                     const std::string& node,
                                     const std::optional<std::vector<Series>>& history,
                                     SteadyClock::time_point now);

}  // namespace nodebridge::http
