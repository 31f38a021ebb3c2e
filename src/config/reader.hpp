#pragma once
// The YAML reading layer of the config loader (internal to nb_config).
//
// Turns yaml-cpp nodes into typed values while collecting every error with its position:
// wrong types, values out of range, missing required keys, duplicate keys, and keys nobody
// asked for ("did you mean ...?"). Nothing here throws; every failure becomes a ConfigError.

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nodebridge/config.hpp"

namespace nodebridge::config_detail {

// Every error found while loading, in the order found; sorted into file order at the end.
// Bounded: after kMaxErrors errors, or once the work budget is spent, further errors are
// only counted, and sorted() ends with one line saying how many were left out.
class Diagnostics {
  public:
    static constexpr std::size_t kMaxErrors = 1000;

    void error(Position where, std::string message);
    // Something accepted but unwise (an inline password); does not make the load fail.
    // Bounded like errors.
    void warning(Position where, std::string message);
    bool empty() const { return errors_.empty(); }
    std::size_t size() const { return errors_.size(); }

    // Returns the errors sorted by (the file's index in `file_order`, line, column); errors of
    // the same place keep the order they were found in.
    std::vector<ConfigError> sorted(const std::vector<std::string>& file_order) const;
    // The warnings, in the same order.
    std::vector<ConfigError> sorted_warnings(const std::vector<std::string>& file_order) const;

    // Bounds the work a hostile file (aliases repeated many times) can cause: charges `items`
    // against a fixed budget. Returns false, and reports once at `where`, when it runs out.
    bool spend(std::size_t items, const Position& where);

  private:
    std::vector<ConfigError> errors_;
    std::vector<ConfigError> warnings_;
    std::size_t left_out_ = 0;
    std::size_t budget_left_ = 1'000'000;
    bool budget_reported_ = false;
};

class ModelRegistry;

// The file being read and where its errors go.
struct Context {
    std::string file;
    Diagnostics* diag;
    // The models known once every file is read (model_reader.cpp); null while reading the
    // files themselves, set when the sources (which name models) are read afterwards.
    const ModelRegistry* models = nullptr;
    // Where MapReader records every key it looks up (LoadOptions::known_keys); null: nowhere.
    std::vector<ConfigKey>* known_keys = nullptr;

    void error(const Position& where, std::string message) const {
        diag->error(where, std::move(message));
    }
    void warning(const Position& where, std::string message) const {
        diag->warning(where, std::move(message));
    }
};

// 1-based position of `node` in `ctx.file`; line 1, column 1 when yaml-cpp has no mark.
Position position_of(const YAML::Node& node, const Context& ctx);

// "1:5" style position text for messages that point at another place in the same file, or
// "file:1:5" when `where` is in a different file than `ctx`.
std::string place_text(const Position& where, const Context& ctx);

// What a node is, for "expected ..., got WHAT" messages: "nothing", "a list", "a map",
// or the scalar quoted and shortened.
std::string describe_value(const YAML::Node& node);

// Optimal string alignment distance (Levenshtein with adjacent transpositions).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is close enough to be a likely typo, else nullopt.
// Case-insensitive equality counts as closest.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" when nothing is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// The text under `key` when `node` is a map holding a scalar there; never throws.
std::optional<std::string> peek_text(const YAML::Node& node, std::string_view key);

// ---- scalar conversions; each reports at the node and returns nullopt on failure ----------

std::optional<std::string> read_text(const YAML::Node& node, const Context& ctx,
                                     std::string_view what);
std::optional<long long> read_integer(const YAML::Node& node, const Context& ctx,
                                      std::string_view what, long long min, long long max);
std::optional<double> read_number(const YAML::Node& node, const Context& ctx,
                                  std::string_view what);
std::optional<bool> read_bool(const YAML::Node& node, const Context& ctx, std::string_view what);
std::optional<Millis> read_duration(const YAML::Node& node, const Context& ctx,
                                    std::string_view what);
// A list of text values (a single scalar is not accepted).
std::optional<std::vector<std::string>> read_text_list(const YAML::Node& node, const Context& ctx,
                                                       std::string_view what);

// Formats a duration in the largest unit that divides it: "250ms", "1s", "5m", "1h".
std::string format_duration(Millis duration);

// Reads one YAML map. Every key looked up is remembered; finish() reports the keys that were
// never looked up as unknown, suggesting the closest known key.
class MapReader {
  public:
    // `what` names the map in messages, e.g. "modbus-tcp source 'pdu-bus'". When `node` is
    // not a map the error is reported and every lookup finds nothing.
    MapReader(const YAML::Node& node, const Context& ctx, std::string what);

    bool is_map() const { return is_map_; }
    const Position& where() const { return where_; }
    const Context& context() const { return ctx_; }
    const std::string& what() const { return what_; }

    // The value of `key`, or nullopt when absent. Marks `key` as known.
    std::optional<YAML::Node> find(std::string_view key);
    // Like find(), but reports "missing required key" at the map when absent.
    std::optional<YAML::Node> require(std::string_view key);
    // Position of `key` itself (not its value); the map's position when absent.
    Position key_position(std::string_view key) const;
    // Position of the value of `key`; for an empty (null) value, the key's position.
    Position value_position(std::string_view key) const;

    // Typed lookups: absent keys leave `out` untouched and return false; present but
    // invalid values are reported and also return false. `required` reports absence.
    bool text(std::string_view key, std::string& out, bool required = false);
    bool integer(std::string_view key, long long min, long long max, long long& out,
                 bool required = false);
    template <typename T>
    bool integer(std::string_view key, long long min, long long max, T& out,
                 bool required = false) {
        long long value = 0;
        if (!integer(key, min, max, value, required)) return false;
        out = static_cast<T>(value);
        return true;
    }
    bool number(std::string_view key, double& out);
    bool boolean(std::string_view key, bool& out);
    bool duration(std::string_view key, Millis& out, bool required = false);
    bool text_list(std::string_view key, std::vector<std::string>& out);

    // One of a fixed set of words, e.g. parity none|even|odd.
    template <typename E>
    bool choice(std::string_view key, std::initializer_list<std::pair<std::string_view, E>> options,
                E& out) {
        auto value_node = find(key);
        if (!value_node) return false;
        auto value = read_text(*value_node, ctx_, key);
        if (!value) return false;
        std::vector<std::string> names;
        for (const auto& [name, option] : options) {
            if (*value == name) {
                out = option;
                return true;
            }
            names.emplace_back(name);
        }
        report_bad_choice(key, *value, names);
        return false;
    }

    // Every key of the map in file order, with its position and value; marks them all known.
    // For maps whose keys are names chosen by the user (attributes).
    struct Item {
        std::string key;
        Position key_where;
        YAML::Node value;
    };
    std::vector<Item> items();

    // Marks every key as known (used when the map's kind is unknown and its keys mean nothing).
    void accept_all();
    // Reports every key that was never looked up. Call once, after all lookups.
    void finish();

  private:
    struct Entry {
        std::string key;
        YAML::Node key_node;
        YAML::Node value;
        bool used = false;
    };
    const Entry* entry(std::string_view key) const;
    void report_bad_choice(std::string_view key, const std::string& value,
                           const std::vector<std::string>& names);

    Context ctx_;
    std::string what_;
    Position where_;
    bool is_map_ = false;
    std::vector<Entry> entries_;
    std::vector<std::string> known_;
};

// Text the user wrote, made safe to print: control characters become '?', long text is cut.
std::string shown(std::string_view text, std::size_t max_chars = 40);

// "a, b or c"
std::string join_choices(const std::vector<std::string>& names);

}  // namespace nodebridge::config_detail
