#pragma once
// Shell-style globs over names (source names, node ids, attribute names).
//
// `*` matches any run of characters (also empty), `?` exactly one character, `[abc]`, `[a-z]`
// one character of a set, `[!a-z]` or `[^a-z]` one character outside it (a `]` right after
// `[`, `[!` or `[^` belongs to the set), and `\x` the character x literally. A `[` without
// its closing `]` is a literal `[`. Matching is byte-wise and case-sensitive; `/` is not
// special. Every pattern is valid: matching never fails, it only answers yes or no.

#include <string>
#include <string_view>

namespace nodebridge::mapping {

// True when `text` as a whole matches `pattern`. Runs in O(|pattern| * |text|) at worst,
// without recursion or allocation.
bool glob_match(std::string_view pattern, std::string_view text);

// A pattern prepared once for repeated matching: "*" and patterns without any special
// character skip the general matcher.
class Glob {
  public:
    Glob() = default;  // matches everything, like "*"
    explicit Glob(std::string pattern);

    bool matches(std::string_view text) const;
    const std::string& pattern() const { return pattern_; }

  private:
    enum class Kind { any, literal, general };
    std::string pattern_ = "*";
    std::string literal_;  // the unescaped text, for Kind::literal
    Kind kind_ = Kind::any;
};

}  // namespace nodebridge::mapping
