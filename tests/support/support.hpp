#pragma once
// What the tests share: temp dirs, free loopback ports, child processes, a real mosquitto
// broker and an MQTT subscriber. Every wait takes a timeout; every destructor cleans up.

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nodebridge::test {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

// Polls `condition` every few milliseconds until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, Millis timeout);

// A TCP port on 127.0.0.1 that was free a moment ago (bound with port 0, then released).
int free_port();

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    // path()/name
    std::string file(std::string_view name) const;
    // Writes `content` to path()/name and returns the full path.
    std::string write(std::string_view name, std::string_view content) const;

  private:
    std::string path_;
};

std::string read_file(const std::string& path);

// `text` with every `from` replaced by `to` (for filling @PLACEHOLDER@s in test configs).
std::string replace_all(std::string text, const std::string& from, const std::string& to);

// A child process whose stdout and stderr go to one log file. The destructor kills it
// (SIGKILL) and reaps it if it is still running.
class Process {
  public:
    // Starts argv[0] (a path) with `argv`. `env` entries ("K=V") are added to the
    // inherited environment. Throws std::runtime_error if it cannot be started.
    Process(std::vector<std::string> argv, std::string log_path, std::vector<std::string> env = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    bool running();
    void signal(int sig);
    // Waits for the process to end. Returns its exit code, or 128+signal if a signal
    // ended it; nullopt if it is still running after `timeout`.
    std::optional<int> wait_for_exit(Millis timeout);
    // Everything it has printed so far.
    std::string output() const;
    // Waits until its output contains `text`.
    bool wait_for_output(std::string_view text, Millis timeout);

  private:
    pid_t pid_ = -1;
    std::optional<int> exit_code_;
    std::string log_path_;
};

// Makes a directory immutable (the FS_IMMUTABLE_FL inode flag, as `chattr +i`) for its
// lifetime: no entry can be created, renamed or removed in it, by root too, while files
// already open in it stay writable. So a test running as root can make a directory
// unwritable under a running process. ok() is false (with why()) where the filesystem or the
// process's capabilities (CAP_LINUX_IMMUTABLE) do not allow it; the destructor clears it.
class ImmutableDir {
  public:
    explicit ImmutableDir(std::string path);
    ~ImmutableDir();
    ImmutableDir(const ImmutableDir&) = delete;
    ImmutableDir& operator=(const ImmutableDir&) = delete;

    bool ok() const { return why_.empty(); }
    const std::string& why() const { return why_; }
    // Makes the directory writable again now.
    void release();

  private:
    std::string path_;
    std::string why_;
    bool set_ = false;
};

// Publishes one QoS 1 message to the broker on 127.0.0.1:`port` with mosquitto_pub (a client
// of its own, as another program would) and waits, 10 s at most, for it to be handed over.
// Empty on success, else what went wrong with mosquitto_pub's output (kept in `log_path`).
std::string publish_with_mosquitto_pub(int port, const std::string& topic,
                                       const std::string& payload, bool retain,
                                       const std::string& log_path);

// A real mosquitto broker on 127.0.0.1. Persistence keeps QoS>0 sessions and retained
// messages across stop()/start(), like a production broker.
class Broker {
  public:
    struct Options {
        bool persistence = true;
        std::string extra_config;  // appended to the generated mosquitto.conf
    };
    Broker();
    explicit Broker(Options options);
    ~Broker();

    // Starts mosquitto and waits (up to 10 s) until it accepts connections.
    void start();
    // Sends `sig` and waits for it to exit (SIGKILL after 10 s).
    void stop(int sig = SIGTERM);
    bool running() const { return process_ != nullptr; }
    int port() const { return port_; }
    std::string log() const;

  private:
    Options options_;
    TempDir dir_;
    int port_;
    int generation_ = 0;
    std::unique_ptr<Process> process_;
};

struct Received {
    std::string topic;
    std::string payload;
    int qos = 0;
    bool retain = false;
};

// An MQTT 5 subscriber with "retain as published", so tests see the publisher's retain
// flag. The constructor returns once the broker acknowledged the subscriptions.
class Subscriber {
  public:
    struct Options {
        int qos = 2;
        std::string client_id;    // empty = random, clean session
        bool persistent = false;  // keep the session (and queued messages) across reconnects
    };
    Subscriber(int port, std::vector<std::string> topics);
    Subscriber(int port, std::vector<std::string> topics, Options options);
    ~Subscriber();
    Subscriber(const Subscriber&) = delete;
    Subscriber& operator=(const Subscriber&) = delete;

    std::vector<Received> messages() const;
    std::vector<Received> on_topic(std::string_view topic) const;
    // Waits until `condition` holds for the messages received so far.
    bool wait_for(const std::function<bool(const std::vector<Received>&)>& condition,
                  Millis timeout);
    // Waits for a message on `topic` (optionally with `payload`) and returns the latest one.
    std::optional<Received> wait_for_message(std::string_view topic, Millis timeout,
                                             std::optional<std::string_view> payload = {});
    void clear();
    bool connected() const;

    struct State;

  private:
    std::shared_ptr<State> state_;
};

}  // namespace nodebridge::test
