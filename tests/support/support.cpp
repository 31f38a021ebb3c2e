#include "support/support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace nodebridge::test {

namespace fs = std::filesystem;

bool wait_until(const std::function<bool()>& condition, Millis timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
}

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot bind a free port on 127.0.0.1");
    }
    const int port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

static bool port_accepts(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// ---- TempDir ---------------------------------------------------------------------------

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/nodebridge-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

std::string TempDir::file(std::string_view name) const { return path_ + "/" + std::string(name); }

std::string TempDir::write(std::string_view name, std::string_view content) const {
    const std::string path = file(name);
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
    return path;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

// ---- Process ---------------------------------------------------------------------------

Process::Process(std::vector<std::string> argv, std::string log_path, std::vector<std::string> env)
    : log_path_(std::move(log_path)) {
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);

    std::vector<std::string> environment;
    for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
    for (auto& extra : env) environment.push_back(extra);
    std::vector<char*> envp;
    for (auto& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
}

Process::~Process() {
    if (running()) {
        ::kill(pid_, SIGKILL);
        wait_for_exit(10s);
    }
}

bool Process::running() {
    if (exit_code_) return false;
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == 0) return true;
    if (done == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    } else {
        exit_code_ = -1;
    }
    return false;
}

void Process::signal(int sig) {
    if (running()) ::kill(pid_, sig);
}

std::optional<int> Process::wait_for_exit(Millis timeout) {
    wait_until([&] { return !running(); }, timeout);
    return exit_code_;
}

std::string Process::output() const { return read_file(log_path_); }

bool Process::wait_for_output(std::string_view text, Millis timeout) {
    return wait_until([&] { return output().find(text) != std::string::npos; }, timeout);
}

std::string publish_with_mosquitto_pub(int port, const std::string& topic,
                                       const std::string& payload, bool retain,
                                       const std::string& log_path) {
    std::vector<std::string> argv = {"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-q", "1"};
    for (const std::string& argument : {std::string("-p"), std::to_string(port), std::string("-t"),
                                        topic, std::string("-m"), payload}) {
        argv.push_back(argument);
    }
    if (retain) argv.push_back("-r");
    Process pub(argv, log_path);
    const auto code = pub.wait_for_exit(10s);
    if (code == 0) return {};
    return "mosquitto_pub " + (code ? "exited " + std::to_string(*code) : "ran over 10 s") + ": " +
           pub.output();
}

// ---- Broker ----------------------------------------------------------------------------

Broker::Broker() : Broker(Options{}) {}

Broker::Broker(Options options) : options_(std::move(options)), port_(free_port()) {}

Broker::~Broker() {
    if (process_) stop(SIGKILL);
}

void Broker::start() {
    if (process_) return;
    std::string conf = "listener " + std::to_string(port_) + " 127.0.0.1\n" +
                       "allow_anonymous true\n" + "user root\n" + "max_queued_messages 1000000\n" +
                       "log_dest stdout\nlog_type error\nlog_type warning\nlog_type notice\n" +
                       "log_type information\nconnection_messages true\n";
    if (options_.persistence) {
        conf += "persistence true\npersistence_location " + dir_.path() + "/\n" +
                "autosave_interval 1\n";
    }
    conf += options_.extra_config;
    conf += '\n';
    const std::string conf_path = dir_.write("mosquitto.conf", conf);
    process_ =
        std::make_unique<Process>(std::vector<std::string>{"/usr/sbin/mosquitto", "-c", conf_path},
                                  dir_.file("mosquitto-" + std::to_string(++generation_) + ".log"));
    if (!wait_until([&] { return port_accepts(port_) || !process_->running(); }, 10s) ||
        !process_->running()) {
        const std::string log = process_->output();
        process_.reset();
        throw std::runtime_error("mosquitto did not start on port " + std::to_string(port_) +
                                 ":\n" + log);
    }
}

void Broker::stop(int sig) {
    if (!process_) return;
    process_->signal(sig);
    if (!process_->wait_for_exit(10s)) {
        process_->signal(SIGKILL);
        process_->wait_for_exit(10s);
    }
    process_.reset();
}

std::string Broker::log() const {
    std::string all;
    for (int g = 1; g <= generation_; ++g)
        all += read_file(dir_.file("mosquitto-" + std::to_string(g) + ".log"));
    return all;
}

// ---- Subscriber ------------------------------------------------------------------------

struct Subscriber::State {
    mutable std::mutex mutex;
    std::condition_variable changed;
    std::vector<Received> messages;
    std::vector<std::string> topics;
    int qos = 2;
    int subscribed = 0;
    bool connected = false;
    mosquitto* client = nullptr;
};

namespace {

struct LibraryInit {
    LibraryInit() { mosquitto_lib_init(); }
};

std::string random_client_id() {
    std::random_device random;
    return "test-sub-" + std::to_string(random());
}

}  // namespace

Subscriber::Subscriber(int port, std::vector<std::string> topics)
    : Subscriber(port, std::move(topics), Options{}) {}

Subscriber::Subscriber(int port, std::vector<std::string> topics, Options options)
    : state_(std::make_shared<State>()) {
    static LibraryInit init;
    state_->topics = std::move(topics);
    state_->qos = options.qos;
    const std::string id = options.client_id.empty() ? random_client_id() : options.client_id;
    state_->client = mosquitto_new(id.c_str(), !options.persistent, state_.get());
    if (state_->client == nullptr) throw std::runtime_error("mosquitto_new failed");
    mosquitto_int_option(state_->client, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);

    mosquitto_connect_v5_callback_set(
        state_->client, [](mosquitto* client, void* user, int rc, int, const mosquitto_property*) {
            auto* state = static_cast<State*>(user);
            if (rc != 0) return;
            {
                std::lock_guard lock(state->mutex);
                state->connected = true;
            }
            for (const auto& topic : state->topics) {
                mosquitto_subscribe_v5(client, nullptr, topic.c_str(), state->qos,
                                       MQTT_SUB_OPT_RETAIN_AS_PUBLISHED, nullptr);
            }
        });
    mosquitto_disconnect_v5_callback_set(
        state_->client, [](mosquitto*, void* user, int, const mosquitto_property*) {
            auto* state = static_cast<State*>(user);
            std::lock_guard lock(state->mutex);
            state->connected = false;
        });
    mosquitto_subscribe_callback_set(state_->client,
                                     [](mosquitto*, void* user, int, int, const int*) {
                                         auto* state = static_cast<State*>(user);
                                         {
                                             std::lock_guard lock(state->mutex);
                                             ++state->subscribed;
                                         }
                                         state->changed.notify_all();
                                     });
    mosquitto_message_callback_set(
        state_->client, [](mosquitto*, void* user, const mosquitto_message* message) {
            auto* state = static_cast<State*>(user);
            Received received{message->topic,
                              std::string(static_cast<const char*>(message->payload),
                                          static_cast<std::size_t>(message->payloadlen)),
                              message->qos, message->retain};
            {
                std::lock_guard lock(state->mutex);
                state->messages.push_back(std::move(received));
            }
            state->changed.notify_all();
        });
    mosquitto_reconnect_delay_set(state_->client, 1, 1, false);
    // MQTT 5 ends a session at disconnect unless the client asks for an expiry interval.
    mosquitto_property* properties = nullptr;
    if (options.persistent) {
        mosquitto_property_add_int32(&properties, MQTT_PROP_SESSION_EXPIRY_INTERVAL, 3600);
    }
    const int rc =
        mosquitto_connect_bind_v5(state_->client, "127.0.0.1", port, 10, nullptr, properties);
    mosquitto_property_free_all(&properties);
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(state_->client);
        throw std::runtime_error("subscriber cannot connect to port " + std::to_string(port));
    }
    mosquitto_loop_start(state_->client);
    std::unique_lock lock(state_->mutex);
    const auto wanted = static_cast<int>(state_->topics.size());
    if (!state_->changed.wait_for(lock, 10s, [&] { return state_->subscribed >= wanted; })) {
        lock.unlock();
        mosquitto_disconnect(state_->client);
        mosquitto_loop_stop(state_->client, true);
        mosquitto_destroy(state_->client);
        throw std::runtime_error("subscriber: no SUBACK within 10 s");
    }
}

Subscriber::~Subscriber() {
    mosquitto_disconnect(state_->client);
    mosquitto_loop_stop(state_->client, false);
    mosquitto_destroy(state_->client);
}

std::vector<Received> Subscriber::messages() const {
    std::lock_guard lock(state_->mutex);
    return state_->messages;
}

std::vector<Received> Subscriber::on_topic(std::string_view topic) const {
    std::vector<Received> found;
    for (auto& message : messages()) {
        if (message.topic == topic) found.push_back(std::move(message));
    }
    return found;
}

bool Subscriber::wait_for(const std::function<bool(const std::vector<Received>&)>& condition,
                          Millis timeout) {
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, timeout, [&] { return condition(state_->messages); });
}

std::optional<Received> Subscriber::wait_for_message(std::string_view topic, Millis timeout,
                                                     std::optional<std::string_view> payload) {
    std::optional<Received> found;
    wait_for(
        [&](const std::vector<Received>& messages) {
            for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
                if (it->topic == topic && (!payload || it->payload == *payload)) {
                    found = *it;
                    return true;
                }
            }
            return false;
        },
        timeout);
    return found;
}

void Subscriber::clear() {
    std::lock_guard lock(state_->mutex);
    state_->messages.clear();
}

bool Subscriber::connected() const {
    std::lock_guard lock(state_->mutex);
    return state_->connected;
}

namespace {

// Sets or clears FS_IMMUTABLE_FL on `path`; empty on success, else why not.
std::string set_immutable(const std::string& path, bool on) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
    int flags = 0;
    std::string why;
    if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
        why = std::string("FS_IOC_GETFLAGS: ") + std::strerror(errno);
    } else {
        flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
        if (::ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0) {
            why = std::string("FS_IOC_SETFLAGS: ") + std::strerror(errno);
        }
    }
    ::close(fd);
    return why;
}

}  // namespace

ImmutableDir::ImmutableDir(std::string path) : path_(std::move(path)) {
    why_ = set_immutable(path_, true);
    set_ = why_.empty();
}

ImmutableDir::~ImmutableDir() { release(); }

void ImmutableDir::release() {
    if (!set_) return;
    set_ = !set_immutable(path_, false).empty();
}

}  // namespace nodebridge::test
