#include "glob.hpp"

#include <utility>

namespace nodebridge::mapping {
namespace {

// Matches the bracket expression starting at pattern[p] == '[' against `c`. Sets `next` to
// the index after the closing ']'. Returns false with next == p when the bracket is not
// closed, in which case the caller treats '[' as a literal.
bool match_class(std::string_view pattern, std::size_t p, unsigned char c, std::size_t& next,
                 bool& closed) {
    std::size_t i = p + 1;
    bool negate = false;
    if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
        negate = true;
        ++i;
    }
    bool found = false;
    bool first = true;
    while (i < pattern.size()) {
        unsigned char lo = static_cast<unsigned char>(pattern[i]);
        if (lo == ']' && !first) {
            closed = true;
            next = i + 1;
            return found != negate;
        }
        first = false;
        if (lo == '\\' && i + 1 < pattern.size()) {
            ++i;
            lo = static_cast<unsigned char>(pattern[i]);
        }
        ++i;
        unsigned char hi = lo;
        if (i + 1 < pattern.size() && pattern[i] == '-' && pattern[i + 1] != ']') {
            ++i;
            if (pattern[i] == '\\' && i + 1 < pattern.size()) ++i;
            hi = static_cast<unsigned char>(pattern[i]);
            ++i;
        }
        if (lo <= c && c <= hi) found = true;
    }
    closed = false;
    next = p;
    return false;
}

// Matches one pattern element at pattern[p] (not '*') against `c`. Sets `next` past it.
bool match_one(std::string_view pattern, std::size_t p, char c, std::size_t& next) {
    const char pc = pattern[p];
    if (pc == '?') {
        next = p + 1;
        return true;
    }
    if (pc == '[') {
        bool closed = false;
        const bool result = match_class(pattern, p, static_cast<unsigned char>(c), next, closed);
        if (closed) return result;
        next = p + 1;
        return c == '[';
    }
    if (pc == '\\' && p + 1 < pattern.size()) {
        next = p + 2;
        return c == pattern[p + 1];
    }
    next = p + 1;
    return c == pc;
}

bool has_special(std::string_view pattern) {
    return pattern.find_first_of("*?[\\") != std::string_view::npos;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
    // Classic single-backtrack matcher: on a mismatch, let the last '*' swallow one more
    // character. Earlier stars never need revisiting, so this stays O(n * m).
    std::size_t p = 0;
    std::size_t t = 0;
    std::size_t star_p = std::string_view::npos;
    std::size_t star_t = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            while (p < pattern.size() && pattern[p] == '*') ++p;
            if (p == pattern.size()) return true;
            star_p = p;
            star_t = t;
            continue;
        }
        std::size_t next = 0;
        if (p < pattern.size() && match_one(pattern, p, text[t], next)) {
            p = next;
            ++t;
            continue;
        }
        if (star_p == std::string_view::npos) return false;
        p = star_p;
        t = ++star_t;
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

Glob::Glob(std::string pattern) : pattern_(std::move(pattern)) {
    if (pattern_.find_first_not_of('*') == std::string::npos && !pattern_.empty()) {
        kind_ = Kind::any;
    } else if (!has_special(pattern_)) {
        kind_ = Kind::literal;
        literal_ = pattern_;
    } else {
        kind_ = Kind::general;
    }
}

bool Glob::matches(std::string_view text) const {
    switch (kind_) {
        case Kind::any:
            return true;
        case Kind::literal:
            return text == literal_;
        case Kind::general:
            return glob_match(pattern_, text);
    }
    return false;
}

}  // namespace nodebridge::mapping
