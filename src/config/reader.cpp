#include "reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>

namespace nodebridge {

std::string ConfigError::to_string() const {
    if (where.line <= 0) return where.file + ": " + message;
    return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
           ": " + message;
}

namespace config_detail {
namespace {

constexpr std::size_t kShownValueChars = 40;
constexpr std::size_t kMaxComparedKey = 64;

// A scalar written in quotes is text, never a number or a boolean.
bool is_quoted(const YAML::Node& node) { return node.Tag() == "!"; }

std::string got(const YAML::Node& node) {
    std::string text = describe_value(node);
    if (node.IsScalar() && is_quoted(node)) text += " in quotes (write it without them)";
    return text;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

void Diagnostics::error(Position where, std::string message) {
    if (errors_.size() >= kMaxErrors || budget_reported_) {
        ++left_out_;
        return;
    }
    errors_.push_back({std::move(where), std::move(message)});
}

void Diagnostics::warning(Position where, std::string message) {
    if (warnings_.size() >= kMaxErrors) return;
    warnings_.push_back({std::move(where), std::move(message)});
}

namespace {

void sort_in_file_order(std::vector<ConfigError>& out, const std::vector<std::string>& file_order) {
    auto rank = [&](const std::string& file) {
        auto it = std::find(file_order.begin(), file_order.end(), file);
        return static_cast<std::size_t>(it - file_order.begin());
    };
    std::stable_sort(out.begin(), out.end(), [&](const ConfigError& a, const ConfigError& b) {
        const auto ra = rank(a.where.file);
        const auto rb = rank(b.where.file);
        if (ra != rb) return ra < rb;
        if (a.where.file != b.where.file) return a.where.file < b.where.file;
        if (a.where.line != b.where.line) return a.where.line < b.where.line;
        return a.where.column < b.where.column;
    });
}

}  // namespace

std::vector<ConfigError> Diagnostics::sorted_warnings(
    const std::vector<std::string>& file_order) const {
    std::vector<ConfigError> out = warnings_;
    sort_in_file_order(out, file_order);
    return out;
}

std::vector<ConfigError> Diagnostics::sorted(const std::vector<std::string>& file_order) const {
    std::vector<ConfigError> out = errors_;
    sort_in_file_order(out, file_order);
    if (left_out_ > 0 && !file_order.empty()) {
        out.push_back(
            {{file_order.front(), 0, 0}, std::to_string(left_out_) + " more errors not shown"});
    }
    return out;
}

bool Diagnostics::spend(std::size_t items, const Position& where) {
    if (items <= budget_left_) {
        budget_left_ -= items;
        return true;
    }
    budget_left_ = 0;
    if (!budget_reported_) {
        error(where,
              "the configuration is too large (more than 1000000 entries, counting "
              "repeated aliases); the rest is not checked");
        budget_reported_ = true;
    }
    return false;
}

Position position_of(const YAML::Node& node, const Context& ctx) {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null() || mark.line < 0 || mark.column < 0) return {ctx.file, 1, 1};
    return {ctx.file, mark.line + 1, mark.column + 1};
}

std::string place_text(const Position& where, const Context& ctx) {
    std::string at = std::to_string(where.line) + ":" + std::to_string(where.column);
    if (where.file != ctx.file) at = where.file + ":" + at;
    return at;
}

std::string describe_value(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null:
            return "nothing";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Map:
            return "a map";
        case YAML::NodeType::Scalar:
            break;
    }
    return "\"" + shown(node.Scalar(), kShownValueChars) + "\"";
}

std::string shown(std::string_view text, std::size_t max_chars) {
    std::string out;
    for (std::size_t i = 0; i < text.size() && i < max_chars; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
    }
    if (text.size() > max_chars) out += "...";
    return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    if (a.size() > kMaxComparedKey || b.size() > kMaxComparedKey) {
        return std::max(a.size(), b.size());
    }
    const std::size_t rows = a.size() + 1;
    const std::size_t cols = b.size() + 1;
    std::vector<std::size_t> d(rows * cols);
    auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * cols + j]; };
    for (std::size_t i = 0; i < rows; ++i) at(i, 0) = i;
    for (std::size_t j = 0; j < cols; ++j) at(0, j) = j;
    for (std::size_t i = 1; i < rows; ++i) {
        for (std::size_t j = 1; j < cols; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            std::size_t best =
                std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                best = std::min(best, at(i - 2, j - 2) + 1);
            }
            at(i, j) = best;
        }
    }
    return at(rows - 1, cols - 1);
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
    const std::size_t limit = word.size() <= 3 ? 1 : word.size() <= 6 ? 2 : 3;
    const std::string lower = lowercase(word);
    std::optional<std::string> best;
    std::size_t best_distance = limit + 1;
    for (const auto& candidate : candidates) {
        const std::size_t distance =
            lowercase(candidate) == lower ? 0 : edit_distance(word, candidate);
        if (distance < best_distance && distance < word.size()) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
    auto match = closest_match(word, candidates);
    return match ? " (did you mean '" + *match + "'?)" : std::string();
}

std::string join_choices(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
        out += names[i];
    }
    return out;
}

std::optional<std::string> peek_text(const YAML::Node& node, std::string_view key) {
    if (!node.IsMap()) return std::nullopt;
    for (auto it = node.begin(); it != node.end(); ++it) {
        if (it->first.IsScalar() && it->first.Scalar() == key) {
            if (it->second.IsScalar()) return it->second.Scalar();
            return std::nullopt;
        }
    }
    return std::nullopt;
}

std::optional<std::string> read_text(const YAML::Node& node, const Context& ctx,
                                     std::string_view what) {
    if (node.IsScalar()) return node.Scalar();
    ctx.error(position_of(node, ctx),
              std::string(what) + ": expected text, got " + describe_value(node));
    return std::nullopt;
}

std::optional<long long> read_integer(const YAML::Node& node, const Context& ctx,
                                      std::string_view what, long long min, long long max) {
    const std::string range = "(" + std::to_string(min) + ".." + std::to_string(max) + ")";
    auto fail = [&] {
        ctx.error(position_of(node, ctx),
                  std::string(what) + ": expected a whole number " + range + ", got " + got(node));
        return std::nullopt;
    };
    if (!node.IsScalar() || is_quoted(node)) return fail();
    std::string_view text = node.Scalar();
    bool negative = false;
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text.remove_prefix(2);
    }
    if (text.empty()) return fail();
    unsigned long long magnitude = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
    const bool too_big = ec == std::errc::result_out_of_range ||
                         (ec == std::errc() && magnitude > 1'000'000'000'000ULL);
    if (!too_big && (ec != std::errc() || end != text.data() + text.size())) return fail();
    const long long value = too_big ? (negative ? min - 1 : max + 1)
                                    : (negative ? -static_cast<long long>(magnitude)
                                                : static_cast<long long>(magnitude));
    if (too_big || value < min || value > max) {
        ctx.error(position_of(node, ctx),
                  std::string(what) + ": " + shown(node.Scalar()) + " is out of range " + range);
        return std::nullopt;
    }
    return value;
}

std::optional<double> read_number(const YAML::Node& node, const Context& ctx,
                                  std::string_view what) {
    auto fail = [&] {
        ctx.error(position_of(node, ctx),
                  std::string(what) + ": expected a number, got " + got(node));
        return std::nullopt;
    };
    if (!node.IsScalar() || is_quoted(node)) return fail();
    std::string_view text = node.Scalar();
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    if (text.empty()) return fail();
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
        return fail();
    }
    return value;
}

std::optional<bool> read_bool(const YAML::Node& node, const Context& ctx, std::string_view what) {
    if (node.IsScalar() && !is_quoted(node)) {
        const std::string& text = node.Scalar();
        if (text == "true" || text == "True" || text == "TRUE") return true;
        if (text == "false" || text == "False" || text == "FALSE") return false;
    }
    ctx.error(position_of(node, ctx),
              std::string(what) + ": expected true or false, got " + got(node));
    return std::nullopt;
}

std::optional<Millis> read_duration(const YAML::Node& node, const Context& ctx,
                                    std::string_view what) {
    if (node.IsScalar()) {
        if (auto value = parse_duration(node.Scalar())) return value;
    }
    ctx.error(position_of(node, ctx), std::string(what) +
                                          ": expected a duration such as 250ms, 1s, 5m or 1h, "
                                          "got " +
                                          describe_value(node));
    return std::nullopt;
}

std::optional<std::vector<std::string>> read_text_list(const YAML::Node& node, const Context& ctx,
                                                       std::string_view what) {
    if (!node.IsSequence()) {
        ctx.error(position_of(node, ctx),
                  std::string(what) + ": expected a list, got " + describe_value(node));
        return std::nullopt;
    }
    if (!ctx.diag->spend(node.size(), position_of(node, ctx))) return std::nullopt;
    std::vector<std::string> out;
    bool ok = true;
    for (const auto& item : node) {
        if (auto text = read_text(item, ctx, what)) {
            out.push_back(std::move(*text));
        } else {
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return out;
}

// ---- MapReader ---------------------------------------------------------------------------

MapReader::MapReader(const YAML::Node& node, const Context& ctx, std::string what)
    : ctx_(ctx), what_(std::move(what)), where_(position_of(node, ctx)) {
    if (!node.IsMap()) {
        ctx_.error(where_, "expected a map for " + what_ + ", got " + describe_value(node));
        return;
    }
    if (!ctx_.diag->spend(node.size() + 1, where_)) return;
    is_map_ = true;
    std::map<std::string, Position, std::less<>> first_seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node key = it->first;
        const Position key_where = position_of(key, ctx_);
        if (!key.IsScalar()) {
            ctx_.error(key_where, "keys in " + what_ + " must be text, got " + describe_value(key));
            continue;
        }
        auto [seen, inserted] = first_seen.emplace(key.Scalar(), key_where);
        if (!inserted) {
            ctx_.error(key_where, "duplicate key '" + shown(key.Scalar()) + "' in " + what_ +
                                      " (first at " + place_text(seen->second, ctx_) + ")");
            continue;
        }
        entries_.push_back({key.Scalar(), key, it->second, false});
    }
}

const MapReader::Entry* MapReader::entry(std::string_view key) const {
    for (const auto& e : entries_) {
        if (e.key == key) return &e;
    }
    return nullptr;
}

std::optional<YAML::Node> MapReader::find(std::string_view key) {
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
        known_.emplace_back(key);
        if (ctx_.known_keys) ctx_.known_keys->push_back({what_, std::string(key)});
    }
    for (auto& e : entries_) {
        if (e.key == key) {
            e.used = true;
            return e.value;
        }
    }
    return std::nullopt;
}

std::optional<YAML::Node> MapReader::require(std::string_view key) {
    auto value = find(key);
    if (!value && is_map_) {
        ctx_.error(where_, "missing required key '" + std::string(key) + "' in " + what_);
    }
    return value;
}

Position MapReader::key_position(std::string_view key) const {
    const Entry* e = entry(key);
    return e ? position_of(e->key_node, ctx_) : where_;
}

Position MapReader::value_position(std::string_view key) const {
    const Entry* e = entry(key);
    if (!e) return where_;
    return e->value.IsNull() ? position_of(e->key_node, ctx_) : position_of(e->value, ctx_);
}

bool MapReader::text(std::string_view key, std::string& out, bool required) {
    auto node = required ? require(key) : find(key);
    if (!node) return false;
    if (node->IsNull()) {
        ctx_.error(value_position(key), std::string(key) + ": expected text, got nothing");
        return false;
    }
    auto value = read_text(*node, ctx_, key);
    if (!value) return false;
    out = std::move(*value);
    return true;
}

bool MapReader::integer(std::string_view key, long long min, long long max, long long& out,
                        bool required) {
    auto node = required ? require(key) : find(key);
    if (!node) return false;
    if (node->IsNull()) {
        ctx_.error(value_position(key),
                   std::string(key) + ": expected a whole number, got nothing");
        return false;
    }
    auto value = read_integer(*node, ctx_, key, min, max);
    if (!value) return false;
    out = *value;
    return true;
}

bool MapReader::number(std::string_view key, double& out) {
    auto node = find(key);
    if (!node) return false;
    if (node->IsNull()) {
        ctx_.error(value_position(key), std::string(key) + ": expected a number, got nothing");
        return false;
    }
    auto value = read_number(*node, ctx_, key);
    if (!value) return false;
    out = *value;
    return true;
}

bool MapReader::boolean(std::string_view key, bool& out) {
    auto node = find(key);
    if (!node) return false;
    if (node->IsNull()) {
        ctx_.error(value_position(key), std::string(key) + ": expected true or false, got nothing");
        return false;
    }
    auto value = read_bool(*node, ctx_, key);
    if (!value) return false;
    out = *value;
    return true;
}

bool MapReader::duration(std::string_view key, Millis& out, bool required) {
    auto node = required ? require(key) : find(key);
    if (!node) return false;
    if (node->IsNull()) {
        ctx_.error(value_position(key), std::string(key) +
                                            ": expected a duration such as 250ms, 1s, 5m or 1h, "
                                            "got nothing");
        return false;
    }
    auto value = read_duration(*node, ctx_, key);
    if (!value) return false;
    out = *value;
    return true;
}

bool MapReader::text_list(std::string_view key, std::vector<std::string>& out) {
    auto node = find(key);
    if (!node) return false;
    if (node->IsNull()) {
        ctx_.error(value_position(key), std::string(key) + ": expected a list, got nothing");
        return false;
    }
    auto value = read_text_list(*node, ctx_, key);
    if (!value) return false;
    out = std::move(*value);
    return true;
}

void MapReader::report_bad_choice(std::string_view key, const std::string& value,
                                  const std::vector<std::string>& names) {
    std::string hint = did_you_mean(value, names);
    ctx_.error(value_position(key), std::string(key) + ": unknown value '" + shown(value) + "'" +
                                        hint + ", expected " + join_choices(names));
}

std::vector<MapReader::Item> MapReader::items() {
    std::vector<Item> out;
    out.reserve(entries_.size());
    for (auto& e : entries_) {
        e.used = true;
        out.push_back({e.key, position_of(e.key_node, ctx_), e.value});
    }
    return out;
}

void MapReader::accept_all() {
    for (auto& e : entries_) e.used = true;
}

void MapReader::finish() {
    for (auto& e : entries_) {
        if (e.used) continue;
        e.used = true;
        ctx_.error(position_of(e.key_node, ctx_),
                   "unknown key '" + shown(e.key) + "' in " + what_ + did_you_mean(e.key, known_));
    }
}

}  // namespace config_detail
}  // namespace nodebridge
