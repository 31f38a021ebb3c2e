#pragma once
// A strict JSON reader for tests (RFC 8259): checks that a payload is valid JSON and gives
// its values. Not for the daemon: it trusts its input's size.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nodebridge::test {

struct Json {
    using Object = std::vector<std::pair<std::string, Json>>;  // in document order
    using Array = std::vector<Json>;
    std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<Array>,
                 std::shared_ptr<Object>>
        value;

    bool is_object() const { return std::holds_alternative<std::shared_ptr<Object>>(value); }
    bool is_array() const { return std::holds_alternative<std::shared_ptr<Array>>(value); }
    bool is_string() const { return std::holds_alternative<std::string>(value); }
    bool is_number() const { return std::holds_alternative<double>(value); }
    bool is_bool() const { return std::holds_alternative<bool>(value); }

    // The member `key` of an object; nullptr when absent or not an object.
    const Json* find(std::string_view key) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }
    // The string at `key`, or "" when absent or not a string.
    std::string text(std::string_view key) const;
    const Object& object() const { return *std::get<std::shared_ptr<Object>>(value); }
    const Array& array() const { return *std::get<std::shared_ptr<Array>>(value); }
    const std::string& string() const { return std::get<std::string>(value); }
    double number() const { return std::get<double>(value); }
};

// Parses `text` as one JSON value (surrounding whitespace allowed). nullopt and `error` set
// when it is not valid JSON.
std::optional<Json> parse_json(std::string_view text, std::string* error = nullptr);

}  // namespace nodebridge::test
