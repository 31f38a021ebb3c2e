#include "options.hpp"

#include <charconv>

namespace nodebridge::sim {

Options::Options(Args args, const std::set<std::string_view>& known,
                 const std::set<std::string_view>& flags) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (!arg.starts_with("--")) {
            error_ = "unexpected argument '" + std::string(arg) + "'";
            return;
        }
        std::string_view name = arg.substr(2);
        if (flags.contains(name)) {
            flags_.emplace(name);
            continue;
        }
        std::string value;
        if (const auto eq = name.find('='); eq != std::string_view::npos) {
            value = std::string(name.substr(eq + 1));
            name = name.substr(0, eq);
        } else if (i + 1 < args.size()) {
            value = std::string(args[++i]);
        } else {
            error_ = "option --" + std::string(name) + " needs a value";
            return;
        }
        if (!known.contains(name)) {
            error_ = "unknown option --" + std::string(name);
            return;
        }
        values_[std::string(name)] = std::move(value);
    }
}

std::optional<std::string> Options::text(std::string_view name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::optional<long> Options::integer(std::string_view name, long min, long max) {
    const auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    long value = 0;
    const std::string& text = it->second;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
        if (error_.empty()) {
            error_ = "--" + std::string(name) + " must be a whole number from " +
                     std::to_string(min) + " to " + std::to_string(max);
        }
        return std::nullopt;
    }
    return value;
}

std::optional<double> Options::number(std::string_view name, double min, double max) {
    const auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    double value = 0;
    const std::string& text = it->second;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !(value >= min && value <= max)) {
        fail("--" + std::string(name) + " must be a number from " + std::to_string(min) + " to " +
             std::to_string(max));
        return std::nullopt;
    }
    return value;
}

}  // namespace nodebridge::sim
