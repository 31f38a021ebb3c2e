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
    // Reads `args` as "--name value" pairs (or "--name=value"), and the names in `flags` as
    // bare "--name". Names in neither set and missing values are errors; error() then says
    // which.
    Options(Args args, const std::set<std::string_view>& known,
            const std::set<std::string_view>& flags = {});

    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }

    std::optional<std::string> text(std::string_view name) const;
    // Whether the bare flag `name` was given.
    bool flag(std::string_view name) const { return flags_.contains(name); }
    // The option as an integer within [min, max]; nullopt when absent. Sets error() when
    // present but not a whole number in range.
    std::optional<long> integer(std::string_view name, long min, long max);
    // The option as a number within [min, max]; nullopt when absent. Sets error() when
    // present but not a number in range.
    std::optional<double> number(std::string_view name, double min, double max);
    // Records `message` as the error (the first one wins).
    void fail(std::string message) {
        if (error_.empty()) error_ = std::move(message);
    }

  private:
    std::map<std::string, std::string, std::less<>> values_;
    std::set<std::string, std::less<>> flags_;
    std::string error_;
};

}  // namespace nodebridge::sim
