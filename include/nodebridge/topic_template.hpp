#pragma once
// MQTT topic templates: "dc1/{gateway}/{node}/{attribute}".
//
// Fields: {gateway} {source} {node} {attribute} {unit}. A template is parsed once at load
// time; expand() is the per-message hot path and only appends strings.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nodebridge {

enum class TopicField { gateway, source, node, attribute, unit };

struct TopicValues {
    std::string_view gateway;
    std::string_view source;
    std::string_view node;
    std::string_view attribute;
    std::string_view unit;
};

class TopicTemplate {
public:
    // Parses `text`. Returns nullopt and sets `error` (one sentence, no position) when the
    // template is empty, has an unknown or unclosed {field}, a stray brace, the MQTT
    // wildcards '+' or '#', a NUL byte, or is longer than 65535 bytes.
    static std::optional<TopicTemplate> parse(std::string_view text, std::string& error);

    bool uses(TopicField field) const;
    const std::string& text() const { return text_; }

    // Appends the topic for `values` to `out`. Characters in substituted values that MQTT
    // gives a meaning in a topic name ('+', '#', '/', NUL) are replaced by '_', so a node id
    // can never add a level or a wildcard.
    void expand(const TopicValues& values, std::string& out) const;
    std::string expand(const TopicValues& values) const;

private:
    struct Part {
        bool is_field;
        TopicField field;
        std::string literal;
    };
    std::string text_;
    std::vector<Part> parts_;
};

}  // namespace nodebridge
