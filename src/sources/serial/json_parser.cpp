#include "sources/serial/json_parser.hpp"

#include <charconv>
#include <cmath>

namespace nodebridge::serial {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void append_utf8(std::uint32_t code, std::string& out) {
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

}  // namespace

LineError JsonParser::parse_fields(std::string_view line, ReportBuilder& builder) {
    p_ = line.data();
    end_ = p_ + line.size();
    builder_ = &builder;
    path_.clear();
    skip_whitespace();
    if (p_ == end_ || *p_ != '{') return LineError::malformed;
    if (!parse_object(1)) return LineError::malformed;
    skip_whitespace();
    if (p_ != end_) return LineError::malformed;
    return builder.finish();
}

void JsonParser::skip_whitespace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
}

bool JsonParser::push_key(std::string_view key) {
    if (!path_.empty()) path_ += '.';
    path_.append(key);
    return path_.size() <= kMaxKeyBytes;
}

bool JsonParser::parse_object(int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;  // '{'
    skip_whitespace();
    if (p_ < end_ && *p_ == '}') {
        ++p_;
        return true;
    }
    const std::size_t base = path_.size();
    for (;;) {
        skip_whitespace();
        if (p_ == end_ || *p_ != '"') return false;
        if (!parse_string(key_)) return false;
        if (key_.empty()) return false;
        skip_whitespace();
        if (p_ == end_ || *p_ != ':') return false;
        ++p_;
        if (!push_key(key_)) return false;
        if (!parse_value(depth)) return false;
        path_.resize(base);
        skip_whitespace();
        if (p_ == end_) return false;
        if (*p_ == ',') {
            ++p_;
            continue;
        }
        if (*p_ == '}') {
            ++p_;
            return true;
        }
        return false;
    }
}

bool JsonParser::parse_array(int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;  // '['
    skip_whitespace();
    if (p_ < end_ && *p_ == ']') {
        ++p_;
        return true;
    }
    const std::size_t base = path_.size();
    for (std::size_t index = 0;; ++index) {
        if (index >= kMaxAttributes) return false;
        char digits[24];
        const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, index);
        (void)ec;
        if (!push_key(std::string_view(digits, static_cast<std::size_t>(end - digits)))) {
            return false;
        }
        if (!parse_value(depth)) return false;
        path_.resize(base);
        skip_whitespace();
        if (p_ == end_) return false;
        if (*p_ == ',') {
            ++p_;
            continue;
        }
        if (*p_ == ']') {
            ++p_;
            return true;
        }
        return false;
    }
}

bool JsonParser::parse_value(int depth) {
    skip_whitespace();
    if (p_ == end_) return false;
    const char c = *p_;
    if (c == '{') return parse_object(depth + 1);
    if (c == '[') return parse_array(depth + 1);
    if (c == '"') {
        if (!parse_string(text_)) return false;
        return builder_->add_value(path_, text_, Value(text_));
    }
    const auto literal = [&](std::string_view word) {
        if (static_cast<std::size_t>(end_ - p_) < word.size() ||
            std::string_view(p_, word.size()) != word) {
            return false;
        }
        p_ += word.size();
        return true;
    };
    if (c == 't') return literal("true") && builder_->add_value(path_, "true", Value(true));
    if (c == 'f') return literal("false") && builder_->add_value(path_, "false", Value(false));
    if (c == 'n') return literal("null");
    std::string_view token;
    Value value;
    if (!parse_number(token, value)) return false;
    return builder_->add_value(path_, token, std::move(value));
}

bool JsonParser::parse_number(std::string_view& token, Value& value) {
    const char* const start = p_;
    bool integer = true;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ == end_ || !is_digit(*p_)) return false;
    if (*p_ == '0') {
        ++p_;
    } else {
        while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
        integer = false;
        ++p_;
        if (p_ == end_ || !is_digit(*p_)) return false;
        while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
        integer = false;
        ++p_;
        if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
        if (p_ == end_ || !is_digit(*p_)) return false;
        while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    token = std::string_view(start, static_cast<std::size_t>(p_ - start));
    if (integer) {
        std::int64_t whole = 0;
        const auto result = std::from_chars(start, p_, whole);
        if (result.ec == std::errc() && result.ptr == p_) {
            value = whole;
            return true;
        }
    }
    double number = 0;
    const auto result = std::from_chars(start, p_, number);
    // Numbers beyond double's range (1e999, 1e-999) are refused rather than guessed at.
    if (result.ec != std::errc() || result.ptr != p_ || !std::isfinite(number)) return false;
    value = number;
    return true;
}

bool JsonParser::parse_string(std::string& out) {
    out.clear();
    ++p_;  // opening quote
    for (;;) {
        const char* const run = p_;
        while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) {
            ++p_;
        }
        out.append(run, static_cast<std::size_t>(p_ - run));
        if (p_ == end_) return false;
        const char c = *p_++;
        if (c == '"') return true;
        if (c != '\\') return false;  // raw control character
        if (p_ == end_) return false;
        const char escape = *p_++;
        switch (escape) {
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
                const auto take_hex4 = [&](std::uint32_t& code) {
                    if (end_ - p_ < 4) return false;
                    code = 0;
                    for (int k = 0; k < 4; ++k) {
                        const int digit = hex_value(p_[k]);
                        if (digit < 0) return false;
                        code = code * 16 + static_cast<std::uint32_t>(digit);
                    }
                    p_ += 4;
                    return true;
                };
                std::uint32_t code;
                if (!take_hex4(code)) return false;
                if (code >= 0xDC00 && code <= 0xDFFF) return false;  // lone low surrogate
                if (code >= 0xD800 && code <= 0xDBFF) {
                    std::uint32_t low;
                    if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
                    p_ += 2;
                    if (!take_hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                }
                if (code == 0) return false;  // NUL has no business in a reading
                append_utf8(code, out);
                break;
            }
            default:
                return false;
        }
    }
}

}  // namespace nodebridge::serial
