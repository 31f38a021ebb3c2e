// Lines parsed per second, per serial-nodes format, on one core (issue 3: at least 500,000
// kv lines/s). Lines look like the simulator's power monitors: a node id and five readings.
// items/s = lines/s.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "sources/serial/line_parser.hpp"

namespace nodebridge {
namespace {

constexpr int kLines = 64;  // distinct lines, cycled, so no branch predictor learns one

std::string number(int i, double base, double step) {
    return std::to_string(base + step * (i % 17));
}

std::vector<std::string> kv_lines() {
    std::vector<std::string> lines;
    for (int i = 0; i < kLines; ++i) {
        lines.push_back("node=0A1B" + std::to_string(10 + i) + " voltage=" + number(i, 229.8, 0.1) +
                        " current=" + number(i, 1.92, 0.01) + " power=" + number(i, 441.2, 1.5) +
                        " pf=0.97 rssi=-" + std::to_string(60 + i % 30));
    }
    return lines;
}

std::vector<std::string> json_lines() {
    std::vector<std::string> lines;
    for (int i = 0; i < kLines; ++i) {
        lines.push_back(R"({"id":"0A1B)" + std::to_string(10 + i) + R"(","voltage":)" +
                        number(i, 229.8, 0.1) + R"(,"current":)" + number(i, 1.92, 0.01) +
                        R"(,"power":)" + number(i, 441.2, 1.5) + R"(,"pf":0.97,"radio":{"rssi":-)" +
                        std::to_string(60 + i % 30) + "}}");
    }
    return lines;
}

std::vector<std::string> csv_lines() {
    std::vector<std::string> lines;
    for (int i = 0; i < kLines; ++i) {
        lines.push_back("0A1B" + std::to_string(10 + i) + "," + number(i, 229.8, 0.1) + "," +
                        number(i, 1.92, 0.01) + "," + number(i, 441.2, 1.5) + ",0.97,-" +
                        std::to_string(60 + i % 30));
    }
    return lines;
}

std::vector<std::string> regex_lines() {
    std::vector<std::string> lines;
    for (int i = 0; i < kLines; ++i) {
        lines.push_back("PM 0A1B" + std::to_string(10 + i) + " U=" + number(i, 229.8, 0.1) +
                        "V I=" + number(i, 1.92, 0.01) + "A P=" + number(i, 441.2, 1.5) + "W");
    }
    return lines;
}

void run(benchmark::State& state, const SerialNodesSourceConfig& config,
         const std::vector<std::string>& lines) {
    std::string error;
    const auto parser = serial::make_line_parser(config, error);
    if (!parser) {
        state.SkipWithError(error.c_str());
        return;
    }
    serial::Report report;
    std::size_t index = 0;
    std::int64_t bad = 0;
    for (auto _ : state) {
        if (parser->parse(lines[index], report) != serial::LineError::none) ++bad;
        benchmark::DoNotOptimize(report.attributes.data());
        if (++index == lines.size()) index = 0;
    }
    if (bad > 0) state.SkipWithError("a benchmark line did not parse");
    state.SetItemsProcessed(state.iterations());
}

void BM_Kv(benchmark::State& state) {
    SerialNodesSourceConfig config;
    config.format = LineFormat::kv;
    run(state, config, kv_lines());
}

void BM_Json(benchmark::State& state) {
    SerialNodesSourceConfig config;
    config.format = LineFormat::json;
    run(state, config, json_lines());
}

void BM_Csv(benchmark::State& state) {
    SerialNodesSourceConfig config;
    config.format = LineFormat::csv;
    config.columns = {"node", "voltage", "current", "power", "pf", "rssi"};
    run(state, config, csv_lines());
}

void BM_Regex(benchmark::State& state) {
    SerialNodesSourceConfig config;
    config.format = LineFormat::regex;
    config.pattern =
        R"(^PM (?<node>\w+) U=(?<voltage>[-0-9.]+)V I=(?<current>[-0-9.]+)A P=(?<power>[-0-9.]+)W$)";
    run(state, config, regex_lines());
}

BENCHMARK(BM_Kv);
BENCHMARK(BM_Json);
BENCHMARK(BM_Csv);
BENCHMARK(BM_Regex);

}  // namespace
}  // namespace nodebridge

BENCHMARK_MAIN();
