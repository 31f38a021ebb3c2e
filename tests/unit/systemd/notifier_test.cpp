#include "notifier.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "support/support.hpp"

namespace nodebridge::systemd {
namespace {

using namespace std::chrono_literals;

// Sets (or, with nullopt, unsets) an environment variable and restores it on destruction.
class ScopedEnv {
  public:
    ScopedEnv(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
        if (const char* old = std::getenv(name_.c_str())) old_ = old;
        if (value) {
            setenv(name_.c_str(), value->c_str(), 1);
        } else {
            unsetenv(name_.c_str());
        }
    }
    ~ScopedEnv() {
        if (old_) {
            setenv(name_.c_str(), old_->c_str(), 1);
        } else {
            unsetenv(name_.c_str());
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

  private:
    std::string name_;
    std::optional<std::string> old_;
};

// What systemd listens on: a unix datagram socket in a temp dir, named by $NOTIFY_SOCKET
// for as long as this object lives.
class NotifySocket {
  public:
    NotifySocket() : path_(dir_.file("notify")) {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        EXPECT_GE(fd_, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        EXPECT_LT(path_.size(), sizeof(address.sun_path));
        path_.copy(address.sun_path, sizeof(address.sun_path) - 1);
        EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
        env_.emplace("NOTIFY_SOCKET", path_);
    }
    ~NotifySocket() { close(fd_); }

    // The next datagram, or nullopt when none arrives within `timeout`.
    std::optional<std::string> receive(std::chrono::milliseconds timeout = 2s) {
        pollfd ready{fd_, POLLIN, 0};
        if (poll(&ready, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
        char buffer[4096];
        const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
        if (n < 0) return std::nullopt;
        return std::string(buffer, static_cast<std::size_t>(n));
    }

  private:
    test::TempDir dir_;
    std::string path_;
    int fd_ = -1;
    std::optional<ScopedEnv> env_;
};

TEST(Notifier, SendsExactDatagramsForReadyStatusAndStopping) {
    NotifySocket manager;
    ScopedEnv no_watchdog("WATCHDOG_USEC", std::nullopt);
    Notifier notifier;
    ASSERT_TRUE(notifier.enabled());

    EXPECT_TRUE(notifier.ready());
    EXPECT_TRUE(notifier.status("broker connected, nodes 3/4 online, 12.5 msg/s, 2 errors"));
    EXPECT_TRUE(notifier.stopping());

    EXPECT_EQ(manager.receive(), "READY=1");
    EXPECT_EQ(manager.receive(), "STATUS=broker connected, nodes 3/4 online, 12.5 msg/s, 2 errors");
    EXPECT_EQ(manager.receive(), "STOPPING=1");
    EXPECT_EQ(manager.receive(100ms), std::nullopt);
}

TEST(Notifier, StatusCannotInjectAssignmentsAndIsBounded) {
    NotifySocket manager;
    Notifier notifier;

    EXPECT_TRUE(notifier.status("node a\nREADY=1\tx\x7f"));
    EXPECT_EQ(manager.receive(), "STATUS=node a READY=1 x ");

    EXPECT_TRUE(notifier.status(std::string(kMaxStatus + 100, 'x')));
    EXPECT_EQ(manager.receive(), "STATUS=" + std::string(kMaxStatus, 'x'));
}

TEST(Notifier, ReloadingCarriesTheMonotonicClock) {
    NotifySocket manager;
    Notifier notifier;
    const auto monotonic_usec = [] {
        timespec now{};
        clock_gettime(CLOCK_MONOTONIC, &now);
        return static_cast<unsigned long long>(now.tv_sec) * 1000000ull +
               static_cast<unsigned long long>(now.tv_nsec) / 1000ull;
    };
    const auto before = monotonic_usec();
    EXPECT_TRUE(notifier.reloading());
    const auto after = monotonic_usec();

    const auto datagram = manager.receive();
    ASSERT_TRUE(datagram);
    const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
    ASSERT_EQ(datagram->substr(0, prefix.size()), prefix);
    const auto stamp = std::stoull(datagram->substr(prefix.size()));
    EXPECT_GE(stamp, before);
    EXPECT_LE(stamp, after);
}

TEST(Notifier, IsANoOpWithoutNotifySocket) {
    NotifySocket manager;  // listening, but not named in the environment below
    ScopedEnv unset("NOTIFY_SOCKET", std::nullopt);
    ScopedEnv watchdog("WATCHDOG_USEC", "30000000");
    Notifier notifier;

    EXPECT_FALSE(notifier.enabled());
    EXPECT_EQ(notifier.watchdog_interval(), std::nullopt);
    EXPECT_FALSE(notifier.ready());
    EXPECT_FALSE(notifier.status("x"));
    EXPECT_FALSE(notifier.reloading());
    EXPECT_FALSE(notifier.stopping());
    EXPECT_FALSE(notifier.watchdog());
    EXPECT_EQ(manager.receive(100ms), std::nullopt);
}

TEST(Notifier, ReadsTheWatchdogIntervalMeantForThisProcess) {
    NotifySocket manager;
    {
        ScopedEnv usec("WATCHDOG_USEC", "30000000");
        ScopedEnv pid("WATCHDOG_PID", std::to_string(getpid()));
        EXPECT_EQ(Notifier().watchdog_interval(), std::chrono::microseconds(30s));
    }
    {
        ScopedEnv usec("WATCHDOG_USEC", "30000000");
        ScopedEnv pid("WATCHDOG_PID", std::to_string(getpid() + 1));
        EXPECT_EQ(Notifier().watchdog_interval(), std::nullopt);
    }
    {
        ScopedEnv usec("WATCHDOG_USEC", std::nullopt);
        EXPECT_EQ(Notifier().watchdog_interval(), std::nullopt);
    }
}

TEST(Notifier, WatchdogPingsAtMostEveryQuarterInterval) {
    NotifySocket manager;
    ScopedEnv usec("WATCHDOG_USEC", "8000000");
    ScopedEnv pid("WATCHDOG_PID", std::nullopt);
    Notifier::Clock::time_point now{};
    Notifier notifier([&] { return now; });
    ASSERT_EQ(notifier.watchdog_interval(), std::chrono::microseconds(8s));

    EXPECT_TRUE(notifier.watchdog());
    EXPECT_EQ(manager.receive(), "WATCHDOG=1");

    now += 1999ms;
    EXPECT_FALSE(notifier.watchdog());
    EXPECT_EQ(manager.receive(100ms), std::nullopt);

    now += 1ms;
    EXPECT_TRUE(notifier.watchdog());
    EXPECT_EQ(manager.receive(), "WATCHDOG=1");
}

TEST(Notifier, WatchdogIsSilentWhenNotConfigured) {
    NotifySocket manager;
    ScopedEnv usec("WATCHDOG_USEC", std::nullopt);
    Notifier notifier;
    EXPECT_FALSE(notifier.watchdog());
    EXPECT_EQ(manager.receive(100ms), std::nullopt);
}

}  // namespace
}  // namespace nodebridge::systemd
