// serial-nodes sources: a receiver on a serial line printing one report per line.
// What can be checked without the line parsers (and PCRE2) is checked here.

#include <map>

#include "sections.hpp"

namespace nodebridge::config_detail {
namespace {

constexpr long long kMinLine = 16;
constexpr long long kMaxLine = 65536;
constexpr std::size_t kMaxPattern = 4096;
constexpr std::size_t kMaxSend = 1024;
constexpr int kMaxRound = 15;

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<ReceivedAttribute> read_received(const MapReader::Item& item, const Context& ctx) {
    ReceivedAttribute attribute;
    attribute.key = item.key;
    attribute.name = item.key;
    attribute.where = item.key_where;
    if (!check_name(item.key, "attribute key", item.key_where, ctx)) return std::nullopt;
    MapReader map(item.value, ctx, "attribute '" + shown(item.key) + "'");
    if (!map.is_map()) return std::nullopt;
    bool ok = true;
    if (map.text("name", attribute.name)) {
        ok &= check_name(attribute.name, "name", map.value_position("name"), ctx);
    }
    if (map.number("scale", attribute.scale) && attribute.scale == 0.0) {
        ctx.error(map.value_position("scale"), "scale: must not be 0");
    }
    map.number("offset", attribute.offset);
    long long round = 0;
    if (map.integer("round", 0, kMaxRound, round)) attribute.round = static_cast<int>(round);
    map.text("unit", attribute.unit);
    map.boolean("ignore", attribute.ignore);
    read_meaning(map, attribute.meaning);
    map.finish();
    if (!attribute.meaning.states.empty()) {
        const Position at = map.key_position("states");
        if (!attribute.unit.empty()) ctx.error(at, "states: a coded reading has no unit");
        if (attribute.scale != 1.0 || attribute.offset != 0.0 || attribute.round) {
            ctx.error(at,
                      "states: codes are the received value itself; leave out scale, "
                      "offset and round");
        }
    }
    if (ok && !attribute.ignore) {
        const bool renamed = map.find("name").has_value();
        ok &= check_attribute_name_free(
            attribute.name, renamed ? "name" : "attribute key",
            renamed ? map.value_position("name") : item.key_where, ctx);
    }
    if (!ok) return std::nullopt;
    return attribute;
}

}  // namespace

void read_received_attributes(const YAML::Node& node, const Context& ctx, const std::string& what,
                              std::vector<ReceivedAttribute>& out) {
    MapReader map(node, ctx, what);
    if (!map.is_map()) return;
    std::map<std::string, const ReceivedAttribute*> by_name;
    for (const auto& item : map.items()) {
        if (auto attribute = read_received(item, ctx)) out.push_back(*attribute);
    }
    for (const auto& attribute : out) {
        if (attribute.ignore) continue;
        auto [it, inserted] = by_name.emplace(attribute.name, &attribute);
        if (!inserted) {
            ctx.error(attribute.where, "attribute '" + shown(attribute.key) + "' publishes as '" +
                                           shown(attribute.name) + "', as does '" +
                                           shown(it->second->key) + "' (at " +
                                           place_from(it->second->where, ctx.file) + ")");
        }
    }
}

namespace {

void read_poll(MapReader& source, SerialNodesSourceConfig& out) {
    const Context& ctx = source.context();
    auto node = source.find("poll");
    if (!node) return;
    MapReader map(*node, ctx, "poll of " + source.what());
    if (!map.is_map()) return;
    LinePoll poll;
    bool ok = true;
    std::string raw;
    if (map.text("send", raw, true)) {
        std::string error;
        auto decoded = decode_escapes(raw, error);
        if (!decoded) {
            ctx.error(map.value_position("send"), "send: " + error);
            ok = false;
        } else if (decoded->empty() || decoded->size() > kMaxSend) {
            ctx.error(map.value_position("send"),
                      "send: must be 1.." + std::to_string(kMaxSend) + " bytes");
            ok = false;
        } else {
            poll.send = std::move(*decoded);
        }
    } else {
        ok = false;
    }
    ok &= map.duration("every", poll.every, true);
    map.finish();
    if (ok) out.poll = std::move(poll);
}

bool contains_group(const std::string& pattern, const std::string& group) {
    for (const std::string& opening :
         {"(?<" + group + ">", "(?P<" + group + ">", "(?'" + group + "'"}) {
        if (pattern.find(opening) != std::string::npos) return true;
    }
    return false;
}

}  // namespace

std::optional<std::string> decode_escapes(std::string_view text, std::string& error) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out += text[i];
            continue;
        }
        if (i + 1 >= text.size()) {
            error = "ends with a lone '\\'";
            return std::nullopt;
        }
        const char c = text[++i];
        switch (c) {
            case 'r':
                out += '\r';
                break;
            case 'n':
                out += '\n';
                break;
            case 't':
                out += '\t';
                break;
            case '0':
                out += '\0';
                break;
            case '\\':
                out += '\\';
                break;
            case '"':
                out += '"';
                break;
            case '\'':
                out += '\'';
                break;
            case 'x': {
                const int high = i + 1 < text.size() ? hex_digit(text[i + 1]) : -1;
                const int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
                if (high < 0 || low < 0) {
                    error = "\\x needs two hex digits";
                    return std::nullopt;
                }
                out += static_cast<char>(high * 16 + low);
                i += 2;
                break;
            }
            default: {
                const auto byte = static_cast<unsigned char>(c);
                error = std::string("unknown escape '\\") +
                        (byte < 0x20 || byte == 0x7f ? '?' : c) +
                        "' (use \\r \\n \\t \\0 \\\\ \\\" \\' or \\xNN)";
                return std::nullopt;
            }
        }
    }
    return out;
}

void read_serial_nodes_source(MapReader& map, SerialNodesSourceConfig& out) {
    const Context& ctx = map.context();
    read_serial_line(map, out.line);
    map.integer("max_line", kMinLine, kMaxLine, out.max_line);
    map.choice<LineFormat>("format",
                           {{"kv", LineFormat::kv},
                            {"json", LineFormat::json},
                            {"csv", LineFormat::csv},
                            {"regex", LineFormat::regex}},
                           out.format);
    const bool columns_given = map.find("columns").has_value();
    const bool columns_ok = map.text_list("columns", out.columns);
    const bool pattern_given = map.find("pattern").has_value();
    const bool pattern_ok = map.text("pattern", out.pattern);
    if (map.text("node_key", out.node_key)) {
        check_name(out.node_key, "node_key", map.value_position("node_key"), ctx);
    }
    if (map.text("time_key", out.time_key)) {
        check_name(out.time_key, "time_key", map.value_position("time_key"), ctx);
    }
    if (auto attributes = map.find("attributes")) {
        read_received_attributes(*attributes, ctx, "attributes of " + map.what(), out.attributes);
    }
    read_serial_models(map, out);
    read_poll(map, out);
    Millis offline_after{0};
    if (map.duration("offline_after", offline_after)) out.offline_after = offline_after;

    if (out.format == LineFormat::csv) {
        if (!columns_given) {
            ctx.error(map.where(),
                      "missing required key 'columns' in " + map.what() + " (format csv)");
        } else if (columns_ok) {
            const Position at = map.value_position("columns");
            std::map<std::string, bool> seen;
            for (const auto& column : out.columns) {
                if (column.empty()) ctx.error(at, "columns: a column name is empty");
                if (!seen.emplace(column, true).second) {
                    ctx.error(at, "columns: '" + shown(column) + "' appears twice");
                }
            }
            const bool has_key = out.node_key.empty()
                                     ? seen.count("node") > 0 || seen.count("id") > 0
                                     : seen.count(out.node_key) > 0;
            if (!has_key) {
                ctx.error(at, "columns: must name the node id column " +
                                  (out.node_key.empty() ? std::string("'node' (or 'id')")
                                                        : "'" + shown(out.node_key) + "'"));
            }
        }
    } else if (columns_given) {
        ctx.error(map.key_position("columns"), "columns: only applies to format csv");
    }

    if (out.format == LineFormat::regex) {
        const std::string group = out.node_key.empty() ? "node" : out.node_key;
        if (!pattern_given) {
            ctx.error(map.where(),
                      "missing required key 'pattern' in " + map.what() + " (format regex)");
        } else if (pattern_ok) {
            const Position at = map.value_position("pattern");
            if (out.pattern.empty()) {
                ctx.error(at, "pattern: must not be empty");
            } else if (out.pattern.size() > kMaxPattern) {
                ctx.error(at, "pattern: longer than " + std::to_string(kMaxPattern) + " bytes");
            } else if (!contains_group(out.pattern, group)) {
                ctx.error(at, "pattern: needs a named group for the node id, (?<" + shown(group) +
                                  ">...)");
            }
        }
    } else if (pattern_given) {
        ctx.error(map.key_position("pattern"), "pattern: only applies to format regex");
    }
}

}  // namespace nodebridge::config_detail
