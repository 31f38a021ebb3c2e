// The HTTP endpoint (issue #24, docs/http.md) with real processes: mosquitto, nodebridge-sim
// serving Modbus TCP, and nodebridged with `http:` on a free loopback port. Requests are
// written by hand on a socket, so malformed and slow ones can be sent too.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

#include "support/json.hpp"
#include "support/support.hpp"

namespace nodebridge::test {
namespace {

constexpr const char* kSecret = "s3cr3t-Pa55-Do-Not-Show";

constexpr const char* kConfig = R"(gateway: gw-http
mqtt:
  host: 127.0.0.1
  port: @MQTT@
  username: operator
  password_file: @PASSWORD@
  buffer: { dir: "" }
stats:
  interval: 1s
http:
  listen: 127.0.0.1:@HTTP@
  max_connections: 32
  timeout: 1s
  static_dir: @STATIC@
  metrics: { readings: true }
sources:
  - name: pdu-bus
    type: modbus-tcp
    host: 127.0.0.1
    port: @MODBUS@
    timeout: 200ms
    offline_after: 1s
    nodes:
      - id: pdu-1
        unit: 1
        poll: 200ms
        attributes:
          voltage: { table: input, address: 0, type: float32, unit: V }
          breaker: { table: coil, address: 0, type: bool }
      - id: "meter \"7\""
        unit: 7
        poll: 200ms
        attributes:
          frequency: { table: input, address: 70, type: float32, word_order: little, unit: Hz }
mappings:
  - name: all
    topic: dc/{node}/{attribute}
    payload: value
)";

// A socket connected to 127.0.0.1:`port`, with 5 s send and receive timeouts; -1 if refused.
int connect_to(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Everything the peer sends until it closes (or 5 s of silence).
std::string read_all(int fd) {
    std::string out;
    char buffer[65536];
    while (true) {
        const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
        if (got <= 0) break;
        out.append(buffer, static_cast<std::size_t>(got));
    }
    return out;
}

// Sends `request` as is and returns the whole response ("" if the connection failed).
std::string round_trip(int port, const std::string& request) {
    const int fd = connect_to(port);
    if (fd < 0) return "";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string response = read_all(fd);
    ::close(fd);
    return response;
}

// The resident memory of `pid` in KiB (VmRSS in /proc/PID/status), or 0.
long rss_kib(pid_t pid) {
    std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return 0;
}

struct Response {
    int status = 0;
    std::string head;
    std::string body;
};

Response parse(const std::string& raw) {
    Response response;
    const auto end = raw.find("\r\n\r\n");
    response.head = raw.substr(0, end);
    if (end != std::string::npos) response.body = raw.substr(end + 4);
    if (raw.rfind("HTTP/1.1 ", 0) == 0) response.status = std::atoi(raw.c_str() + 9);
    return response;
}

Response http_get(int port, const std::string& path, const std::string& method = "GET") {
    return parse(round_trip(
        port, method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
}

// The value of the sample `series` (name and labels, as written) in a metrics body.
std::optional<double> metric(const std::string& body, const std::string& series) {
    std::istringstream lines(body);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(series + " ", 0) == 0)
            return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
    return std::nullopt;
}

class Http : public ::testing::Test {
  protected:
    void SetUp() override {
        broker_.start();
        modbus_port_ = free_port();
        http_port_ = free_port();
        start_sim();
        const std::string password = dir_.write("password", std::string(kSecret) + "\n");
        std::filesystem::permissions(
            password, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        std::string config = kConfig;
        config = replace_all(config, "@MQTT@", std::to_string(broker_.port()));
        config = replace_all(config, "@MODBUS@", std::to_string(modbus_port_));
        config = replace_all(config, "@HTTP@", std::to_string(http_port_));
        config = replace_all(config, "@PASSWORD@", password);
        config = replace_all(config, "@STATIC@", std::string(SOURCE_DIR) + "/src/http/static");
        config_path_ = dir_.write("nodebridge.yaml", config);
        subscriber_ = std::make_unique<Subscriber>(
            broker_.port(), std::vector<std::string>{"dc/#", "nodebridge/#"});
        daemon_ = std::make_unique<Process>(
            std::vector<std::string>{NODEBRIDGED_PATH, "-c", config_path_, "--log-level", "info"},
            dir_.file("daemon.log"));
        ASSERT_TRUE(daemon_->wait_for_output("http: listening on 127.0.0.1:", 10s))
            << daemon_->output();
    }

    void start_sim() {
        sim_ = std::make_unique<Process>(std::vector<std::string>{SIM_PATH, "modbus-tcp", "--port",
                                                                  std::to_string(modbus_port_)},
                                         dir_.file("sim.log"));
        ASSERT_TRUE(sim_->wait_for_output("ready", 10s)) << sim_->output();
    }

    // Waits until /metrics says both nodes are online and shows their readings.
    bool wait_online() {
        return wait_until(
            [&] {
                // Both the sources' counters and the mapping thread's node table (which
                // follows them by up to two seconds) have seen both nodes.
                const Response r = http_get(http_port_, "/metrics");
                return metric(r.body, "nodebridge_source_nodes_online{source=\"pdu-bus\"}") ==
                           2.0 &&
                       metric(r.body,
                              R"(nodebridge_node_readings_total{source="pdu-bus",node="pdu-1"})") &&
                       metric(
                           r.body,
                           R"(nodebridge_node_readings_total{source="pdu-bus",node="meter \"7\""})");
            },
            15s);
    }

    TempDir dir_;
    Broker broker_{Broker::Options{.persistence = false}};
    int modbus_port_ = 0;
    int http_port_ = 0;
    std::string config_path_;
    std::unique_ptr<Process> sim_;
    std::unique_ptr<Subscriber> subscriber_;
    std::unique_ptr<Process> daemon_;
};

TEST_F(Http, MetricsPassPromtoolAndMatchTheStatsTopic) {
    ASSERT_TRUE(wait_online()) << daemon_->output();
    const Response r = http_get(http_port_, "/metrics");
    ASSERT_EQ(r.status, 200) << r.head;
    EXPECT_NE(r.head.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << r.head;
    // Label values are escaped: the node id holds double quotes.
    EXPECT_NE(r.body.find(R"(nodebridge_node_online{source="pdu-bus",node="meter \"7\""} 1)"),
              std::string::npos)
        << r.body;
    EXPECT_TRUE(
        metric(r.body,
               R"(nodebridge_reading{source="pdu-bus",node="pdu-1",attribute="voltage",unit="V"})"))
        << r.body;
    EXPECT_TRUE(metric(
        r.body, R"(nodebridge_node_last_reading_age_seconds{source="pdu-bus",node="pdu-1"})"))
        << r.body;

    EXPECT_EQ(
        metric(r.body, R"(nodebridge_node_poll_interval_seconds{source="pdu-bus",node="pdu-1"})"),
        0.2)
        << r.body;

    if (::access("/usr/bin/promtool", X_OK) != 0) {
        ADD_FAILURE() << "promtool (Debian package prometheus, scripts/deps) is not installed";
    } else {
        const std::string file = dir_.write("metrics.txt", r.body);
        const std::string log = dir_.file("promtool.log");
        const int rc = std::system(
            ("/usr/bin/promtool check metrics < " + file + " > " + log + " 2>&1").c_str());
        EXPECT_EQ(rc, 0) << read_file(log) << "\n" << r.body;
    }

    // The View is made of the same snapshot as a stats message: one of them says the same.
    const auto samples = metric(r.body, "nodebridge_samples_total");
    const auto published = metric(r.body, "nodebridge_mqtt_messages_published_total");
    const auto polls = metric(r.body, R"(nodebridge_source_polls_total{source="pdu-bus"})");
    ASSERT_TRUE(samples && published && polls);
    bool matched = false;
    subscriber_->wait_for(
        [&](const std::vector<Received>& messages) {
            for (const Received& m : messages) {
                if (m.topic != "nodebridge/gw-http/stats") continue;
                std::string error;
                auto json = parse_json(m.payload, &error);
                if (!json) continue;
                // Counters that stay put between two messages (no sample in a second on a
                // loaded machine) are told apart by the others.
                const Json* sources = json->find("sources");
                if (json->find("samples_total")->number() != *samples ||
                    json->find("messages_published")->number() != *published ||
                    sources->find("pdu-bus")->find("polls")->number() != *polls) {
                    continue;
                }
                EXPECT_EQ(sources->find("pdu-bus")->find("nodes_online")->number(), 2) << m.payload;
                matched = true;
            }
            return matched;
        },
        5s);
    EXPECT_TRUE(matched) << "no stats message with samples_total " << *samples << "\n" << r.body;
}

TEST_F(Http, ApiListsNodesWithValuesAndHistory) {
    ASSERT_TRUE(wait_online()) << daemon_->output();
    ASSERT_TRUE(wait_until(
        [&] {
            const Response r = http_get(http_port_, "/api/node?source=pdu-bus&node=pdu-1");
            return r.status == 200 && r.body.find("\"points\":[[") != std::string::npos;
        },
        10s));
    const Response status = http_get(http_port_, "/api/status");
    ASSERT_EQ(status.status, 200);
    std::string error;
    auto json = parse_json(status.body, &error);
    ASSERT_TRUE(json) << error << status.body;
    EXPECT_EQ(json->find("gateway")->text("name"), "gw-http");
    EXPECT_EQ(json->find("gateway")->find("nodes_online")->number(), 2);
    EXPECT_TRUE(json->find("gateway")->find("broker")->find("connected")->is_bool());

    const Response page = http_get(http_port_, "/api/nodes?q=METER&limit=1");
    auto nodes = parse_json(page.body, &error);
    ASSERT_TRUE(nodes) << error << page.body;
    EXPECT_EQ(nodes->find("total")->number(), 2);
    EXPECT_EQ(nodes->find("matched")->number(), 1);
    ASSERT_EQ(nodes->find("nodes")->array().size(), 1u);
    EXPECT_EQ(nodes->find("nodes")->array()[0].text("node"), "meter \"7\"");
    const Response node = http_get(http_port_, "/api/node?source=pdu-bus&node=pdu-1");
    auto detail = parse_json(node.body, &error);
    ASSERT_TRUE(detail) << error << node.body;
    EXPECT_EQ(detail->find("node")->text("node"), "pdu-1");
    EXPECT_EQ(http_get(http_port_, "/api/node?source=pdu-bus&node=nope").status, 404);
    EXPECT_EQ(http_get(http_port_, "/api/nodes?state=sideways").status, 400);
}

TEST_F(Http, NoSecretOnThePageTheApiOrTheMetrics) {
    ASSERT_TRUE(wait_online()) << daemon_->output();
    // The node table's snapshot follows the sources' counters by up to two seconds.
    ASSERT_TRUE(wait_until(
        [&] { return http_get(http_port_, "/api/node?source=pdu-bus&node=pdu-1").status == 200; },
        10s));
    for (const char* path : {"/", "/app.js", "/style.css", "/api/status", "/api/nodes",
                             "/api/node?source=pdu-bus&node=pdu-1", "/metrics"}) {
        const Response r = http_get(http_port_, path);
        EXPECT_EQ(r.status, 200) << path << "\n" << r.head;
        EXPECT_EQ(r.body.find(kSecret), std::string::npos) << path;
        EXPECT_EQ(r.body.find("password"), std::string::npos) << path;
    }
}

TEST_F(Http, BadRequestsGetClearErrors) {
    const Response unknown = http_get(http_port_, "/nope");
    EXPECT_EQ(unknown.status, 404) << unknown.head;
    EXPECT_NE(unknown.body.find("Not Found"), std::string::npos);
    for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
        const Response r = http_get(http_port_, "/metrics", method);
        EXPECT_EQ(r.status, 405) << method << "\n" << r.head;
        EXPECT_NE(r.head.find("Allow: GET, HEAD"), std::string::npos) << r.head;
    }
    const Response head = http_get(http_port_, "/api/status", "HEAD");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
    // Headers larger than the per-connection memory limit.
    const Response big = parse(round_trip(
        http_port_, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') +
                        "\r\nConnection: close\r\n\r\n"));
    EXPECT_TRUE(big.status == 431 || big.status == 413 || big.status == 414) << big.head;
    const Response long_url = http_get(http_port_, "/" + std::string(64 * 1024, 'b'));
    EXPECT_TRUE(long_url.status == 414 || long_url.status == 431) << long_url.head;
    // An HTTP version that is not 1.x, and a header line with no colon.
    const Response version =
        parse(round_trip(http_port_, "GET /metrics HTTP/2.5\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(version.status, 505) << version.head;
    const Response bad_header =
        parse(round_trip(http_port_, "GET /metrics HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"));
    EXPECT_EQ(bad_header.status, 400) << bad_header.head;
    // Not HTTP at all: closed without an answer, and the endpoint carries on.
    EXPECT_EQ(parse(round_trip(http_port_, "NOT-HTTP\r\n\r\n")).status, 0);
    EXPECT_EQ(http_get(http_port_, "/metrics").status, 200);
}

TEST_F(Http, SlowAndManyClientsNeitherStallReadingsNorTheEndpoint) {
    ASSERT_TRUE(wait_online()) << daemon_->output();
    // A slow-loris client: half a request line, then silence. http.timeout (1 s) closes it.
    const int slow = connect_to(http_port_);
    ASSERT_GE(slow, 0);
    ::send(slow, "GET /met", 8, MSG_NOSIGNAL);
    const auto sent = std::chrono::steady_clock::now();
    pollfd wait{slow, POLLIN, 0};
    ASSERT_EQ(::poll(&wait, 1, 5000), 1) << "the server kept a silent client for 5 s";
    char byte;
    EXPECT_LE(::recv(slow, &byte, 1, 0), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - sent, 4s);
    ::close(slow);

    const long rss_before = rss_kib(daemon_->pid());
    // A stream of requests from two clients at once, while the readings keep arriving.
    subscriber_->clear();
    std::atomic<int> answered{0};
    std::atomic<int> requests{0};
    {
        const auto until = std::chrono::steady_clock::now() + 3s;
        std::vector<std::thread> clients;
        for (int i = 0; i < 2; ++i) {
            clients.emplace_back([&] {
                while (std::chrono::steady_clock::now() < until) {
                    ++requests;
                    const char* path = requests % 2 == 0 ? "/metrics" : "/api/nodes?limit=500";
                    if (http_get(http_port_, path).status == 200) ++answered;
                }
            });
        }
        for (auto& client : clients) client.join();
    }
    const auto hammered = subscriber_->on_topic("dc/pdu-1/voltage").size();
    // Polled every 200 ms for 3 s: about 15; a stalled pipeline would show none.
    EXPECT_GE(hammered, 8u) << daemon_->output();
    EXPECT_GT(answered, 100);

    // Hundreds of silent connections, far more than max_connections (32): the extra ones
    // wait in the kernel's queue, each is closed after http.timeout, and the readings flow.
    subscriber_->clear();
    std::vector<int> idle;
    for (int i = 0; i < 300; ++i) {
        const int fd = connect_to(http_port_);
        if (fd >= 0) idle.push_back(fd);
    }
    std::this_thread::sleep_for(3s);
    const auto while_idle = subscriber_->on_topic("dc/pdu-1/voltage").size();
    EXPECT_GE(while_idle, 8u) << daemon_->output();
    for (int fd : idle) ::close(fd);
    EXPECT_TRUE(wait_until([&] { return http_get(http_port_, "/metrics").status == 200; }, 10s));
    EXPECT_TRUE(daemon_->running());
    const long rss_after = rss_kib(daemon_->pid());
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    // Bounded memory: connections, request buffers and rendered bodies are given back (under
    // a sanitizer freed memory is held in quarantine, so only without one).
    EXPECT_LT(rss_after - rss_before, 32 * 1024) << rss_before << " KiB -> " << rss_after << " KiB";
#endif
    std::cout << "VmRSS " << rss_before << " KiB before, " << rss_after << " KiB after\n";
    std::cout << "hammer: " << requests << " requests, " << answered << " answered, " << hammered
              << " voltage readings in 3 s; " << idle.size() << " idle connections, " << while_idle
              << " readings in 3 s\n";
}

TEST_F(Http, ANodeTurnsOfflineWhenItsDeviceStops) {
    ASSERT_TRUE(wait_online()) << daemon_->output();
    sim_.reset();  // SIGKILL: the device is gone
    EXPECT_TRUE(wait_until(
        [&] {
            const Response r = http_get(http_port_, "/api/nodes?state=offline");
            return r.body.find("\"node\":\"pdu-1\"") != std::string::npos;
        },
        10s))
        << daemon_->output();
    const Response metrics = http_get(http_port_, "/metrics");
    EXPECT_EQ(metric(metrics.body, R"(nodebridge_node_online{source="pdu-bus",node="pdu-1"})"), 0.0)
        << metrics.body;
}

TEST_F(Http, AReloadMovesTheEndpointAndKeepsTheReadingsFlowing) {
    ASSERT_TRUE(wait_online()) << daemon_->output();
    const int moved = free_port();
    std::string config = read_file(config_path_);
    config = replace_all(config, "listen: 127.0.0.1:" + std::to_string(http_port_),
                         "listen: 127.0.0.1:" + std::to_string(moved));
    dir_.write("nodebridge.yaml", config);
    daemon_->signal(SIGHUP);
    ASSERT_TRUE(
        daemon_->wait_for_output("http: listening on 127.0.0.1:" + std::to_string(moved), 10s))
        << daemon_->output();
    EXPECT_EQ(http_get(moved, "/metrics").status, 200);
    EXPECT_EQ(http_get(http_port_, "/metrics").status, 0);  // nobody listens there now
    subscriber_->clear();
    EXPECT_TRUE(subscriber_->wait_for_message("dc/pdu-1/voltage", 5s).has_value());
}

// http.tls and a password: HTTPS with Basic authentication (curl as the client).
TEST(HttpTls, HttpsWithALoginAndNothingWithout) {
    if (std::system("command -v curl >/dev/null && command -v openssl >/dev/null") != 0) {
        GTEST_SKIP() << "SKIP: curl or openssl is not installed (scripts/deps)";
    }
    TempDir dir;
    Broker broker{Broker::Options{.persistence = false}};
    broker.start();
    const int http_port = free_port();
    ASSERT_EQ(std::system(("cd " + dir.path() +
                           " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                           "-nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=127.0.0.1 "
                           "-addext subjectAltName=IP:127.0.0.1 >openssl.log 2>&1 && chmod 600 "
                           "key.pem")
                              .c_str()),
              0)
        << read_file(dir.file("openssl.log"));
    const std::string password = dir.write("http-password", std::string(kSecret) + "\n");
    std::filesystem::permissions(password, std::filesystem::perms::owner_read);
    const std::string config = dir.write(
        "nodebridge.yaml",
        "gateway: gw-tls\nmqtt: { host: 127.0.0.1, port: " + std::to_string(broker.port()) +
            ", buffer: { dir: \"\" } }\nhttp:\n  listen: 127.0.0.1:" + std::to_string(http_port) +
            "\n  username: prometheus\n  password_file: http-password\n  tls: { cert_file: "
            "cert.pem, key_file: key.pem }\n");
    Process daemon({NODEBRIDGED_PATH, "-c", config}, dir.file("daemon.log"));
    ASSERT_TRUE(daemon.wait_for_output("http: listening", 10s)) << daemon.output();

    // The status code curl saw, with the body in dir/body.
    auto curl = [&](const std::string& options, const std::string& url) {
        const std::string out = dir.file("code");
        std::system(("curl -s --max-time 5 --cacert " + dir.file("cert.pem") + " " + options +
                     " -o " + dir.file("body") + " -D " + dir.file("head") +
                     " -w '%{http_code}' '" + url + "' > " + out + " 2>/dev/null")
                        .c_str());
        return std::atoi(read_file(out).c_str());
    };
    const std::string https = "https://127.0.0.1:" + std::to_string(http_port);
    EXPECT_EQ(curl("", https + "/metrics"), 401);
    EXPECT_NE(read_file(dir.file("head")).find("WWW-Authenticate: Basic realm=\"nodebridge\""),
              std::string::npos)
        << read_file(dir.file("head"));
    EXPECT_EQ(curl("-u prometheus:wrong", https + "/metrics"), 401);
    EXPECT_EQ(curl("-u someone:" + std::string(kSecret), https + "/metrics"), 401);
    ASSERT_TRUE(wait_until(
        [&] { return curl("-u prometheus:" + std::string(kSecret), https + "/metrics") == 200; },
        5s));
    const std::string body = read_file(dir.file("body"));
    EXPECT_NE(body.find("nodebridge_uptime_seconds"), std::string::npos) << body;
    EXPECT_EQ(body.find(kSecret), std::string::npos);
    EXPECT_EQ(curl("-u prometheus:" + std::string(kSecret), https + "/api/status"), 200);
    EXPECT_EQ(read_file(dir.file("body")).find(kSecret), std::string::npos);
    // Plain HTTP on the HTTPS port gets no page.
    EXPECT_NE(curl("-u prometheus:" + std::string(kSecret),
                   "http://127.0.0.1:" + std::to_string(http_port) + "/metrics"),
              200);
    EXPECT_EQ(daemon.output().find(kSecret), std::string::npos);
}

}  // namespace
}  // namespace nodebridge::test
