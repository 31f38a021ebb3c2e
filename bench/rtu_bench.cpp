// Modbus RTU on the simulator's wire-accurate line (nodebridge-sim modbus-rtu --wire): the
// three targets of issue #13, printed beside the wire's theoretical limit from the
// simulator's ready line. 10 units of 20 float32 input registers (one 40-register read per
// poll), polled as fast as the bus allows, at 9600 and 19200 baud 8N1:
//   1. transactions/s >= 90% of the wire's limit;
//   2. with 3 of the 10 units dead, the 7 live units keep >= 90% of the transactions/s they
//      get when the dead ones are removed from the config;
//   3. with --corrupt 0.01, delivered readings >= 97% of the clean run, none wrong.
// Usage: rtu_bench [--measure SECONDS] (default 10 per run). Prints a markdown table.

#include <cmath>
#include <cstdio>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "modbus_source.hpp"
#include "sim_process.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;

constexpr int kUnits = 10;
constexpr int kAttributes = 20;

struct Run {
    double limit = 0;          // the ready line's transactions/s
    double transactions = 0;   // requests answered per second (all units)
    double live_readings = 0;  // readings per second of units 1..7
    double readings = 0;       // readings per second, all units
    std::uint64_t wrong = 0;   // readings with a value outside what the sim serves
    std::map<std::string, std::uint64_t> errors;
};

ModbusNode node_for(int unit) {
    ModbusNode node;
    node.id = "unit-" + std::to_string(unit);
    node.unit = unit;
    node.poll = 1ms;  // as fast as the bus allows
    for (int k = 0; k < kAttributes; ++k) {
        ModbusAttribute a;
        a.name = "a" + std::to_string(k);
        a.table = ModbusTable::input;
        a.address = static_cast<std::uint16_t>(2 * k);
        a.type = ModbusType::float32;
        node.attributes.push_back(a);
    }
    return node;
}

class QuietLogger final : public Logger {
  public:
    QuietLogger() : Logger(LogLevel::error) {}

  protected:
    void write(LogLevel, std::string_view, const LogContext&) override {}
};

// `dead_units`: how many of the configured units `faults` kill.
Run run(int baud, int configured_units, std::vector<std::string> faults, Millis measure,
        std::size_t dead_units = 0) {
    test::TempDir dir;
    std::vector<std::string> args = {"modbus-rtu",       "--link",
                                     dir.file("ttySIM"), "--wire",
                                     "--baud",           std::to_string(baud),
                                     "--nodes",          std::to_string(kUnits),
                                     "--attributes",     std::to_string(kAttributes)};
    args.insert(args.end(), faults.begin(), faults.end());
    test::SimProcess sim(dir, args);
    Run result;
    std::smatch match;
    const std::string ready = sim.process().output();
    if (std::regex_search(ready, match, std::regex(R"(limit ([0-9.]+) tx/s)"))) {
        result.limit = std::stod(match[1]);
    }

    ModbusSourceConfig config;
    config.link = SerialLine{.device = dir.file("ttySIM"), .baud = baud};
    config.timeout = 300ms;
    for (int unit = 1; unit <= configured_units; ++unit) config.nodes.push_back(node_for(unit));
    SampleQueue queue(1000000);
    QuietLogger log;
    ModbusSource source("bench", config, queue, log);
    source.start();
    // Warm up for 4 s, and until the dead units were found dead (dead_after = 3 polls of
    // 300 ms each, one per round of all units: over 5 s at 9600 baud), so the figures are the
    // bus's steady state; a dead unit then costs one timeout per dead_poll (30 s).
    const auto warm = SteadyClock::now() + 4s;
    const auto give_up = SteadyClock::now() + 30s;
    std::set<std::string> found_dead;
    while (SteadyClock::now() < give_up &&
           (SteadyClock::now() < warm || found_dead.size() < dead_units)) {
        auto sample = queue.pop_for(50ms);
        if (sample && sample->online == false) found_dead.insert(sample->node);
    }
    const auto before = source.stats();
    const auto errors_before = before.errors;
    std::uint64_t readings = 0, live = 0;
    const auto start = SteadyClock::now();
    const auto end = start + measure;
    while (auto sample = queue.pop_until(end)) {
        if (sample->online) continue;
        ++readings;
        const int unit = std::stoi(sample->node.substr(5));
        if (unit <= 7) ++live;
        bool right = sample->attributes.size() == kAttributes;
        for (std::size_t k = 0; right && k < sample->attributes.size(); ++k) {
            const double value = std::get<double>(sample->attributes[k].value);
            right = std::abs(value - (10.0 * static_cast<double>(k) + unit)) <= 0.5001;
        }
        if (!right) ++result.wrong;
    }
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    const auto after = source.stats();
    source.stop();
    std::uint64_t failed = 0;
    for (const auto& [kind, count] : after.errors) {
        const auto was = errors_before.contains(kind) ? errors_before.at(kind) : 0;
        result.errors[kind] = count - was;
        failed += count - was;
    }
    result.transactions = static_cast<double>(after.polls - before.polls - failed) / seconds;
    result.readings = static_cast<double>(readings) / seconds;
    result.live_readings = static_cast<double>(live) / seconds;
    return result;
}

std::string errors_text(const Run& run) {
    std::string text;
    for (const auto& [kind, count] : run.errors) {
        if (count == 0) continue;
        text += (text.empty() ? "" : ", ") + kind + " " + std::to_string(count);
    }
    return text.empty() ? "none" : text;
}

const char* verdict(bool pass) { return pass ? "PASS" : "MISS"; }

}  // namespace
}  // namespace nodebridge

int main(int argc, char** argv) {
    using namespace nodebridge;
    double measure_s = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::string(argv[i]) == "--measure") measure_s = std::stod(argv[i + 1]);
    }
    const auto measure = Millis(static_cast<long>(measure_s * 1000));
    std::printf("| baud | run | result | beside | ratio | target | errors |\n");
    std::printf("|------|-----|--------|--------|-------|--------|--------|\n");
    try {
        for (int baud : {9600, 19200}) {
            const Run clean = run(baud, kUnits, {}, measure);
            const double r1 = clean.transactions / clean.limit;
            std::printf(
                "| %d | 10 units, as fast as the bus allows | %.2f tx/s | wire limit %.2f tx/s "
                "| %.1f%% | >= 90%% %s | %s |\n",
                baud, clean.transactions, clean.limit, 100 * r1, verdict(r1 >= 0.9),
                errors_text(clean).c_str());
            const Run seven = run(baud, 7, {}, measure);
            const Run dead = run(baud, kUnits, {"--dead", "8,9,10"}, measure, 3);
            const double r2 = dead.live_readings / seven.live_readings;
            std::printf(
                "| %d | 7 live + 3 dead units | %.2f readings/s of the 7 | 7 units alone %.2f "
                "| %.1f%% | >= 90%% %s | %s |\n",
                baud, dead.live_readings, seven.live_readings, 100 * r2, verdict(r2 >= 0.9),
                errors_text(dead).c_str());
            const Run noisy = run(baud, kUnits, {"--corrupt", "0.01", "--seed", "3"}, measure);
            const double r3 = noisy.readings / clean.readings;
            std::printf(
                "| %d | --corrupt 0.01 | %.2f readings/s, %llu wrong | clean %.2f | %.1f%% "
                "| >= 97%%, none wrong %s | %s |\n",
                baud, noisy.readings, static_cast<unsigned long long>(noisy.wrong), clean.readings,
                100 * r3, verdict(r3 >= 0.97 && noisy.wrong == 0), errors_text(noisy).c_str());
            std::fflush(stdout);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rtu_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
