#include "nodebridge/topic_template.hpp"

#include <utility>

namespace nodebridge {
namespace {

constexpr std::pair<std::string_view, TopicField> kFields[] = {
    {"gateway", TopicField::gateway}, {"source", TopicField::source},
    {"node", TopicField::node},       {"attribute", TopicField::attribute},
    {"unit", TopicField::unit},       {"topic", TopicField::topic},
};

constexpr std::size_t kMaxTopicBytes = 65535;

std::string_view value_of(const TopicValues& values, TopicField field) {
    switch (field) {
        case TopicField::gateway:
            return values.gateway;
        case TopicField::source:
            return values.source;
        case TopicField::node:
            return values.node;
        case TopicField::attribute:
            return values.attribute;
        case TopicField::unit:
            return values.unit;
        case TopicField::topic:
            return values.topic;
    }
    return {};
}

void append_safe(std::string_view value, std::string& out) {
    for (char c : value) {
        out += (c == '+' || c == '#' || c == '/' || c == '\0') ? '_' : c;
    }
}

}  // namespace

std::optional<TopicTemplate> TopicTemplate::parse(std::string_view text, std::string& error) {
    return parse_fields(text, false, error);
}

std::optional<TopicTemplate> TopicTemplate::parse_command(std::string_view text,
                                                          std::string& error) {
    return parse_fields(text, true, error);
}

std::optional<TopicTemplate> TopicTemplate::parse_fields(std::string_view text, bool with_topic,
                                                         std::string& error) {
    if (text.empty()) {
        error = "topic template is empty";
        return std::nullopt;
    }
    if (text.size() > kMaxTopicBytes) {
        error = "topic template is longer than 65535 bytes";
        return std::nullopt;
    }
    TopicTemplate result;
    result.text_ = std::string(text);
    std::string literal;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+' || c == '#') {
            error = std::string("topic template contains the MQTT wildcard '") + c +
                    "', which is not allowed in a published topic";
            return std::nullopt;
        }
        if (c == '\0') {
            error = "topic template contains a NUL byte";
            return std::nullopt;
        }
        if (c == '}') {
            error = "topic template has a '}' without a matching '{'";
            return std::nullopt;
        }
        if (c != '{') {
            literal += c;
            continue;
        }
        const std::size_t close = text.find('}', i + 1);
        if (close == std::string_view::npos) {
            error = "topic template has an unclosed '{'";
            return std::nullopt;
        }
        const std::string_view name = text.substr(i + 1, close - i - 1);
        bool known = false;
        for (const auto& [field_name, field] : kFields) {
            if (field == TopicField::topic && !with_topic) continue;
            if (name == field_name) {
                if (!literal.empty()) result.parts_.push_back({false, {}, std::move(literal)});
                literal.clear();
                result.parts_.push_back({true, field, {}});
                known = true;
                break;
            }
        }
        if (!known) {
            error = "unknown topic field '{" + std::string(name) +
                    "}' (known: {gateway} {source} {node} {attribute} {unit}" +
                    (with_topic ? " {topic})" : ")");
            return std::nullopt;
        }
        i = close;
    }
    if (!literal.empty()) result.parts_.push_back({false, {}, std::move(literal)});
    return result;
}

bool TopicTemplate::uses(TopicField field) const {
    for (const Part& part : parts_) {
        if (part.is_field && part.field == field) return true;
    }
    return false;
}

void TopicTemplate::expand(const TopicValues& values, std::string& out) const {
    for (const Part& part : parts_) {
        if (part.is_field && part.field == TopicField::topic) {
            out += values.topic;
        } else if (part.is_field) {
            append_safe(value_of(values, part.field), out);
        } else {
            out += part.literal;
        }
    }
}

std::string TopicTemplate::expand(const TopicValues& values) const {
    std::string out;
    expand(values, out);
    return out;
}

}  // namespace nodebridge
