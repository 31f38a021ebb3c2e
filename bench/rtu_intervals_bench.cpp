// Per-attribute read intervals on a slow RTU line (issue #23): ten Eastron SDM630 meters
// (the shipped eastron-sdm630 model, 57 float32 attributes each) on nodebridge-sim's
// wire-accurate 9,600-baud line (8N1), read by ModbusSource
//   A. instantaneous values every 1 s, the energy counters (`counter: true`) every 60 s;
//   B. every attribute every 1 s, for contrast;
//   C. instantaneous values every 5 s, energy every 60 s: what the line can carry.
// Each on two transports:
//   pty: the line on a pseudo-terminal, a `modbus-rtu` source (libmodbus on its own thread);
//   serial server: the same line behind a simulated serial device server
//     (`nodebridge-sim modbus-rtu --tcp-port 0 --wire`, one byte per TCP segment at the
//     line's pace), a `modbus-tcp` source with `framing: rtu` on the shared I/O loop and the
//     `request_gap` docs/configuration.md advises (10 ms; --request-gap to change it), since
//     the gateway cannot time the line's t3.5 across the network.
// Ten SDM630s read whole (11 requests each with the model's registers and max_gap 0) need
// several times what 9,600 baud carries, so A and B keep the line busy and the question is
// how much of it the source uses, and how often each meter's instantaneous values come.
// Printed beside each run: the reads per second the configuration asks for and the most the
// line can carry in that mix of requests (bus_load(), from the frame sizes and t3.5), so
// "delivered" reads as a share of min(asked, line limit): a line that can carry what is asked
// must deliver it (polls on time), an over-committed one must be kept busy. Target: >= 90%.
// For the serial server the line limit is the same line's (what the wire carries, no gap);
// beside it, the most it could carry with the source's pause after each reply (request_gap)
// in place of the line's t3.5, with no network delay: request, t3.5, reply, request_gap. So
// what the gap costs and what the rest (TCP, the loop, late wake-ups) costs are told apart.
// Usage: rtu_intervals_bench [--measure SECONDS] (default 60, one energy interval, per run)
//                            [--transport pty|server|both] (default both)
//                            [--request-gap MS] (serial server; default 10)
//                            [--corrupt P] (a share P of the replies with a bit flipped)
// Prints a markdown table.

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bus_load.hpp"
#include "modbus_source.hpp"
#include "rtu_timing.hpp"
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
    double gap_limit = 0;  // serial server: reads/s the line carries with request_gap after
                           // each reply instead of t3.5 (0 on the pty)
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
// How the meters are reached.
struct Transport {
    bool server = false;  // behind the simulated serial device server, else on the pty
    Millis request_gap{0};
    std::string corrupt;  // the simulator's --corrupt P, or empty for a clean line
};

// The line the meters are on (the pty's, or the one behind the serial server).
SerialLine line(const std::string& device) { return SerialLine{.device = device, .baud = kBaud}; }

ModbusSourceConfig meters(const std::string& device, const ModelRef& model, Millis every,
                          std::optional<Millis> energy_every) {
    std::vector<ModbusAttribute> attributes(model->attributes.begin(), model->attributes.end());
    for (ModbusAttribute& attribute : attributes) {
        if (attribute.meaning.counter || attribute.meaning.net) attribute.poll = energy_every;
    }
    ModbusSourceConfig config;
    config.link = line(device);
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

Run run(const ModelRef& model, const Transport& transport, Millis every,
        std::optional<Millis> energy_every, Millis measure) {
    test::TempDir dir;
    const std::string device = dir.file("ttySIM");
    std::vector<std::string> args = {"modbus-rtu",  "--wire",
                                     "--baud",      std::to_string(kBaud),
                                     "--model",     kModel,
                                     "--units",     "1-" + std::to_string(kMeters),
                                     "--model-dir", NODEBRIDGE_SOURCE_DIR "/models"};
    if (transport.server) {
        args.insert(args.end(), {"--tcp-port", "0"});
    } else {
        args.insert(args.end(), {"--link", device});
    }
    if (!transport.corrupt.empty()) args.insert(args.end(), {"--corrupt", transport.corrupt});
    test::SimProcess sim(dir, args);
    // The line's figures come from the same nodes on the line itself (as a modbus-rtu source
    // with no request_gap): bus_load() knows no line behind a TCP endpoint.
    const ModbusSourceConfig on_line = meters(device, model, every, energy_every);
    const modbus::BusLoad load = modbus::bus_load(on_line);
    Run result{
        .asked = load.requests_per_second, .limit = load.line_limit, .share = load.line_share};
    ModbusSourceConfig config = on_line;
    if (transport.server) {
        if (sim.port() <= 0) throw std::runtime_error("the serial server gave no port");
        config.link = ModbusTcpEndpoint{.host = "127.0.0.1",
                                        .port = sim.port(),
                                        .max_in_flight = 1,
                                        .framing = TcpFraming::rtu};
        config.request_gap = transport.request_gap;
        // Each read's trailing t3.5 becomes the source's pause after the reply, request_gap.
        const modbus::CharFraming framing{.baud = kBaud, .parity = false};
        const double pause_s =
            std::chrono::duration<double>(transport.request_gap - modbus::t35(framing)).count();
        const double busy = load.line_share + load.requests_per_second * pause_s;
        result.gap_limit = busy > 0 ? load.requests_per_second / busy : 0;
    }

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

void print(const std::string& name, const Run& run, const Transport& transport) {
    const double possible = std::min(run.asked, run.limit);
    const double ratio = possible > 0 ? run.delivered / possible : 0;
    char limit[128];
    if (transport.server) {
        std::snprintf(limit, sizeof limit, "%.2f reads/s (%.2f with the %ld ms gap)", run.limit,
                      run.gap_limit, static_cast<long>(transport.request_gap.count()));
    } else {
        std::snprintf(limit, sizeof limit, "%.2f reads/s", run.limit);
    }
    std::printf(
        "| %s | %.2f reads/s (%.0f%% of the line) | %s | %.2f reads/s | "
        "%.1f%% of %s | %.0f values/s (energy %.1f) | every %.1f s | >= 90%% %s | %s |\n",
        name.c_str(), run.asked, 100 * run.share, limit, run.delivered, 100 * ratio,
        run.asked <= run.limit ? "asked" : "limit", run.readings, run.energy, run.refresh,
        ratio >= 0.9 ? "PASS" : "MISS", errors_text(run).c_str());
    std::fflush(stdout);
}

}  // namespace
}  // namespace nodebridge

int main(int argc, char** argv) {
    using namespace nodebridge;
    double measure_s = 60;
    std::string transports = "both";
    std::string corrupt;
    long gap_ms = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string option = argv[i];
        if (option == "--measure") {
            measure_s = std::stod(argv[i + 1]);
        } else if (option == "--transport") {
            transports = argv[i + 1];
        } else if (option == "--corrupt") {
            corrupt = argv[i + 1];
        } else if (option == "--request-gap") {
            gap_ms = std::stol(argv[i + 1]);
        } else {
            std::fprintf(stderr, "rtu_intervals_bench: unknown option %s\n", option.c_str());
            return 64;
        }
    }
    if (transports != "pty" && transports != "server" && transports != "both") {
        std::fprintf(stderr, "rtu_intervals_bench: --transport is pty, server or both\n");
        return 64;
    }
    const auto measure = Millis(static_cast<long>(measure_s * 1000));
    std::vector<Transport> runs;
    if (transports != "server") runs.push_back(Transport{.corrupt = corrupt});
    if (transports != "pty")
        runs.push_back(
            Transport{.server = true, .request_gap = Millis(gap_ms), .corrupt = corrupt});
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
        for (const Transport& transport : runs) {
            const std::string on =
                transport.server ? "serial server, " +
                                       std::to_string(transport.request_gap.count()) + " ms gap: "
                                 : std::string("pty: ");
            print(on + "instantaneous 1 s, energy 60 s",
                  run(model, transport, 1s, Millis(60000), measure), transport);
            print(on + "every attribute 1 s", run(model, transport, 1s, std::nullopt, measure),
                  transport);
            print(on + "instantaneous 5 s, energy 60 s",
                  run(model, transport, 5s, Millis(60000), measure), transport);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rtu_intervals_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
