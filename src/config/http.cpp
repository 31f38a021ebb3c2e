// `http:`: the read-only status page, JSON API and Prometheus /metrics (docs/http.md).

#include <arpa/inet.h>

#include <cstring>

#include "sections.hpp"

namespace nodebridge::config_detail {
namespace {

// The address and port of "HOST:PORT", where HOST is an IPv4 literal or an IPv6 literal in
// brackets ("[::1]:9108"); false with `error` set otherwise. Names are not accepted: what
// the endpoint binds must be visible in the config, not decided by a resolver.
bool parse_listen(const std::string& text, std::string& address, int& port, std::string& error) {
    std::string host;
    std::string port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            error = "expected [IPV6]:PORT, e.g. [::1]:9108";
            return false;
        }
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
        in6_addr v6{};
        if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) {
            error = "'" + shown(host) + "' is not an IPv6 address";
            return false;
        }
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos) {
            error = "expected ADDRESS:PORT, e.g. 127.0.0.1:9108";
            return false;
        }
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
        in_addr v4{};
        if (inet_pton(AF_INET, host.c_str(), &v4) != 1) {
            error = "'" + shown(host) +
                    "' is not an IPv4 address (write IPv6 in brackets: [::1]:9108; names are "
                    "not accepted)";
            return false;
        }
    }
    if (port_text.empty() || port_text.size() > 5 ||
        port_text.find_first_not_of("0123456789") != std::string::npos) {
        error = "port '" + shown(port_text) + "' is not a number from 1 to 65535";
        return false;
    }
    const int value = std::stoi(port_text);
    if (value < 1 || value > 65535) {
        error = "port " + port_text + " is not from 1 to 65535";
        return false;
    }
    address = host;
    port = value;
    return true;
}

// username, password_file, password_credential (the password is never written inline).
void read_http_login(MapReader& map, HttpConfig& out) {
    const Context& ctx = map.context();
    map.text("username", out.username);
    std::string file;
    const bool has_file = map.text("password_file", file);
    std::string credential;
    const bool has_credential = map.text("password_credential", credential);
    if (has_file && has_credential) {
        ctx.error(map.key_position("password_credential"),
                  "password_credential: give only one of password_file and password_credential");
        return;
    }
    if (has_file) {
        out.password_file = resolve(file, ctx);
        if (auto secret = read_secret(out.password_file, true, "password_file",
                                      map.value_position("password_file"), ctx)) {
            out.password = std::move(*secret);
        }
    } else if (has_credential) {
        if (auto secret =
                read_credential(credential, map.value_position("password_credential"), ctx)) {
            out.password_credential = credential;
            out.password = std::move(*secret);
        }
    }
    if ((has_file || has_credential) && out.username.empty()) {
        ctx.error(map.key_position(has_file ? "password_file" : "password_credential"),
                  std::string(has_file ? "password_file" : "password_credential") +
                      ": needs a username as well");
    }
    if (!out.username.empty() && !has_file && !has_credential) {
        ctx.error(map.key_position("username"),
                  "username: needs password_file or password_credential as well");
    }
}

}  // namespace

bool is_loopback_address(const std::string& address) {
    in_addr v4{};
    if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
        return (ntohl(v4.s_addr) >> 24) == 127;  // 127.0.0.0/8 (RFC 1122, 3.2.1.3)
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
        return IN6_IS_ADDR_LOOPBACK(&v6) != 0;
    }
    return false;
}

void read_http(const YAML::Node& node, const Context& ctx, std::optional<HttpConfig>& out) {
    if (node.IsNull()) {  // `http:` with nothing: on with the defaults, as `homeassistant:`
        out = HttpConfig{};
        return;
    }
    if (node.IsScalar()) {
        const auto enabled = read_bool(node, ctx, "http");
        if (enabled && *enabled) out = HttpConfig{};
        return;
    }
    MapReader map(node, ctx, "http");
    if (!map.is_map()) return;
    HttpConfig http;
    std::string listen;
    if (map.text("listen", listen)) {
        std::string error;
        if (!parse_listen(listen, http.address, http.port, error)) {
            ctx.error(map.value_position("listen"), "listen: " + error);
        }
    }
    map.integer("max_connections", 1, 4096, http.max_connections);
    if (map.duration("timeout", http.timeout) && http.timeout < Millis(1000)) {
        ctx.error(map.value_position("timeout"), "timeout: must be at least 1s");
        http.timeout = Millis(1000);
    }
    map.text("static_dir", http.static_dir);
    map.integer("history", 2, 3600, http.history);
    if (auto metrics = map.find("metrics")) {
        MapReader metrics_map(*metrics, ctx, "http.metrics");
        metrics_map.boolean("readings", http.metrics_readings);
        metrics_map.finish();
    }
    read_http_login(map, http);
    if (auto tls = map.find("tls")) {
        MapReader tls_map(*tls, ctx, "http.tls");
        const bool has_cert = tls_map.text("cert_file", http.tls_cert_file, true);
        const bool has_key = tls_map.text("key_file", http.tls_key_file, true);
        if (has_cert) {
            http.tls_cert_file = resolve(http.tls_cert_file, ctx);
            check_readable(http.tls_cert_file, false, "cert_file",
                           tls_map.value_position("cert_file"), ctx);
        }
        if (has_key) {
            http.tls_key_file = resolve(http.tls_key_file, ctx);
            check_readable(http.tls_key_file, false, "key_file", tls_map.value_position("key_file"),
                           ctx);
        }
        tls_map.finish();
    }
    map.finish();
    const bool tls = !http.tls_cert_file.empty() && !http.tls_key_file.empty();
    const bool login = !http.password.empty();
    if (!is_loopback_address(http.address) && !(tls && login)) {
        std::string missing = !tls && !login ? "unencrypted and without a password"
                              : !tls         ? "unencrypted (the password crosses the network in "
                                               "clear)"
                                             : "without a password";
        ctx.warning(map.value_position("listen"),
                    "listen: " + http.address +
                        " is not a loopback address: the status page, API and metrics are "
                        "readable by anyone who can reach it, " +
                        missing + "; set http.tls and a password (docs/http.md, \"Exposure\")");
    }
    out = std::move(http);
}

}  // namespace nodebridge::config_detail
