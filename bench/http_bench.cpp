// The HTTP endpoint's cost (issue #24): nodebridged's CPU at 10,000 attributes/s (100 Modbus
// TCP units x 20 float32 attributes polled every 200 ms, one QoS 0 message per sample) in
// three runs of the same length against the same simulator and broker:
//   1. no `http:` section;
//   2. `http:` on, nobody asking;
//   3. `http:` on, a Prometheus-like client scraping /metrics every second and the status
//      page's own requests (what app.js asks every 2 s: /api/status, a 50-node page of
//      /api/nodes and /api/node for one selected node).
// The target: run 3 at most 5% above run 1. Printed as PASS/MISS; only a broken setup exits 1.
//
// Each case runs twice, interleaved with the others, and the two are averaged.
// Usage: http_bench [--measure S] (default 20)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "bench_broker.hpp"
#include "bench_sim.hpp"
#include "support/support.hpp"

namespace nodebridge::bench {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr int kNodes = 100;
constexpr int kAttributes = 20;

double cpu_seconds(pid_t pid, pid_t thread = 0) {
    std::ifstream in(thread == 0 ? "/proc/" + std::to_string(pid) + "/stat"
                                 : "/proc/" + std::to_string(pid) + "/task/" +
                                       std::to_string(thread) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t paren = text.rfind(')');
    if (paren == std::string::npos) return 0;
    std::istringstream fields(text.substr(paren + 2));
    std::string field;
    double ticks = 0;
    for (int index = 3; index <= 15 && fields >> field; ++index) {
        if (index == 14 || index == 15) ticks += std::strtod(field.c_str(), nullptr);
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds of each thread of `pid`, by thread name (threads of one name added up).
std::map<std::string, double> thread_cpu(pid_t pid) {
    std::map<std::string, double> out;
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    std::error_code error;
    for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        std::getline(comm, name);
        out[name] +=
            cpu_seconds(pid, static_cast<pid_t>(std::stol(task.path().filename().string())));
    }
    return out;
}

// One GET on a fresh connection; the number of body bytes, or -1.
long http_get(int port, const std::string& path) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    const std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string response;
    char buffer[65536];
    ssize_t got;
    while ((got = ::recv(fd, buffer, sizeof buffer, 0)) > 0) response.append(buffer, got);
    ::close(fd);
    if (response.rfind("HTTP/1.1 200", 0) != 0) return -1;
    return static_cast<long>(response.size() - response.find("\r\n\r\n") - 4);
}

std::string config_text(int mqtt_port, int sim_port, int http_port) {
    std::string out =
        "gateway: gw-bench\nmqtt: { host: 127.0.0.1, port: " + std::to_string(mqtt_port) +
        ", buffer: { dir: \"\" } }\n";
    if (http_port > 0) out += "http: { listen: \"127.0.0.1:" + std::to_string(http_port) + "\" }\n";
    out += "sources:\n  - name: bus\n    type: modbus-tcp\n    host: 127.0.0.1\n    port: " +
           std::to_string(sim_port) + "\n    nodes:\n";
    for (int unit = 1; unit <= kNodes; ++unit) {
        out += "      - id: n" + std::to_string(unit) + "\n        unit: " + std::to_string(unit) +
               "\n        poll: 200ms\n        attributes:\n";
        for (int a = 0; a < kAttributes; ++a) {
            out += "          a" + std::to_string(a) +
                   ": { table: input, address: " + std::to_string(2 * a) + ", type: float32 }\n";
        }
    }
    out += "mappings:\n  - name: all\n    topic: b/{node}\n    payload: json\n    qos: 0\n";
    return out;
}

struct Run {
    double cpu_percent = 0;
    std::string threads;  // "mapping 3.1 %, mqtt 1.2 %, ..."
    long requests = 0;
    long failed = 0;
};

Run run(const test::TempDir& dir, const BrokerProcess& broker, const SimProcess& sim, bool http,
        bool clients, double measure_s) {
    const int http_port = http ? test::free_port() : 0;
    const std::string config =
        dir.write("run.yaml", config_text(broker.port(), sim.port(), http_port));
    test::Process daemon({NODEBRIDGED_PATH, "-c", config, "--log-level", "warning"},
                         dir.file("daemon.log"));
    std::this_thread::sleep_for(5s);  // connect, first polls, steady state
    if (!daemon.running()) throw std::runtime_error("nodebridged exited:\n" + daemon.output());
    Run result;
    std::atomic<bool> stop{false};
    std::thread client;
    if (clients) {
        client = std::thread([&] {
            long tick = 0;
            while (!stop) {
                const auto next = Steady::now() + 1s;
                auto count = [&](long bytes) {
                    ++result.requests;
                    if (bytes < 0) ++result.failed;
                };
                count(http_get(http_port, "/metrics"));
                if (tick++ % 2 == 0) {
                    count(http_get(http_port, "/api/status"));
                    count(http_get(http_port, "/api/nodes?offset=0&limit=50&q=&state="));
                    count(http_get(http_port, "/api/node?source=bus&node=n1"));
                }
                std::this_thread::sleep_until(next);
            }
        });
    }
    const double before = cpu_seconds(daemon.pid());
    auto threads_before = thread_cpu(daemon.pid());
    const auto start = Steady::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(measure_s));
    const double wall = std::chrono::duration<double>(Steady::now() - start).count();
    result.cpu_percent = 100.0 * (cpu_seconds(daemon.pid()) - before) / wall;
    for (const auto& [name, seconds] : thread_cpu(daemon.pid())) {
        char part[96];
        std::snprintf(part, sizeof part, "%s%s %.2f %%", result.threads.empty() ? "" : ", ",
                      name.c_str(), 100.0 * (seconds - threads_before[name]) / wall);
        result.threads += part;
    }
    stop = true;
    if (client.joinable()) client.join();
    daemon.signal(SIGTERM);
    daemon.wait_for_exit(10s);
    return result;
}

}  // namespace
}  // namespace nodebridge::bench

int main(int argc, char** argv) {
    using namespace nodebridge::bench;
    double measure_s = 20;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "--measure") == 0) measure_s = std::atof(argv[++i]);
    }
    try {
        nodebridge::test::TempDir dir;
        BrokerProcess broker(dir);
        SimProcess sim(dir, "sim", kNodes, kAttributes);
        std::printf(
            "http_bench: %d nodes x %d attributes every 200 ms = %d attributes/s; "
            "%.0f s per run\n",
            kNodes, kAttributes, kNodes * kAttributes * 5, measure_s);
        // Each case twice, interleaved, so a change in the machine's other load hits all three.
        Run off, idle, busy;
        for (int round = 0; round < 2; ++round) {
            const Run o = run(dir, broker, sim, false, false, measure_s);
            const Run i = run(dir, broker, sim, true, false, measure_s);
            const Run b = run(dir, broker, sim, true, true, measure_s);
            std::printf("  round %d: none %.1f %%, idle %.1f %%, scraped + page %.1f %%\n", round + 1,
                        o.cpu_percent, i.cpu_percent, b.cpu_percent);
            std::printf("    threads, none:   %s\n    threads, idle:   %s\n    threads, scraped: %s\n",
                        o.threads.c_str(), i.threads.c_str(), b.threads.c_str());
            off.cpu_percent += o.cpu_percent / 2;
            idle.cpu_percent += i.cpu_percent / 2;
            busy.cpu_percent += b.cpu_percent / 2;
            busy.requests += b.requests;
            busy.failed += b.failed;
        }
        std::printf("  no http section          nodebridged CPU %6.2f %% of one core\n",
                    off.cpu_percent);
        std::printf("  http on, idle            nodebridged CPU %6.2f %%  (%+.2f points, %+.1f %% vs none)\n",
                    idle.cpu_percent, idle.cpu_percent - off.cpu_percent,
                    100.0 * (idle.cpu_percent / off.cpu_percent - 1));
        std::printf("  http on, scraped + page  nodebridged CPU %6.2f %%  (%+.2f points, %+.1f %% vs none; "
                    "%ld requests, %ld failed)\n",
                    busy.cpu_percent, busy.cpu_percent - off.cpu_percent,
                    100.0 * (busy.cpu_percent / off.cpu_percent - 1), busy.requests, busy.failed);
        std::ifstream loadavg("/proc/loadavg");
        std::string load;
        std::getline(loadavg, load);
        std::printf("  load average: %s (other work on the machine moves these figures)\n",
                    load.c_str());
        const bool pass = busy.cpu_percent <= off.cpu_percent * 1.05 && busy.failed == 0;
        std::printf("  target: scraped + page at most 5 %% above none: %s\n",
                    pass ? "PASS" : "MISS");
    } catch (const std::exception& error) {
        std::fprintf(stderr, "http_bench: %s\n", error.what());
        return 1;
    }
    return 0;
}
