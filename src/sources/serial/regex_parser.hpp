#pragma once
// `format: regex` — a PCRE2 pattern with named groups, e.g.
//   ^RX (?<node>[0-9A-F]{6}) T=(?<temp>-?\d+\.\d) H=(?<humidity>\d+)$
// The node key's group (default `node`, else `id`) is the node id; every other named group
// that took part in the match is an attribute, typed like a kv value. A line that does not
// match is malformed. The pattern is compiled once (UTF mode, JIT when the platform has it);
// each match is bounded by a match limit and a depth limit, so a pathological pattern costs
// a counted error, not a stalled thread.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sources/serial/line_parser.hpp"

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;
struct pcre2_real_match_context_8;

namespace nodebridge::serial {

class RegexParser final : public LineParser {
  public:
    // Compiles `pattern`. Returns nullptr and sets `error` (with the PCRE2 message and
    // offset) when it does not compile, has no named groups, or lacks the node group.
    static std::unique_ptr<RegexParser> make(const std::string& pattern, KeyNames keys,
                                             std::string& error);
    ~RegexParser() override;

    // True when the pattern runs JIT-compiled.
    bool jit() const { return jit_; }

    static constexpr std::uint32_t kMatchLimit = 100'000;
    static constexpr std::uint32_t kDepthLimit = 1'000;

  protected:
    LineError parse_fields(std::string_view line, ReportBuilder& builder) override;

  private:
    explicit RegexParser(KeyNames keys);

    pcre2_real_code_8* code_ = nullptr;
    pcre2_real_match_data_8* match_data_ = nullptr;
    pcre2_real_match_context_8* match_context_ = nullptr;
    std::vector<std::pair<std::string, std::uint32_t>> groups_;  // name, group number
    bool jit_ = false;
};

}  // namespace nodebridge::serial
