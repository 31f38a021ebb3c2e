#pragma once
// /metrics: the Prometheus text exposition format, version 0.0.4 (Prometheus documentation,
// "Exposition formats", section "Text-based format" and its "Text format details"): one
// `# HELP` and one `# TYPE` line per metric family, then its samples, label values escaped
// (backslash, double quote and line feed as \\, \" and \n), every line ending in \n.

#include <string>
#include <string_view>

#include "view.hpp"

namespace nodebridge::http {

// The Content-Type of render_metrics()'s output.
constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// The metrics of `view` (docs/http.md lists them). Ages are measured from `now`. With
// `readings`, each numeric, integer or bool attribute's last value as nodebridge_reading.
std::string render_metrics(const View& view, SteadyClock::time_point now, bool readings);

// A label value as the format writes it between its double quotes.
void append_label_value(std::string_view value, std::string& out);

}  // namespace nodebridge::http
