#pragma once
// MQTT topic templates: "dc1/{gateway}/{node}/{attribute}".
//
// Fields: {gateway} {source} {node} {attribute} {unit}, and in command topics (write-back)
// {topic}: the rule's expanded topic. A template is parsed once at load time; expand() is
// the per-message hot path and only appends strings.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nodebridge {

enum class TopicField { gateway, source, node, attribute, unit, topic };

struct TopicValues {
    std::string_view gateway;
    std::string_view source;
    std::string_view node;
    std::string_view attribute;
    std::string_view unit;
    std::string_view topic;  // {topic}: a whole expanded topic, substituted as it is
};

class TopicTemplate {
  public:
    // Parses `text`. Returns nullopt and sets `error` (one sentence, no position) when the
    // template is empty, has an unknown or unclosed {field}, a stray brace, the MQTT
    // wildcards '+' or '#', a NUL byte, or is longer than 65535 bytes.
    static std::optional<TopicTemplate> parse(std::string_view text, std::string& error);

    // Like parse(), for a rule's command_topic: {topic} is a known field as well. Same
    // errors; nullopt and `error` set on failure.
    static std::optional<TopicTemplate> parse_command(std::string_view text, std::string& error);

    bool uses(TopicField field) const;
    const std::string& text() const { return text_; }

    // Appends the topic for `values` to `out`. Characters in substituted values that MQTT
    // gives a meaning in a topic name ('+', '#', '/', NUL) are replaced by '_', so a node id
    // can never add a level or a wildcard. {topic} is the exception: it is an expanded topic
    // already, and its levels are kept.
    void expand(const TopicValues& values, std::string& out) const;
    std::string expand(const TopicValues& values) const;

  private:
    static std::optional<TopicTemplate> parse_fields(std::string_view text, bool with_topic,
                                                     std::string& error);

    struct Part {
        bool is_field;
        TopicField field;
        std::string literal;
    };
    std::string text_;
    std::vector<Part> parts_;
};

}  // namespace nodebridge
