// Lines parsed per second per format on one core. Not a ctest: run it by hand
// (build-x/tests/unit/serial/serial_parse_perftest) and read the figures.

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "sources/serial/line_parser.hpp"

namespace {

using namespace nodebridge;
using namespace nodebridge::serial;

double lines_per_second(LineParser& parser, const std::vector<std::string>& lines, int rounds) {
    Report report;
    std::size_t ok = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r) {
        for (const std::string& line : lines) ok += parser.parse(line, report) == LineError::none;
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    if (ok != lines.size() * static_cast<std::size_t>(rounds)) std::printf("  (parse failures!)\n");
    return static_cast<double>(ok) / elapsed.count();
}

std::vector<std::string> make_lines(LineFormat format) {
    std::vector<std::string> lines;
    for (int i = 0; i < 1000; ++i) {
        char buffer[256];
        const double v = 229.0 + (i % 17) * 0.1;
        const double c = 1.5 + (i % 13) * 0.01;
        switch (format) {
            case LineFormat::kv:
                std::snprintf(buffer, sizeof buffer,
                              "node=%06X voltage=%.1f current=%.2f power=%.1f pf=0.97 rssi=-%d",
                              0x0A1B00 + i % 64, v, c, v * c, 60 + i % 30);
                break;
            case LineFormat::json:
                std::snprintf(buffer, sizeof buffer,
                              R"({"id":"%06X","voltage":%.1f,"current":%.2f,"power":%.1f,)"
                              R"("pf":0.97,"rssi":-%d})",
                              0x0A1B00 + i % 64, v, c, v * c, 60 + i % 30);
                break;
            case LineFormat::csv:
            case LineFormat::regex:
                std::snprintf(buffer, sizeof buffer, "%06X,%.1f,%.2f,%.1f,0.97,-%d",
                              0x0A1B00 + i % 64, v, c, v * c, 60 + i % 30);
                break;
        }
        lines.emplace_back(buffer);
    }
    return lines;
}

}  // namespace

int main() {
    struct Case {
        const char* name;
        LineFormat format;
    };
    for (const Case& c : {Case{"kv", LineFormat::kv}, Case{"json", LineFormat::json},
                          Case{"csv", LineFormat::csv}, Case{"regex", LineFormat::regex}}) {
        SerialNodesSourceConfig config;
        config.format = c.format;
        config.columns = {"node", "voltage", "current", "power", "pf", "rssi"};
        config.pattern =
            R"(^(?<node>[0-9A-F]+),(?<voltage>[^,]*),(?<current>[^,]*),(?<power>[^,]*),)"
            R"((?<pf>[^,]*),(?<rssi>[^,]*)$)";
        std::string error;
        auto parser = make_line_parser(config, error);
        if (!parser) {
            std::fprintf(stderr, "%s: %s\n", c.name, error.c_str());
            return 1;
        }
        const auto lines = make_lines(c.format);
        lines_per_second(*parser, lines, 50);  // warm up
        double best = 0;
        for (int trial = 0; trial < 5; ++trial) {
            best = std::max(best, lines_per_second(*parser, lines, 300));
        }
        std::printf("%-6s %10.0f lines/s\n", c.name, best);
    }
    return 0;
}
