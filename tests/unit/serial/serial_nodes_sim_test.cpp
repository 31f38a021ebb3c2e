// nodebridge-sim serial-nodes read by the real SerialNodesSource over its pseudo-terminal.

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <set>

#include "sources/serial/serial_nodes_source.hpp"
#include "support/support.hpp"

namespace nodebridge::serial {
namespace {

using namespace std::chrono_literals;
using test::Process;
using test::TempDir;

class QuietLogger final : public Logger {
  public:
    QuietLogger() : Logger(LogLevel::debug) {}

  protected:
    void write(LogLevel, std::string_view, const LogContext&) override {}
};

class SerialNodesSimTest : public ::testing::Test {
  protected:
    std::unique_ptr<Process> start_sim(std::vector<std::string> extra) {
        std::vector<std::string> argv{NODEBRIDGE_SIM, "serial-nodes", "--link", link_,
                                      "--interval",   "100ms",        "--seed", "7"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        auto sim = std::make_unique<Process>(argv, dir_.file("sim-" + std::to_string(++sims_)));
        EXPECT_TRUE(sim->wait_for_output("ready serial-nodes " + link_, 5s)) << sim->output();
        return sim;
    }

    void start_source(SerialNodesSourceConfig settings) {
        settings.line.device = link_;
        SourceConfig config{.name = "radio", .type = "serial-nodes", .settings = settings};
        source_ = std::make_unique<SerialNodesSource>(
            config, queue_, log_, SerialTiming{.retry = 50ms, .presence_check = 50ms});
        source_->start();
    }

    // Pops samples until a reading of every id in `nodes` has been seen; returns the last
    // reading of each (availability samples are skipped).
    std::map<std::string, Sample> collect(const std::set<std::string>& nodes) {
        std::map<std::string, Sample> seen;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (seen.size() < nodes.size() && std::chrono::steady_clock::now() < deadline) {
            if (auto sample = queue_.pop_for(200ms)) {
                if (sample->online) continue;
                if (nodes.contains(sample->node)) seen[sample->node] = std::move(*sample);
            }
        }
        return seen;
    }

    std::uint64_t errors(const std::string& kind) const {
        const auto stats = source_->stats();
        const auto it = stats.errors.find(kind);
        return it == stats.errors.end() ? 0 : it->second;
    }

    static std::string names(const Sample& sample) {
        std::string out;
        for (const Attribute& a : sample.attributes) out += (out.empty() ? "" : ",") + a.name;
        return out;
    }

    void TearDown() override {
        if (source_) source_->stop();
    }

    TempDir dir_;
    std::string link_ = dir_.file("ttyRX");
    int sims_ = 0;
    SampleQueue queue_{10'000};
    QuietLogger log_;
    std::unique_ptr<SerialNodesSource> source_;
};

const std::set<std::string> kFourNodes{"0A1B00", "0A1B01", "0A1B02", "0A1B03"};

TEST_F(SerialNodesSimTest, EmitsKvReportsFromPowerAndEnvironmentalMonitors) {
    auto sim = start_sim({"--nodes", "4", "--format", "kv", "--garbage", "0", "--dropouts", "no"});
    start_source({});
    const auto seen = collect(kFourNodes);
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(names(seen.at("0A1B00")), "voltage,current,power,energy,pf,rssi");
    EXPECT_EQ(names(seen.at("0A1B01")), "temperature,humidity,rssi");
    const Value& voltage = seen.at("0A1B02").attributes.at(0).value;
    ASSERT_TRUE(std::holds_alternative<double>(voltage));
    EXPECT_NEAR(std::get<double>(voltage), 230, 10);
    EXPECT_TRUE(source_->stats().errors.empty());
}

TEST_F(SerialNodesSimTest, EmitsJsonReportsWithNestedObjects) {
    auto sim =
        start_sim({"--nodes", "4", "--format", "json", "--garbage", "0", "--dropouts", "no"});
    SerialNodesSourceConfig settings;
    settings.format = LineFormat::json;
    start_source(settings);
    const auto seen = collect(kFourNodes);
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(names(seen.at("0A1B00")), "model,voltage,current,power,energy,pf,rssi");
    EXPECT_EQ(names(seen.at("0A1B03")), "model,env.temperature,env.humidity,rssi");
    EXPECT_TRUE(source_->stats().errors.empty());
}

TEST_F(SerialNodesSimTest, EmitsCsvReportsWithEmptyFieldsForMissingReadings) {
    auto sim = start_sim({"--nodes", "4", "--format", "csv", "--garbage", "0", "--dropouts", "no"});
    SerialNodesSourceConfig settings;
    settings.format = LineFormat::csv;
    settings.columns = {"node", "voltage",     "current",  "power", "energy",
                        "pf",   "temperature", "humidity", "rssi"};
    start_source(settings);
    const auto seen = collect(kFourNodes);
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(names(seen.at("0A1B02")), "voltage,current,power,energy,pf,rssi");
    EXPECT_EQ(names(seen.at("0A1B01")), "temperature,humidity,rssi");
    EXPECT_TRUE(source_->stats().errors.empty());
}

TEST_F(SerialNodesSimTest, ReconnectsWhenTheReceiverIsReplugged) {
    const std::vector<std::string> args{"--nodes", "2", "--garbage", "0", "--dropouts", "no"};
    auto sim = start_sim(args);
    start_source({});
    ASSERT_EQ(collect({"0A1B00"}).size(), 1u);

    sim->signal(SIGTERM);  // unplugged: the sim removes its link on the way out
    EXPECT_EQ(sim->wait_for_exit(5s), 0);
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(link_)));
    std::this_thread::sleep_for(300ms);
    while (queue_.pop_for(0ms)) {
    }

    sim = start_sim(args);
    EXPECT_EQ(collect({"0A1B00", "0A1B01"}).size(), 2u);
    EXPECT_EQ(errors("reopen"), 1u);
}

TEST_F(SerialNodesSimTest, GarbageIsCountedAndDropoutsTakeNodesOfflineAndBack) {
    auto sim = start_sim({"--nodes", "10", "--garbage", "20", "--dropouts", "yes"});
    SerialNodesSourceConfig settings;
    settings.offline_after = 350ms;
    start_source(settings);
    ASSERT_TRUE(test::wait_until([&] { return source_->stats().nodes_total == 10; }, 10s));
    ASSERT_TRUE(test::wait_until([&] { return source_->stats().nodes_online < 10; }, 20s));
    ASSERT_TRUE(test::wait_until([&] { return source_->stats().nodes_online == 10; }, 20s));
    EXPECT_GT(errors("garbage") + errors("invalid_utf8"), 0u);
    EXPECT_GT(source_->stats().samples, 0u);
}

}  // namespace
}  // namespace nodebridge::serial
