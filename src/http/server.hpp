#pragma once
// The HTTP endpoint (docs/http.md): the status page, /api/ and /metrics, served by GNU
// libmicrohttpd on its own thread (one epoll loop for every connection). Read-only: GET and
// HEAD only. The daemon hands it Views; a request copies the current View's pointer (a
// mutex held for that copy only) and renders from it, so no request ever waits on, or holds
// up, polling, mapping or publishing. Connections are bounded (http.max_connections), idle
// ones closed after http.timeout, and a request's headers bounded by a fixed memory limit.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/log.hpp"
#include "view.hpp"

struct MHD_Daemon;
struct MHD_Connection;

namespace nodebridge::http {

class Server {
  public:
    // The recent readings of one node (NodeTable::history); called on an HTTP thread.
    using History = std::function<std::optional<std::vector<Series>>(const std::string& source,
                                                                     const std::string& node)>;

    Server(HttpConfig config, Logger& log, History history);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Loads the page's files from http.static_dir (missing ones are logged, and their paths
    // answer 404) and starts listening. Returns "" on success, else why not (address in use,
    // ...). Call once.
    std::string start();

    // Closes the listening socket and every connection, and joins the thread.
    void stop();

    // Replaces the View requests render from. Thread-safe; cheap (a pointer swap).
    void publish(std::shared_ptr<const View> view);

    // The port listened on (the configured one, or the one the system chose for port 0).
    int port() const { return port_; }

    // Requests answered since start, and of them those answered with a 4xx or 5xx status.
    std::uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }
    std::uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

    struct Reply {
        unsigned status = 200;
        std::string content_type;
        std::string body;                     // owned copy, or...
        const std::string* shared = nullptr;  // ...a static file kept for the server's life
        bool cache = false;                   // static files may be cached briefly; data never
        bool allow_header = false;            // 405: says which methods are allowed
    };
    // What a GET of `path` answers (no socket involved; tests call it directly). `query`
    // looks up one query argument ("" when absent).
    Reply route(const std::string& path,
                const std::function<std::string(const char* name)>& query) const;

  private:
    struct Access;  // libmicrohttpd's callbacks
    friend struct Access;

    HttpConfig config_;
    Logger& log_;
    History history_;
    std::map<std::string, std::pair<std::string, std::string>> files_;  // path -> (type, body)
    // The PEM text of http.tls, kept while the daemon runs (libmicrohttpd is handed pointers).
    std::string tls_cert_;
    std::string tls_key_;
    MHD_Daemon* daemon_ = nullptr;
    int port_ = 0;
    mutable std::mutex view_mutex_;  // held for a pointer copy or swap only
    std::shared_ptr<const View> view_;
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> errors_{0};
};

}  // namespace nodebridge::http
