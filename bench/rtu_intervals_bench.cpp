// Per-attribute read intervals on a slow RTU line (issue #23): ten Eastron SDM630 meters
// (the shipped eastron-sdm630 model, 57 float32 attributes each) behind nodebridge-sim's
// wire-accurate 9,600-baud line (a pty, 8N1), read by ModbusSource
//   A. instantaneous values every 1 s, the energy counters (`counter: true`) every 60 s;
//   B. every attribute every 1 s, for contrast;
//   C. instantaneous values every 5 s, energy every 60 s: what the line can carry.
// Ten SDM630s read whole (11 requests each with the model's registers and max_gap 0) need
// several times what 9,600 baud carries, so A and B keep the line busy and the question is
// how much of it the source uses, and how often each meter's instantaneous values come.
// Printed beside each run: the reads per second the configuration asks for and the most the
// line can carry in that mix of requests (bus_load(), from the frame sizes and t3.5), so
// "delivered" reads as a share of min(asked, line limit): a line that can carry what is asked
// must deliver it (polls on time), an over-committed one must be kept busy. Target: >= 90%.
// Usage: rtu_intervals_bench [--measure SECONDS] (default 60, one energy interval, per run).
// Prints a markdown table.

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bus_load.hpp"
#include "modbus_source.hpp"
#include "sim_process.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;

constexpr int kMeters = 10;
constexpr int kBaud = 9600;
constexpr const char* kModel = "eastron-sdm630";

struct Run {
    double asked = 0;      // reads/s the configuration asks for
    double limit = 0;      // reads/s the line carries at most in this mix
    double share = 0;      // the line's time the asked reads take (1 = all of it)
    double delivered = 0;  // reads answered per second
    double readings = 0;   // attribute values per second, all attributes
    double energy = 0;     // of them, energy counters
    double refresh = 0;    // seconds between two readings of one meter's instantaneous values
    std::map<std::string, std::uint64_t> errors;
};

class QuietLogger final : public Logger {
  public:
    QuietLogger() : Logger(LogLevel::error) {}

  protected:
    void write(LogLevel, std::string_view, const LogContext&) override {}
};

ModelRef load_model() {
    LoadOptions options;
    options.model_dirs.push_back(NODEBRIDGE_SOURCE_DIR "/models");
    LoadResult loaded = load_models(options);
    if (!loaded.config) throw std::runtime_error("the model library does not load");
    for (const ModelRef& model : loaded.config->models) {
        if (model->name == kModel) return model;
    }
    throw std::runtime_error(std::string("no model ") + kModel + " in the library");
}

// `energy_every`: the energy counters' interval, unset for the node's (`every`).
ModbusSourceConfig meters(const std::string& device, const ModelRef& model, Millis every,
                          std::optional<Millis> energy_every) {
    std::vector<ModbusAttribute> attributes(model->attributes.begin(), model->attributes.end());
    for (ModbusAttribute& attribute : attributes) {
        if (attribute.meaning.counter || attribute.meaning.net) attribute.poll = energy_every;
    }
    ModbusSourceConfig config;
    config.link = SerialLine{.device = device, .baud = kBaud};
    config.timeout = 500ms;  // an 80-register reply takes 172 ms at 9600 baud
    for (int unit = 1; unit <= kMeters; ++unit) {
        ModbusNode node;
        node.id = "sdm-" + std::to_string(unit);
        node.unit = unit;
        node.poll = every;
        node.model = model;
        node.attributes = attributes;
        config.nodes.push_back(std::move(node));
    }
    return config;
}

Run run(const ModelRef& model, Millis every, std::optional<Millis> energy_every, Millis measure) {
    test::TempDir dir;
    const std::string device = dir.file("ttySIM");
    test::SimProcess sim(
        dir, {"modbus-rtu", "--link", device, "--wire", "--baud", std::to_string(kBaud), "--model",
              kModel, "--units", "1-" + std::to_string(kMeters), "--model-dir",
              NODEBRIDGE_SOURCE_DIR "/models"});
    const ModbusSourceConfig config = meters(device, model, every, energy_every);
    const modbus::BusLoad load = modbus::bus_load(config);
    Run result{
        .asked = load.requests_per_second, .limit = load.line_limit, .share = load.line_share};

    std::set<std::string> energy_names;
    for (const ModbusAttribute& attribute : model->attributes) {
        if (attribute.meaning.counter || attribute.meaning.net) energy_names.insert(attribute.name);
    }
    SampleQueue queue(1000000);
    QuietLogger log;
    ModbusSource source("bench", config, queue, log);
    source.start();
    // Warm up: every meter answered once.
    std::set<std::string> heard;
    const auto give_up = SteadyClock::now() + 30s;
    while (heard.size() < kMeters && SteadyClock::now() < give_up) {
        if (auto sample = queue.pop_for(50ms); sample && !sample->online)
            heard.insert(sample->node);
    }
    const auto before = source.stats();
    std::uint64_t values = 0, energy = 0;
    const auto start = SteadyClock::now();
    const auto end = start + measure;
    while (auto sample = queue.pop_until(end)) {
        if (sample->online) continue;
        values += sample->attributes.size();
        for (const Attribute& attribute : sample->attributes) {
            energy += energy_names.contains(attribute.name) ? 1 : 0;
        }
    }
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    const auto after = source.stats();
    source.stop();
    std::uint64_t failed = 0;
    for (const auto& [kind, count] : after.errors) {
        const auto was = before.errors.contains(kind) ? before.errors.at(kind) : 0;
        result.errors[kind] = count - was;
        failed += count - was;
    }
    result.delivered = static_cast<double>(after.polls - before.polls - failed) / seconds;
    result.readings = static_cast<double>(values) / seconds;
    result.energy = static_cast<double>(energy) / seconds;
    const double instantaneous =
        static_cast<double>(model->attributes.size() - energy_names.size());
    const double per_meter = (result.readings - result.energy) / (kMeters * instantaneous);
    result.refresh = per_meter > 0 ? 1 / per_meter : 0;
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

void print(const char* name, const Run& run) {
    const double possible = std::min(run.asked, run.limit);
    const double ratio = possible > 0 ? run.delivered / possible : 0;
    std::printf(
        "| %s | %.2f reads/s (%.0f%% of the line) | %.2f reads/s | %.2f reads/s | "
        "%.1f%% of %s | %.0f values/s (energy %.1f) | every %.1f s | >= 90%% %s | %s |\n",
        name, run.asked, 100 * run.share, run.limit, run.delivered, 100 * ratio,
        run.asked <= run.limit ? "asked" : "limit", run.readings, run.energy, run.refresh,
        ratio >= 0.9 ? "PASS" : "MISS", errors_text(run).c_str());
    std::fflush(stdout);
}

}  // namespace
}  // namespace nodebridge

int main(int argc, char** argv) {
    using namespace nodebridge;
    double measure_s = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::string(argv[i]) == "--measure") measure_s = std::stod(argv[i + 1]);
    }
    const auto measure = Millis(static_cast<long>(measure_s * 1000));
    try {
        const ModelRef model = load_model();
        std::printf(
            "| run (10 x %s, %d baud 8N1) | asked | line limit (this mix) | delivered "
            "| ratio | attribute values | a meter's instantaneous values | target | errors "
            "|\n",
            kModel, kBaud);
        std::printf(
            "|-----|-------|------------|-----------|-------|------------------|-------"
            "|--------|--------|\n");
        print("instantaneous 1 s, energy 60 s", run(model, 1s, Millis(60000), measure));
        print("every attribute 1 s", run(model, 1s, std::nullopt, measure));
        print("instantaneous 5 s, energy 60 s", run(model, 5s, Millis(60000), measure));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rtu_intervals_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
