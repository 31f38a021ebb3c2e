#include "json.hpp"

#include <cstdlib>

namespace nodebridge::test {
namespace {

class Parser {
  public:
    explicit Parser(std::string_view text) : text_(text) {}

    std::optional<Json> document(std::string* error) {
        auto value = parse_value(0);
        skip_space();
        if (value && at_ != text_.size()) fail("trailing bytes");
        if (!error_.empty()) {
            if (error) *error = error_ + " at byte " + std::to_string(at_);
            return std::nullopt;
        }
        return value;
    }

  private:
    void fail(std::string why) {
        if (error_.empty()) error_ = std::move(why);
    }
    void skip_space() {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' ||
                                      text_[at_] == '\n' || text_[at_] == '\r')) {
            ++at_;
        }
    }
    bool literal(std::string_view word) {
        if (text_.substr(at_, word.size()) != word) return false;
        at_ += word.size();
        return true;
    }

    std::optional<Json> parse_value(int depth) {
        if (depth > 64) {
            fail("nested too deep");
            return std::nullopt;
        }
        skip_space();
        if (at_ >= text_.size()) {
            fail("unexpected end");
            return std::nullopt;
        }
        const char c = text_[at_];
        if (c == '{') return parse_object(depth);
        if (c == '[') return parse_array(depth);
        if (c == '"') {
            auto s = parse_string();
            if (!s) return std::nullopt;
            return Json{*s};
        }
        if (literal("true")) return Json{true};
        if (literal("false")) return Json{false};
        if (literal("null")) return Json{nullptr};
        return parse_number();
    }

    std::optional<Json> parse_number() {
        const std::size_t start = at_;
        if (at_ < text_.size() && text_[at_] == '-') ++at_;
        const auto digits = [&] {
            std::size_t n = 0;
            while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_, ++n;
            return n;
        };
        if (at_ < text_.size() && text_[at_] == '0') {
            ++at_;
        } else if (digits() == 0) {
            fail("expected a value");
            return std::nullopt;
        }
        if (at_ < text_.size() && text_[at_] == '.') {
            ++at_;
            if (digits() == 0) {
                fail("expected digits after '.'");
                return std::nullopt;
            }
        }
        if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
            ++at_;
            if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
            if (digits() == 0) {
                fail("expected an exponent");
                return std::nullopt;
            }
        }
        return Json{std::strtod(std::string(text_.substr(start, at_ - start)).c_str(), nullptr)};
    }

    static void put_utf8(unsigned code, std::string& out) {
        if (code < 0x80) {
            out += static_cast<char>(code);
        } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (code >> 18));
            out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
    }

    std::optional<unsigned> hex4() {
        if (at_ + 4 > text_.size()) return std::nullopt;
        unsigned code = 0;
        for (int i = 0; i < 4; ++i) {
            const char h = text_[at_++];
            code <<= 4;
            if (h >= '0' && h <= '9')
                code |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f')
                code |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
                code |= static_cast<unsigned>(h - 'A' + 10);
            else
                return std::nullopt;
        }
        return code;
    }

    std::optional<std::string> parse_string() {
        ++at_;  // the opening quote
        std::string out;
        while (at_ < text_.size()) {
            const auto c = static_cast<unsigned char>(text_[at_++]);
            if (c == '"') return out;
            if (c < 0x20) {
                fail("control character in a string");
                return std::nullopt;
            }
            if (c != '\\') {
                out += static_cast<char>(c);
                continue;
            }
            if (at_ >= text_.size()) break;
            const char e = text_[at_++];
            switch (e) {
                case '"':
                    out += '"';
                    break;
                case '\\':
                    out += '\\';
                    break;
                case '/':
                    out += '/';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    auto code = hex4();
                    if (!code) {
                        fail("bad \\u escape");
                        return std::nullopt;
                    }
                    if (*code >= 0xD800 && *code < 0xDC00) {
                        if (!literal("\\u")) {
                            fail("lone surrogate");
                            return std::nullopt;
                        }
                        auto low = hex4();
                        if (!low || *low < 0xDC00 || *low > 0xDFFF) {
                            fail("bad surrogate pair");
                            return std::nullopt;
                        }
                        *code = 0x10000 + ((*code - 0xD800) << 10) + (*low - 0xDC00);
                    }
                    put_utf8(*code, out);
                    break;
                }
                default:
                    fail("unknown escape");
                    return std::nullopt;
            }
        }
        fail("unterminated string");
        return std::nullopt;
    }

    std::optional<Json> parse_array(int depth) {
        ++at_;
        auto array = std::make_shared<Json::Array>();
        skip_space();
        if (at_ < text_.size() && text_[at_] == ']') {
            ++at_;
            return Json{array};
        }
        while (true) {
            auto value = parse_value(depth + 1);
            if (!value) return std::nullopt;
            array->push_back(std::move(*value));
            skip_space();
            if (at_ < text_.size() && text_[at_] == ',') {
                ++at_;
                continue;
            }
            if (at_ < text_.size() && text_[at_] == ']') {
                ++at_;
                return Json{array};
            }
            fail("expected ',' or ']'");
            return std::nullopt;
        }
    }

    std::optional<Json> parse_object(int depth) {
        ++at_;
        auto object = std::make_shared<Json::Object>();
        skip_space();
        if (at_ < text_.size() && text_[at_] == '}') {
            ++at_;
            return Json{object};
        }
        while (true) {
            skip_space();
            if (at_ >= text_.size() || text_[at_] != '"') {
                fail("expected a key");
                return std::nullopt;
            }
            auto key = parse_string();
            if (!key) return std::nullopt;
            skip_space();
            if (at_ >= text_.size() || text_[at_] != ':') {
                fail("expected ':'");
                return std::nullopt;
            }
            ++at_;
            auto value = parse_value(depth + 1);
            if (!value) return std::nullopt;
            for (const auto& [existing, unused] : *object) {
                if (existing == *key) {
                    fail("duplicate key '" + *key + "'");
                    return std::nullopt;
                }
            }
            object->emplace_back(std::move(*key), std::move(*value));
            skip_space();
            if (at_ < text_.size() && text_[at_] == ',') {
                ++at_;
                continue;
            }
            if (at_ < text_.size() && text_[at_] == '}') {
                ++at_;
                return Json{object};
            }
            fail("expected ',' or '}'");
            return std::nullopt;
        }
    }

    std::string_view text_;
    std::size_t at_ = 0;
    std::string error_;
};

}  // namespace

const Json* Json::find(std::string_view key) const {
    if (!is_object()) return nullptr;
    for (const auto& [name, member] : object()) {
        if (name == key) return &member;
    }
    return nullptr;
}

std::string Json::text(std::string_view key) const {
    const Json* member = find(key);
    return member && member->is_string() ? member->string() : std::string();
}

std::optional<Json> parse_json(std::string_view text, std::string* error) {
    return Parser(text).document(error);
}

}  // namespace nodebridge::test
