#include "server.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "api.hpp"
#include "metrics.hpp"

namespace nodebridge::http {
namespace {

// A request's headers and URL must fit in this much memory per connection; larger ones are
// answered by libmicrohttpd with 431 Request Header Fields Too Large or 414 URI Too Long
// (GNU libmicrohttpd Reference Manual, 2 Constants, MHD_OPTION_CONNECTION_MEMORY_LIMIT).
constexpr std::size_t kConnectionMemory = 16 * 1024;

// The page's files under http.static_dir, and how each is served.
struct StaticFile {
    const char* path;  // as requested
    const char* file;  // under static_dir
    const char* type;
};
constexpr StaticFile kStaticFiles[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/index.html", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
};

// Every response says what it is and forbids what a read-only status page never needs:
// other origins' scripts and styles, framing, and content sniffing.
constexpr const char* kSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

Server::Reply text_reply(unsigned status, std::string body) {
    return Server::Reply{.status = status,
                         .content_type = "text/plain; charset=utf-8",
                         .body = std::move(body) + "\n"};
}

Server::Reply json_reply(std::string body) {
    return Server::Reply{
        .status = 200, .content_type = "application/json", .body = std::move(body)};
}

std::size_t parse_count(const std::string& text, std::size_t fallback) {
    if (text.empty() || text.size() > 9 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
        return fallback;
    }
    return static_cast<std::size_t>(std::stoul(text));
}

}  // namespace

struct Server::Access {
    static MHD_Result handle(void* self, MHD_Connection* connection, const char* url,
                             const char* method, const char* /*version*/,
                             const char* /*upload_data*/, std::size_t* upload_data_size,
                             void** request) {
        auto& server = *static_cast<Server*>(self);
        // A body is never wanted: every request is answered on its first call, before any
        // upload data is read; libmicrohttpd then closes the connection instead of reading
        // a body nobody asked for.
        (void)upload_data_size;
        (void)request;
        Reply reply;
        if (!server.config_.password.empty() && !authorized(server, connection)) {
            server.requests_.fetch_add(1, std::memory_order_relaxed);
            server.errors_.fetch_add(1, std::memory_order_relaxed);
            static const char kDenied[] = "401 Unauthorized: this endpoint needs a login\n";
            MHD_Response* denied = MHD_create_response_from_buffer(
                sizeof kDenied - 1, const_cast<char*>(kDenied), MHD_RESPMEM_PERSISTENT);
            if (denied == nullptr) return MHD_NO;
            MHD_add_response_header(denied, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    "text/plain; charset=utf-8");
            const MHD_Result queued =
                MHD_queue_basic_auth_fail_response(connection, "nodebridge", denied);
            MHD_destroy_response(denied);
            return queued;
        }
        const bool get = std::strcmp(method, MHD_HTTP_METHOD_GET) == 0;
        const bool head = std::strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
        if (!get && !head) {
            reply = text_reply(MHD_HTTP_METHOD_NOT_ALLOWED,
                               "405 Method Not Allowed: this endpoint is read-only (GET, HEAD)");
            reply.allow_header = true;
        } else {
            reply = server.route(url, [connection](const char* name) {
                const char* value =
                    MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, name);
                return std::string(value != nullptr ? value : "");
            });
        }
        server.requests_.fetch_add(1, std::memory_order_relaxed);
        if (reply.status >= 400) server.errors_.fetch_add(1, std::memory_order_relaxed);

        MHD_Response* response =
            reply.shared != nullptr
                ? MHD_create_response_from_buffer(reply.shared->size(),
                                                  const_cast<char*>(reply.shared->data()),
                                                  MHD_RESPMEM_PERSISTENT)
                : MHD_create_response_from_buffer(reply.body.size(), reply.body.data(),
                                                  MHD_RESPMEM_MUST_COPY);
        if (response == nullptr) return MHD_NO;
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, reply.content_type.c_str());
        MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL,
                                reply.cache ? "max-age=60" : "no-store");
        MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(response, "Content-Security-Policy", kSecurityPolicy);
        MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
        if (reply.allow_header)
            MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        const MHD_Result queued = MHD_queue_response(connection, reply.status, response);
        MHD_destroy_response(response);
        return queued;
    }

    // The request's Basic credentials (RFC 7617) are http.username and http.password.
    static bool authorized(const Server& server, MHD_Connection* connection) {
        char* password = nullptr;
        char* user = MHD_basic_auth_get_username_password(connection, &password);
        const bool ok = user != nullptr && password != nullptr &&
                        equal_in_constant_time(user, server.config_.username) &&
                        equal_in_constant_time(password, server.config_.password);
        if (user != nullptr) MHD_free(user);
        if (password != nullptr) MHD_free(password);
        return ok;
    }

    // Compares without stopping at the first difference, so the time taken does not say how
    // much of a guess was right (the length still shows).
    static bool equal_in_constant_time(const char* given, const std::string& expected) {
        const std::size_t length = std::strlen(given);
        unsigned char difference = length == expected.size() ? 0 : 1;
        for (std::size_t i = 0; i < expected.size(); ++i) {
            const char c = i < length ? given[i] : '\0';
            difference |= static_cast<unsigned char>(c ^ expected[i]);
        }
        return difference == 0;
    }

    static void log(void* self, const char* format, va_list args) {
        auto& server = *static_cast<Server*>(self);
        char line[512];
        std::vsnprintf(line, sizeof line, format, args);
        std::string text(line);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
        server.log_.log_limited("http", LogLevel::info, "http: " + text, {.event = "http"});
    }
};

Server::Server(HttpConfig config, Logger& log, History history)
    : config_(std::move(config)), log_(log), history_(std::move(history)) {}

Server::~Server() { stop(); }

std::string Server::start() {
    for (const StaticFile& file : kStaticFiles) {
        const std::string path = config_.static_dir + "/" + file.file;
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            log_.log(
                LogLevel::warning,
                "http: cannot read " + path + ": the status page answers 404 (http.static_dir)",
                {.event = "http"});
            continue;
        }
        std::ostringstream body;
        body << in.rdbuf();
        files_[file.path] = {file.type, body.str()};
    }

    sockaddr_storage address{};
    const bool v6 = config_.address.find(':') != std::string::npos;
    if (v6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(static_cast<std::uint16_t>(config_.port));
        if (inet_pton(AF_INET6, config_.address.c_str(), &in6->sin6_addr) != 1) {
            return "'" + config_.address + "' is not an IPv6 address";
        }
    } else {
        auto* in4 = reinterpret_cast<sockaddr_in*>(&address);
        in4->sin_family = AF_INET;
        in4->sin_port = htons(static_cast<std::uint16_t>(config_.port));
        if (inet_pton(AF_INET, config_.address.c_str(), &in4->sin_addr) != 1) {
            return "'" + config_.address + "' is not an IPv4 address";
        }
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (v6) flags |= MHD_USE_IPv6;
    // HTTPS: the certificate chain and key in memory (manual, 2 "Constants",
    // MHD_OPTION_HTTPS_MEM_CERT and MHD_OPTION_HTTPS_MEM_KEY; GnuTLS does the TLS).
    std::string& cert = tls_cert_;
    std::string& key = tls_key_;
    std::vector<MHD_OptionItem> tls_options;
    if (!config_.tls_cert_file.empty()) {
        for (auto [path, text] :
             {std::pair{&config_.tls_cert_file, &cert}, std::pair{&config_.tls_key_file, &key}}) {
            std::ifstream in(*path, std::ios::binary);
            std::ostringstream body;
            body << in.rdbuf();
            if (!in || body.str().empty()) return "cannot read " + *path;
            *text = body.str();
        }
        flags |= MHD_USE_TLS;
        tls_options.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, cert.data()});
        tls_options.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, key.data()});
    }
    tls_options.push_back({MHD_OPTION_END, 0, nullptr});
    const auto timeout_s = static_cast<unsigned>(
        std::chrono::duration_cast<std::chrono::seconds>(config_.timeout).count());
    daemon_ = MHD_start_daemon(
        flags, 0, nullptr, nullptr, &Access::handle, this, MHD_OPTION_EXTERNAL_LOGGER, &Access::log,
        this, MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&address),
        MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(config_.max_connections),
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        kConnectionMemory, MHD_OPTION_ARRAY, tls_options.data(), MHD_OPTION_END);
    if (daemon_ == nullptr) {
        return "cannot listen on " + (v6 ? "[" + config_.address + "]" : config_.address) + ":" +
               std::to_string(config_.port) + ": " + std::strerror(errno);
    }
    port_ = config_.port;
    if (const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)) {
        port_ = info->port;
    }
    return "";
}

void Server::stop() {
    if (daemon_ != nullptr) {
        MHD_stop_daemon(daemon_);
        daemon_ = nullptr;
    }
    std::fill(tls_key_.begin(), tls_key_.end(), '\0');  // the key is kept no longer than needed
    tls_key_.clear();
}

void Server::publish(std::shared_ptr<const View> view) {
    std::lock_guard lock(view_mutex_);
    view_.swap(view);
    // The previous View is released after the lock, here or by the last request using it.
}

Server::Reply Server::route(const std::string& path,
                            const std::function<std::string(const char*)>& query) const {
    if (auto file = files_.find(path); file != files_.end()) {
        Reply reply{.status = 200, .content_type = file->second.first};
        reply.shared = &file->second.second;
        reply.cache = true;
        return reply;
    }
    const bool known =
        path == "/metrics" || path == "/api/status" || path == "/api/nodes" || path == "/api/node";
    if (!known) {
        for (const StaticFile& file : kStaticFiles) {
            if (path == file.path) {
                return text_reply(404,
                                  "404 Not Found: the status page's files are not installed in " +
                                      config_.static_dir);
            }
        }
        return text_reply(404, "404 Not Found: " + path.substr(0, 200) +
                                   " (try /, /metrics, /api/status, /api/nodes, /api/node)");
    }
    std::shared_ptr<const View> view;
    {
        std::lock_guard lock(view_mutex_);
        view = view_;
    }
    if (!view) return text_reply(503, "503 Service Unavailable: starting");
    const auto now = SteadyClock::now();
    if (path == "/metrics") {
        return Reply{.status = 200,
                     .content_type = std::string(kMetricsContentType),
                     .body = render_metrics(*view, now, config_.metrics_readings)};
    }
    if (path == "/api/status") return json_reply(status_json(*view, now));
    if (path == "/api/nodes") {
        NodeQuery nodes_query;
        nodes_query.text = query("q");
        nodes_query.source = query("source");
        nodes_query.state = query("state");
        if (!nodes_query.state.empty() && nodes_query.state != "online" &&
            nodes_query.state != "offline") {
            return text_reply(400, "400 Bad Request: state must be online or offline");
        }
        nodes_query.offset = parse_count(query("offset"), 0);
        nodes_query.limit = parse_count(query("limit"), 100);
        return json_reply(nodes_json(*view, nodes_query, now));
    }
    // /api/node
    const std::string source = query("source");
    const std::string node = query("node");
    if (source.empty() || node.empty()) {
        return text_reply(400, "400 Bad Request: /api/node needs ?source=S&node=N");
    }
    std::optional<std::vector<Series>> history;
    if (history_) history = history_(source, node);
    auto body = node_json(*view, source, node, history, now);
    if (!body)
        return text_reply(
            404, "404 Not Found: no node " + source.substr(0, 128) + "/" + node.substr(0, 128));
    return json_reply(std::move(*body));
}

}  // namespace nodebridge::http
