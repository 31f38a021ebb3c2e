// Argument parsing shared by the subcommands (cli.hpp).

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

#include "cli.hpp"

namespace nodebridge::cli {
namespace {

std::optional<long> whole(std::string_view text) {
    long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<Target> parse_target(std::string_view text, int default_port, std::string& error) {
    Target out;
    out.port = default_port;
    std::string_view host = text;
    std::string_view port;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            error = "'" + std::string(text) + "': '[' without ']' (write [::1]:502)";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (!rest.starts_with(':')) {
                error = "'" + std::string(text) + "': expected :PORT after ']'";
                return std::nullopt;
            }
            port = rest.substr(1);
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        const auto colon = text.find(':');
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host.empty()) {
        error = "'" + std::string(text) + "': no host (write HOST or HOST:PORT)";
        return std::nullopt;
    }
    out.host = std::string(host);
    if (!port.empty() || text.ends_with(':')) {
        const auto number = whole(port);
        if (!number || *number < 1 || *number > 65535) {
            error = "'" + std::string(text) + "': the port is not 1..65535";
            return std::nullopt;
        }
        out.port = static_cast<int>(*number);
    }
    return out;
}

std::optional<std::vector<int>> parse_unit_list(std::string_view text, int lowest, int highest,
                                                std::string& error) {
    std::vector<int> units;
    std::set<int> seen;
    const std::string range_text = std::to_string(lowest) + ".." + std::to_string(highest);
    std::size_t at = 0;
    while (at <= text.size()) {
        const auto comma = text.find(',', at);
        std::string_view item =
            text.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        const auto dash = item.find('-');
        const auto first = whole(item.substr(0, dash));
        const auto last = dash == std::string_view::npos ? first : whole(item.substr(dash + 1));
        if (!first || !last || *first > *last || *first < lowest || *last > highest) {
            error = "--units: '" + std::string(text) +
                    "' is not a list like 1-247 or 1,3,10-20 of " + "unit ids " + range_text;
            return std::nullopt;
        }
        for (long unit = *first; unit <= *last; ++unit) {
            if (!seen.insert(static_cast<int>(unit)).second) {
                error = "--units: unit " + std::to_string(unit) + " is listed twice";
                return std::nullopt;
            }
            units.push_back(static_cast<int>(unit));
        }
        if (comma == std::string_view::npos) break;
        at = comma + 1;
    }
    return units;
}

std::optional<Millis> parse_millis(std::string_view text) {
    double factor = 1000;  // a bare number is seconds
    std::string_view number = text;
    if (text.ends_with("ms")) {
        factor = 1;
        number.remove_suffix(2);
    } else if (text.ends_with('s')) {
        number.remove_suffix(1);
    } else if (text.ends_with('m')) {
        factor = 60000;
        number.remove_suffix(1);
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size() || number.empty() ||
        !std::isfinite(value)) {
        return std::nullopt;
    }
    const double ms = value * factor;
    if (ms < 1 || ms > 3'600'000) return std::nullopt;
    return Millis(static_cast<long>(std::llround(ms)));
}

std::string unit_ranges(const std::vector<int>& units) {
    std::vector<int> sorted = units;
    std::sort(sorted.begin(), sorted.end());
    std::string out;
    for (std::size_t i = 0; i < sorted.size();) {
        std::size_t j = i;
        while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
        if (!out.empty()) out += ", ";
        out += std::to_string(sorted[i]);
        if (j > i) out += "-" + std::to_string(sorted[j]);
        i = j + 1;
    }
    return out;
}

std::string human_duration(std::chrono::microseconds duration) {
    const double us = static_cast<double>(duration.count());
    char text[32];
    if (us >= 1e6) {
        std::snprintf(text, sizeof text, "%.1f s", us / 1e6);
    } else if (us >= 10e3) {
        std::snprintf(text, sizeof text, "%.0f ms", us / 1e3);
    } else {
        std::snprintf(text, sizeof text, "%.1f ms", us / 1e3);
    }
    return text;
}

}  // namespace nodebridge::cli
