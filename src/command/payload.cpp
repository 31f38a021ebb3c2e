// parse_command_payload(): the strict little JSON subset a command may be written in.

#include <charconv>
#include <cmath>

#include "nodebridge/command.hpp"

namespace nodebridge {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A cursor over the payload; every read is bounds-checked.
class Cursor {
  public:
    explicit Cursor(std::string_view text) : text_(text) {}

    void skip_space() {
        while (at_ < text_.size() && is_space(text_[at_])) ++at_;
    }
    bool done() const { return at_ >= text_.size(); }
    char peek() const { return done() ? '\0' : text_[at_]; }
    bool take(char c) {
        if (peek() != c || done()) return false;
        ++at_;
        return true;
    }
    bool take(std::string_view word) {
        if (text_.substr(at_, word.size()) != word) return false;
        at_ += word.size();
        return true;
    }
    std::size_t at() const { return at_; }
    std::string_view text() const { return text_; }
    void skip_digits() {
        while (at_ < text_.size() && is_digit(text_[at_])) ++at_;
    }

  private:
    std::string_view text_;
    std::size_t at_ = 0;
};

// A JSON number (RFC 8259 grammar), converted without locale. Returns the reason on failure.
std::variant<Value, std::string> read_number(Cursor& in) {
    const std::size_t start = in.at();
    in.take('-');
    if (in.take('0')) {
        if (is_digit(in.peek())) return std::string("a number must not have leading zeros");
    } else if (is_digit(in.peek())) {
        in.skip_digits();
    } else {
        return std::string("expected a digit after '-'");
    }
    if (in.take('.')) {
        if (!is_digit(in.peek())) return std::string("expected a digit after '.'");
        in.skip_digits();
    }
    if (in.take('e') || in.take('E')) {
        if (!in.take('+')) in.take('-');
        if (!is_digit(in.peek())) return std::string("expected a digit in the exponent");
        in.skip_digits();
    }
    const std::string_view digits = in.text().substr(start, in.at() - start);
    double value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || !std::isfinite(value)) {
        return std::string("the number is out of range");
    }
    return Value{value};
}

// One scalar: true, false or a number; anything else is refused with a reason.
std::variant<Value, std::string> read_scalar(Cursor& in) {
    if (in.take(std::string_view("true"))) return Value{true};
    if (in.take(std::string_view("false"))) return Value{false};
    const char c = in.peek();
    if (c == '-' || is_digit(c)) return read_number(in);
    if (in.done()) return std::string("expected a value");
    if (c == '"') return std::string("strings are not accepted: send a number, true or false");
    if (in.take(std::string_view("null"))) return std::string("null is not a value");
    if (c == '{' || c == '[') return std::string("nested objects and lists are not accepted");
    return std::string("expected a number, true or false");
}

}  // namespace

std::variant<Value, std::string> parse_command_payload(std::string_view payload) {
    if (payload.size() > kMaxCommandPayload) {
        return "the payload is longer than " + std::to_string(kMaxCommandPayload) + " bytes";
    }
    Cursor in(payload);
    in.skip_space();
    if (in.done()) return std::string("the payload is empty");
    std::variant<Value, std::string> result;
    if (in.take('{')) {
        in.skip_space();
        if (!in.take(std::string_view("\"value\""))) {
            return std::string("an object must hold exactly one key, \"value\"");
        }
        in.skip_space();
        if (!in.take(':')) return std::string("expected ':' after \"value\"");
        in.skip_space();
        result = read_scalar(in);
        if (std::holds_alternative<std::string>(result)) return result;
        in.skip_space();
        if (in.peek() == ',') {
            return std::string("an object must hold exactly one key, \"value\"");
        }
        if (!in.take('}')) return std::string("expected '}' after the value");
    } else {
        result = read_scalar(in);
        if (std::holds_alternative<std::string>(result)) return result;
    }
    in.skip_space();
    if (!in.done()) return std::string("unexpected bytes after the value");
    return result;
}

}  // namespace nodebridge
