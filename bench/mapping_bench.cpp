// Samples and attributes per second through Mapper::map for 100 nodes x 20 attributes, in
// the shapes the benchmark uses: per-attribute value topics, per-attribute JSON,
// per-node JSON, and on_change with unchanged readings (the suppressing hot path).
// Items per second are attributes per second.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "nodebridge/mapping.hpp"

namespace nodebridge {
namespace {

constexpr int kNodes = 100;
constexpr int kAttributes = 20;

std::vector<Sample> make_samples(int round) {
    std::vector<Sample> samples;
    samples.reserve(kNodes);
    for (int node = 0; node < kNodes; ++node) {
        Sample sample{"pdu-bus",
                      "pdu-" + std::to_string(node),
                      WallClock::time_point{std::chrono::milliseconds(1795000000123)},
                      {}};
        for (int a = 0; a < kAttributes; ++a) {
            sample.attributes.push_back(
                {"attribute-" + std::to_string(a), 230.0 + a * 0.25 + round * 1.5, "V"});
        }
        samples.push_back(std::move(sample));
    }
    return samples;
}

void run(benchmark::State& state, const MappingRule& rule, bool changing) {
    Mapper mapper("gw-01", {rule});
    const std::vector<Sample> even = make_samples(0);
    const std::vector<Sample> odd = make_samples(changing ? 1 : 0);
    std::vector<Message> out;
    out.reserve(kNodes * kAttributes);
    auto now = SteadyClock::time_point{std::chrono::hours(1)};
    std::size_t messages = 0;
    bool flip = false;
    for (auto _ : state) {
        const auto& samples = flip ? odd : even;
        flip = !flip;
        out.clear();
        for (const Sample& sample : samples) mapper.map(sample, now, out);
        now += std::chrono::seconds(1);
        messages += out.size();
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kNodes * kAttributes);
    state.counters["messages/s"] =
        benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate);
}

MappingRule rule(std::string topic, PayloadForm payload) {
    MappingRule result;
    result.topic = std::move(topic);
    result.payload = payload;
    return result;
}

void BM_PerAttributeValue(benchmark::State& state) {
    run(state, rule("dc1/{gateway}/{node}/{attribute}", PayloadForm::value), true);
}

void BM_PerAttributeJson(benchmark::State& state) {
    run(state, rule("dc1/{gateway}/{node}/{attribute}", PayloadForm::json), true);
}

void BM_PerNodeJson(benchmark::State& state) {
    run(state, rule("dc1/{gateway}/{node}", PayloadForm::json), true);
}

void BM_OnChangeDeadbandHeartbeatChanging(benchmark::State& state) {
    MappingRule r = rule("dc1/{gateway}/{node}/{attribute}", PayloadForm::value);
    r.on_change = true;
    r.deadband = 0.5;
    r.heartbeat = std::chrono::seconds(60);
    run(state, r, true);
}

void BM_OnChangeDeadbandHeartbeatUnchanged(benchmark::State& state) {
    MappingRule r = rule("dc1/{gateway}/{node}/{attribute}", PayloadForm::value);
    r.on_change = true;
    r.deadband = 0.5;
    r.heartbeat = std::chrono::seconds(60);
    run(state, r, false);
}

BENCHMARK(BM_PerAttributeValue);
BENCHMARK(BM_PerAttributeJson);
BENCHMARK(BM_PerNodeJson);
BENCHMARK(BM_OnChangeDeadbandHeartbeatChanging);
BENCHMARK(BM_OnChangeDeadbandHeartbeatUnchanged);

}  // namespace
}  // namespace nodebridge

BENCHMARK_MAIN();
