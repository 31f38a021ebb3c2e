#include "journal_logger.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace nodebridge::systemd {
namespace {

using Fields = std::vector<std::string>;

TEST(JournalFields, CarriesPriorityMessageIdentifierAndContextInOrder) {
    const Fields fields = journal_fields(LogLevel::warning, "read timed out",
                                         {.source = "pdu-bus",
                                          .node = "pdu-1",
                                          .topic = "site/pdu-1/volts",
                                          .event = "modbus-timeout"});
    EXPECT_EQ(fields,
              (Fields{"PRIORITY=4", "MESSAGE=read timed out", "SYSLOG_IDENTIFIER=nodebridged",
                      "NODEBRIDGE_SOURCE=pdu-bus", "NODEBRIDGE_NODE=pdu-1",
                      "NODEBRIDGE_TOPIC=site/pdu-1/volts", "NODEBRIDGE_EVENT=modbus-timeout"}));
}

TEST(JournalFields, LeavesOutEmptyContextFields) {
    EXPECT_EQ(journal_fields(LogLevel::debug, "x", {.node = "n1"}, "other"),
              (Fields{"PRIORITY=7", "MESSAGE=x", "SYSLOG_IDENTIFIER=other", "NODEBRIDGE_NODE=n1"}));
    EXPECT_EQ(journal_fields(LogLevel::error, "", {}),
              (Fields{"PRIORITY=3", "MESSAGE=", "SYSLOG_IDENTIFIER=nodebridged"}));
}

TEST(JournalFields, KeepsNewlinesAndCutsOversizedValues) {
    const std::string huge(kMaxFieldValue + 10, 'n');
    const Fields fields = journal_fields(LogLevel::info, "line one\nline two", {.node = huge});
    ASSERT_EQ(fields.size(), 4u);
    EXPECT_EQ(fields[1], "MESSAGE=line one\nline two");
    EXPECT_EQ(fields[3], "NODEBRIDGE_NODE=" + std::string(kMaxFieldValue, 'n'));
}

std::string device_inode(int fd) {
    struct stat info {};
    EXPECT_EQ(fstat(fd, &info), 0);
    return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
}

TEST(IsJournalStream, MatchesOnlyTheDeviceAndInodeOfTheFd) {
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    const std::string mine = device_inode(pipe_fds[1]);
    struct stat info {};
    ASSERT_EQ(fstat(pipe_fds[1], &info), 0);

    EXPECT_TRUE(is_journal_stream(mine.c_str(), pipe_fds[1]));
    const std::string other_inode =
        std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino + 1);
    EXPECT_FALSE(is_journal_stream(other_inode.c_str(), pipe_fds[1]));
    const std::string other_device =
        std::to_string(info.st_dev + 1) + ":" + std::to_string(info.st_ino);
    EXPECT_FALSE(is_journal_stream(other_device.c_str(), pipe_fds[1]));
    EXPECT_FALSE(is_journal_stream(nullptr, pipe_fds[1]));
    for (const char* malformed : {"", ":", "12", "12:", ":34", "a:b", "-1:5", "1:2:3", " 1:2",
                                  "99999999999999999999999:1"}) {
        EXPECT_FALSE(is_journal_stream(malformed, pipe_fds[1])) << malformed;
    }
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    EXPECT_FALSE(is_journal_stream(mine.c_str(), pipe_fds[1])) << "closed fd";
}

class ScopedJournalStream {
  public:
    explicit ScopedJournalStream(const char* value) {
        if (const char* old = std::getenv("JOURNAL_STREAM")) old_ = old;
        if (value) {
            setenv("JOURNAL_STREAM", value, 1);
        } else {
            unsetenv("JOURNAL_STREAM");
        }
    }
    ~ScopedJournalStream() {
        if (old_) {
            setenv("JOURNAL_STREAM", old_->c_str(), 1);
        } else {
            unsetenv("JOURNAL_STREAM");
        }
    }

  private:
    std::optional<std::string> old_;
};

TEST(MakeLogger, PicksTheJournalOnlyWhenStderrIsTheJournalStream) {
    {
        const ScopedJournalStream env(device_inode(STDERR_FILENO).c_str());
        const auto logger = make_logger(LogLevel::info);
        EXPECT_NE(dynamic_cast<JournalLogger*>(logger.get()), nullptr);
        EXPECT_TRUE(logger->enabled(LogLevel::info));
        EXPECT_FALSE(logger->enabled(LogLevel::debug));
    }
    {
        const ScopedJournalStream env(nullptr);
        const auto logger = make_logger(LogLevel::info);
        EXPECT_NE(dynamic_cast<StderrLogger*>(logger.get()), nullptr);
    }
    {
        const ScopedJournalStream env("1:1");
        const auto logger = make_logger(LogLevel::info);
        EXPECT_NE(dynamic_cast<StderrLogger*>(logger.get()), nullptr);
    }
}

// ---- end to end: the real sd_journal_sendv into a test-owned journal socket --------------
//
// libsystemd always sends to /run/systemd/journal/socket. A child process gets a private
// mount namespace with an empty tmpfs on /run, so it can bind its own socket there without
// touching the machine's journal. Needs root (CAP_SYS_ADMIN); skipped otherwise.

constexpr int kNoNamespace = 77;

struct ChildResult {
    int exit_code = -1;
    std::string output;  // what the child wrote to its output fd
};

// Runs `body(output_fd)` in a forked child with a private, empty /run (plus
// /run/systemd/journal/). The child's return value is its exit code.
ChildResult run_with_private_run(const std::function<int(int)>& body) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return {};
    const pid_t pid = fork();
    if (pid < 0) return {};
    if (pid == 0) {
        close(pipe_fds[0]);
        if (unshare(CLONE_NEWNS) != 0 ||
            mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") != 0) {
            _exit(kNoNamespace);
        }
        if (mkdir("/run/systemd", 0755) != 0 || mkdir("/run/systemd/journal", 0755) != 0) _exit(2);
        _exit(body(pipe_fds[1]));
    }
    close(pipe_fds[1]);
    ChildResult result;
    pollfd readable{pipe_fds[0], POLLIN, 0};
    char buffer[65536];
    // Bounded: the child exits within its own 5 s receive timeout.
    while (poll(&readable, 1, 10000) == 1) {
        const ssize_t n = read(pipe_fds[0], buffer, sizeof(buffer));
        if (n <= 0) break;
        result.output.append(buffer, static_cast<std::size_t>(n));
    }
    close(pipe_fds[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
        result.exit_code = WEXITSTATUS(status);
    return result;
}

bool write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = write(fd, data.data() + done, data.size() - done);
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// Parses journald's native protocol: "KEY=value\n", or "KEY\n" + 64-bit little-endian
// length + raw value + "\n" for values with newlines. Returns "KEY=value" strings, or
// nullopt when the datagram is malformed.
std::optional<Fields> parse_native(const std::string& datagram) {
    Fields fields;
    std::size_t pos = 0;
    while (pos < datagram.size()) {
        const std::size_t newline = datagram.find('\n', pos);
        if (newline == std::string::npos) return std::nullopt;
        const std::string line = datagram.substr(pos, newline - pos);
        if (line.find('=') != std::string::npos) {
            fields.push_back(line);
            pos = newline + 1;
            continue;
        }
        pos = newline + 1;
        if (datagram.size() - pos < 8) return std::nullopt;
        std::uint64_t length = 0;
        for (int i = 7; i >= 0; --i) {
            length = (length << 8) |
                     static_cast<unsigned char>(datagram[pos + static_cast<std::size_t>(i)]);
        }
        pos += 8;
        if (datagram.size() - pos < length + 1 || datagram[pos + length] != '\n')
            return std::nullopt;
        fields.push_back(line + "=" + datagram.substr(pos, length));
        pos += length + 1;
    }
    return fields;
}

TEST(JournalLogger, SendsStructuredFieldsToTheJournalSocket) {
    const LogContext context{.source = "pdu-bus", .node = "pdu-1", .event = "modbus-timeout"};
    const ChildResult child = run_with_private_run([&](int out) {
        const int journal = socket(AF_UNIX, SOCK_DGRAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strcpy(address.sun_path, "/run/systemd/journal/socket");
        if (journal < 0 ||
            bind(journal, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
            return 3;
        }
        JournalLogger logger(LogLevel::info);
        logger.log(LogLevel::debug, "below threshold: never sent");
        logger.log(LogLevel::warning, "read timed out\nafter 3 tries", context);
        logger.log(LogLevel::info, "plain");
        for (int i = 0; i < 2; ++i) {
            pollfd readable{journal, POLLIN, 0};
            if (poll(&readable, 1, 5000) != 1) return 4;
            char buffer[65536];
            const ssize_t n = recv(journal, buffer, sizeof(buffer), 0);
            if (n <= 0) return 5;
            const std::string datagram(buffer, static_cast<std::size_t>(n));
            const std::uint32_t size = static_cast<std::uint32_t>(datagram.size());
            if (!write_all(out, std::string(reinterpret_cast<const char*>(&size), 4) + datagram))
                return 6;
        }
        pollfd readable{journal, POLLIN, 0};
        return poll(&readable, 1, 200) == 0 ? 0 : 7;  // nothing more was sent
    });
    if (child.exit_code == kNoNamespace) GTEST_SKIP() << "needs root for a private mount namespace";
    ASSERT_EQ(child.exit_code, 0) << "child failed at step " << child.exit_code;

    std::vector<std::string> datagrams;
    for (std::size_t pos = 0; pos + 4 <= child.output.size();) {
        std::uint32_t size = 0;
        std::memcpy(&size, child.output.data() + pos, 4);
        datagrams.push_back(child.output.substr(pos + 4, size));
        pos += 4 + size;
    }
    ASSERT_EQ(datagrams.size(), 2u);

    const auto first = parse_native(datagrams[0]);
    ASSERT_TRUE(first) << datagrams[0];
    EXPECT_EQ(*first, (Fields{"PRIORITY=4", "MESSAGE=read timed out\nafter 3 tries",
                              "SYSLOG_IDENTIFIER=nodebridged", "NODEBRIDGE_SOURCE=pdu-bus",
                              "NODEBRIDGE_NODE=pdu-1", "NODEBRIDGE_EVENT=modbus-timeout"}));
    const auto second = parse_native(datagrams[1]);
    ASSERT_TRUE(second) << datagrams[1];
    EXPECT_EQ(*second, (Fields{"PRIORITY=6", "MESSAGE=plain", "SYSLOG_IDENTIFIER=nodebridged"}));
}

TEST(JournalLogger, FallsBackToStderrWhenTheJournalRefusesLines) {
    const ChildResult child = run_with_private_run([](int out) {
        // The socket file exists but nobody listens (journald died): sends are refused.
        const int journal = socket(AF_UNIX, SOCK_DGRAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strcpy(address.sun_path, "/run/systemd/journal/socket");
        if (journal < 0 ||
            bind(journal, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
            return 3;
        }
        close(journal);
        if (dup2(out, STDERR_FILENO) < 0) return 4;
        JournalLogger logger(LogLevel::info);
        logger.log(LogLevel::error, "broker refused", {.source = "mqtt"});
        return 0;
    });
    if (child.exit_code == kNoNamespace) GTEST_SKIP() << "needs root for a private mount namespace";
    ASSERT_EQ(child.exit_code, 0);
    EXPECT_EQ(child.output, "error: [mqtt] broker refused\n");
}

}  // namespace
}  // namespace nodebridge::systemd
