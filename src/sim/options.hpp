#pragma once
// A small "--name value" option reader for the simulator's subcommands.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "commands.hpp"

namespace nodebridge::sim {

class Options {
  public:
    // Reads `args` as "--name value" pairs (or "--name=value"). Names not in `known` and
    // missing values are errors; error() then says which.
    Options(Args args, const std::set<std::string_view>& known);

    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }

    std::optional<std::string> text(std::string_view name) const;
    // The option as an integer within [min, max]; nullopt when absent. Sets error() when
    // present but not a whole number in range.
    std::optional<long> integer(std::string_view name, long min, long max);

  private:
    std::map<std::string, std::string, std::less<>> values_;
    std::string error_;
};

}  // namespace nodebridge::sim
