// A primary host application's STATE payload (Sparkplug 3.0.0, chapter 6 "Payloads", "STATE": UTF-8 JSON
// with exactly the keys "online", a boolean, and "timestamp", ms since the epoch). Strict
// and bounded: anything else is refused.

#include <cctype>
#include <cstddef>

#include "edge_node.hpp"

namespace nodebridge::sparkplug {
namespace {

constexpr std::size_t kMaxStatePayload = 1024;

class Scanner {
  public:
    explicit Scanner(std::string_view text) : text_(text) {}

    void skip_space() {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' ||
                                      text_[at_] == '\n' || text_[at_] == '\r')) {
            ++at_;
        }
    }
    bool take(char c) {
        skip_space();
        if (at_ < text_.size() && text_[at_] == c) {
            ++at_;
            return true;
        }
        return false;
    }
    bool take_word(std::string_view word) {
        skip_space();
        if (text_.substr(at_, word.size()) != word) return false;
        at_ += word.size();
        return true;
    }
    // A string without escapes (the only keys accepted have none).
    std::optional<std::string_view> string() {
        if (!take('"')) return std::nullopt;
        const std::size_t start = at_;
        while (at_ < text_.size() && text_[at_] != '"') {
            if (text_[at_] == '\\' || static_cast<unsigned char>(text_[at_]) < 0x20) {
                return std::nullopt;
            }
            ++at_;
        }
        if (at_ >= text_.size()) return std::nullopt;
        return text_.substr(start, at_++ - start);
    }
    // A non-negative whole number of at most 19 digits.
    std::optional<std::uint64_t> whole() {
        skip_space();
        std::uint64_t value = 0;
        std::size_t digits = 0;
        while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) {
            if (++digits > 19) return std::nullopt;
            value = value * 10 + static_cast<std::uint64_t>(text_[at_] - '0');
            ++at_;
        }
        if (digits == 0) return std::nullopt;
        return value;
    }
    bool done() {
        skip_space();
        return at_ == text_.size();
    }

  private:
    std::string_view text_;
    std::size_t at_ = 0;
};

}  // namespace

std::optional<HostState> parse_state(std::string_view payload) {
    if (payload.size() > kMaxStatePayload) return std::nullopt;
    Scanner in(payload);
    if (!in.take('{')) return std::nullopt;
    std::optional<bool> online;
    std::optional<std::uint64_t> timestamp;
    do {
        const auto key = in.string();
        if (!key || !in.take(':')) return std::nullopt;
        if (*key == "online" && !online) {
            if (in.take_word("true")) {
                online = true;
            } else if (in.take_word("false")) {
                online = false;
            } else {
                return std::nullopt;
            }
        } else if (*key == "timestamp" && !timestamp) {
            timestamp = in.whole();
            if (!timestamp) return std::nullopt;
        } else {
            return std::nullopt;
        }
    } while (in.take(','));
    if (!in.take('}') || !in.done() || !online || !timestamp) return std::nullopt;
    return HostState{.online = *online, .timestamp = *timestamp};
}

}  // namespace nodebridge::sparkplug
