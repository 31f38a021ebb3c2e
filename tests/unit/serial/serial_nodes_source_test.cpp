#include "sources/serial/serial_nodes_source.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nodebridge::serial {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class RecordingLogger final : public Logger {
  public:
    RecordingLogger() : Logger(LogLevel::debug) {}

    std::vector<std::string> lines() const {
        std::lock_guard lock(mutex_);
        return lines_;
    }
    int count_containing(std::string_view text) const {
        int n = 0;
        for (const std::string& line : lines()) n += line.find(text) != std::string::npos;
        return n;
    }

  protected:
    void write(LogLevel level, std::string_view message, const LogContext& context) override {
        std::lock_guard lock(mutex_);
        lines_.push_back(std::string(to_string(level)) + "|" + std::string(context.node) + "|" +
                         std::string(message));
    }

  private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

// A pseudo-terminal whose slave is symlinked at `link`, standing in for a USB receiver.
class FakeReceiver {
  public:
    explicit FakeReceiver(fs::path link) : link_(std::move(link)) {
        char name[128];
        if (openpty(&master_, &slave_, name, nullptr, nullptr) != 0) {
            ADD_FAILURE() << "openpty failed";
            return;
        }
        termios tio{};
        tcgetattr(slave_, &tio);
        cfmakeraw(&tio);
        tcsetattr(slave_, TCSANOW, &tio);
        fcntl(master_, F_SETFL, fcntl(master_, F_GETFL) | O_NONBLOCK);
        std::error_code ignored;
        fs::remove(link_, ignored);
        fs::create_symlink(name, link_);
    }
    // Unplugging: the device disappears and its path with it.
    ~FakeReceiver() {
        if (master_ >= 0) ::close(master_);
        if (slave_ >= 0) ::close(slave_);
        std::error_code ignored;
        fs::remove(link_, ignored);
    }

    void send(std::string_view bytes) {
        ASSERT_EQ(::write(master_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    }
    // What the source wrote to the receiver so far.
    std::string received() {
        std::string out;
        char buffer[256];
        ssize_t n;
        while ((n = ::read(master_, buffer, sizeof buffer)) > 0) out.append(buffer, n);
        return out;
    }

  private:
    fs::path link_;
    int master_ = -1;
    int slave_ = -1;
};

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

class SerialNodesSourceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/nb-serial-XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        dir_ = pattern;
        link_ = dir_ / "ttyRX";
        settings_.line.device = link_.string();
        settings_.format = LineFormat::kv;
    }
    void TearDown() override {
        if (source_) source_->stop();
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }

    SerialNodesSource& start() {
        SourceConfig config;
        config.name = "radio";
        config.type = "serial-nodes";
        config.settings = settings_;
        source_ = std::make_unique<SerialNodesSource>(
            config, queue_, log_, SerialTiming{.retry = 50ms, .presence_check = 50ms});
        source_->start();
        return *source_;
    }

    // The next reading; availability samples met on the way are kept in availability_.
    std::optional<Sample> next_sample() {
        const auto deadline = SteadyClock::now() + 5s;
        while (auto sample = queue_.pop_until(deadline)) {
            if (!sample->online) return sample;
            EXPECT_TRUE(sample->attributes.empty());
            availability_.push_back(sample->node + (*sample->online ? " online" : " offline"));
        }
        return std::nullopt;
    }

    // Takes every sample queued within `timeout` as "node online|offline" or "node reading".
    std::vector<std::string> drain(std::chrono::milliseconds timeout) {
        std::vector<std::string> out;
        const auto deadline = SteadyClock::now() + timeout;
        while (auto sample = queue_.pop_until(deadline)) {
            out.push_back(sample->node + (!sample->online   ? " reading"
                                          : *sample->online ? " online"
                                                            : " offline"));
        }
        return out;
    }

    std::uint64_t errors(const std::string& kind) const {
        const auto stats = source_->stats();
        const auto it = stats.errors.find(kind);
        return it == stats.errors.end() ? 0 : it->second;
    }

    fs::path dir_;
    fs::path link_;
    SerialNodesSourceConfig settings_;
    SampleQueue queue_{1000};
    std::vector<std::string> availability_;
    RecordingLogger log_;
    std::unique_ptr<SerialNodesSource> source_;
};

TEST_F(SerialNodesSourceTest, TurnsLinesIntoSamples) {
    settings_.time_key = "ts";
    ReceivedAttribute voltage;
    voltage.key = "v";
    voltage.name = "voltage";
    voltage.unit = "V";
    settings_.attributes = {voltage};
    FakeReceiver receiver(link_);
    start();
    receiver.send("node=0A1B2C v=229.8 pf=0.97 ts=1732536000\r\nnode=n2 t=21");
    receiver.send("\n");

    const auto first = next_sample();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->source, "radio");
    EXPECT_EQ(first->node, "0A1B2C");
    EXPECT_EQ(first->time, WallClock::time_point(std::chrono::seconds(1732536000)));
    EXPECT_EQ(first->attributes,
              (std::vector<Attribute>{{"voltage", 229.8, "V"}, {"pf", 0.97, ""}}));

    const auto before = WallClock::now();
    const auto second = next_sample();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->node, "n2");
    EXPECT_LE(second->time - before, 5s);  // receive time when the line has none

    ASSERT_TRUE(wait_until([&] { return source_->stats().samples == 2; }));
    const auto stats = source_->stats();
    EXPECT_EQ(stats.polls, 2u);
    EXPECT_EQ(stats.nodes_total, 2);
    EXPECT_EQ(stats.nodes_online, 2);
    EXPECT_EQ(stats.nodes,
              (std::vector<std::pair<std::string, bool>>{{"0A1B2C", true}, {"n2", true}}));
    EXPECT_TRUE(stats.errors.empty());
    // Each node's first report announces it online, before its reading.
    EXPECT_EQ(availability_, (std::vector<std::string>{"0A1B2C online", "n2 online"}));
}

TEST_F(SerialNodesSourceTest, DropsAndCountsLongLines) {
    settings_.max_line = 64;
    FakeReceiver receiver(link_);
    start();
    receiver.send("node=big x=" + std::string(200, '1') + "\nnode=small x=1\n");
    const auto sample = next_sample();
    ASSERT_TRUE(sample);
    EXPECT_EQ(sample->node, "small");
    ASSERT_TRUE(wait_until([&] { return errors("long_line") == 1; }));
    EXPECT_EQ(source_->stats().samples, 1u);
}

TEST_F(SerialNodesSourceTest, CountsGarbageBadUtf8AndMissingNodeIds) {
    FakeReceiver receiver(link_);
    start();
    receiver.send("\x01\x02~~noise~~\n\xff\xfe\nvoltage=1\n\r\nnode=\"\" v=1\nnode=ok v=1\n");
    const auto sample = next_sample();
    ASSERT_TRUE(sample);
    EXPECT_EQ(sample->node, "ok");
    ASSERT_TRUE(wait_until([&] { return source_->stats().polls == 6; }));
    EXPECT_EQ(errors("garbage"), 1u);
    EXPECT_EQ(errors("invalid_utf8"), 1u);
    EXPECT_EQ(errors("no_node_id"), 1u);
    EXPECT_EQ(errors("bad_node_id"), 1u);
    EXPECT_EQ(source_->stats().samples, 1u);
    EXPECT_EQ(log_.count_containing("garbage line: \\x01\\x02~~noise~~"), 1);
}

TEST_F(SerialNodesSourceTest, ReopensAReceiverThatWasUnpluggedAndReplugged) {
    auto receiver = std::make_unique<FakeReceiver>(link_);
    start();
    receiver->send("node=a v=1\n");
    ASSERT_TRUE(next_sample());

    receiver.reset();  // unplugged: the pty closes and the link disappears
    ASSERT_TRUE(wait_until([&] { return log_.count_containing("reopening when it returns") > 0; }));
    std::this_thread::sleep_for(200ms);  // a few failed reopen attempts

    receiver = std::make_unique<FakeReceiver>(link_);
    receiver->send("node=a v=2\n");
    const auto sample = next_sample();
    ASSERT_TRUE(sample);
    EXPECT_EQ(sample->attributes.at(0).value, Value(std::int64_t{2}));
    EXPECT_EQ(errors("reopen"), 1u);
}

TEST_F(SerialNodesSourceTest, PicksUpAReceiverThatAppearsLater) {
    start();
    ASSERT_TRUE(wait_until([&] { return log_.count_containing("cannot open") > 0; }));
    std::this_thread::sleep_for(300ms);  // several retries, logged once then rate-limited
    EXPECT_LE(log_.count_containing("cannot open"), 1 + Logger::kBurst);

    FakeReceiver receiver(link_);
    receiver.send("node=late v=1\n");
    const auto sample = next_sample();
    ASSERT_TRUE(sample);
    EXPECT_EQ(sample->node, "late");
    EXPECT_EQ(errors("reopen"), 0u);
}

TEST_F(SerialNodesSourceTest, ReopensWhenThePathNowLeadsToAnotherDevice) {
    FakeReceiver first(link_);
    start();
    first.send("node=a v=1\n");
    ASSERT_TRUE(next_sample());
    // A second adapter takes over the path while the first is still there.
    const fs::path other_link = dir_ / "other";
    FakeReceiver second(other_link);
    fs::remove(link_);
    fs::create_symlink(fs::read_symlink(other_link), link_);
    ASSERT_TRUE(wait_until([&] { return errors("reopen") == 1; }));
    second.send("node=b v=1\n");
    const auto sample = next_sample();
    ASSERT_TRUE(sample);
    EXPECT_EQ(sample->node, "b");
}

TEST_F(SerialNodesSourceTest, TakesSilentNodesOfflineAndBackOnline) {
    settings_.offline_after = 300ms;
    FakeReceiver receiver(link_);
    start();
    receiver.send("node=a v=1\nnode=b v=1\n");
    ASSERT_TRUE(wait_until([&] { return source_->stats().nodes_online == 2; }));
    ASSERT_TRUE(wait_until([&] { return source_->stats().nodes_online == 0; }));
    EXPECT_EQ(source_->stats().nodes_total, 2);
    EXPECT_EQ(log_.count_containing("|a|node offline"), 1);

    receiver.send("node=a v=2\n");
    ASSERT_TRUE(wait_until([&] { return source_->stats().nodes_online == 1; }));
    const auto nodes = source_->nodes();
    ASSERT_EQ(nodes.size(), 2u);
    for (const NodeStatus& node : nodes) EXPECT_EQ(node.online, node.node == "a") << node.node;
    EXPECT_EQ(source_->stats().nodes,
              (std::vector<std::pair<std::string, bool>>{{"a", true}, {"b", false}}));

    // The mapping hears each change once: online before the first reading, offline after
    // the silence, online again before the next reading.
    auto seen = drain(50ms);  // all queued already; well inside a's next offline_after
    ASSERT_EQ(seen.size(), 8u) << ::testing::PrintToString(seen);
    EXPECT_EQ(std::vector<std::string>(seen.begin(), seen.begin() + 4),
              (std::vector<std::string>{"a online", "a reading", "b online", "b reading"}));
    std::sort(seen.begin() + 4, seen.begin() + 6);  // both go offline in one check
    EXPECT_EQ(std::vector<std::string>(seen.begin() + 4, seen.end()),
              (std::vector<std::string>{"a offline", "b offline", "a online", "a reading"}));
}

TEST_F(SerialNodesSourceTest, WritesThePollRequestPeriodically) {
    settings_.poll = LinePoll{"READ\r\n", 100ms};
    FakeReceiver receiver(link_);
    start();
    std::string received;
    ASSERT_TRUE(wait_until([&] {
        received += receiver.received();
        return received.size() >= 3 * 6;
    }));
    EXPECT_EQ(received.substr(0, 18), "READ\r\nREAD\r\nREAD\r\n");
}

TEST_F(SerialNodesSourceTest, StopsPromptly) {
    FakeReceiver receiver(link_);
    start();
    std::this_thread::sleep_for(50ms);
    const auto begin = std::chrono::steady_clock::now();
    source_->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - begin, 200ms);
}

TEST_F(SerialNodesSourceTest, CountsAConfigThatCannotWork) {
    settings_.format = LineFormat::csv;  // without columns
    start();
    ASSERT_TRUE(wait_until([&] { return errors("config") == 1; }));
    EXPECT_EQ(log_.count_containing("columns"), 1);
}

}  // namespace
}  // namespace nodebridge::serial
