// `mqtt:` TLS and credentials: `tls`, `username`, `password`, `password_file`,
// `password_credential`. Secrets are read here, at load, so a bad file is a config error
// (exit 78 at --check-config), and no message ever holds a secret: only paths and names.

#include <fcntl.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "sections.hpp"

namespace nodebridge::config_detail {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxPasswordBytes = 65535;  // MQTT's limit for the password field
constexpr std::size_t kShownPathChars = 4096;

std::string path_text(const std::string& path) { return "'" + shown(path, kShownPathChars) + "'"; }

std::string mode_text(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

// True when OpenSSL accepts `ciphers` as a cipher list for a TLS client.
bool openssl_accepts_ciphers(const std::string& ciphers) {
    std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> context(SSL_CTX_new(TLS_client_method()),
                                                         SSL_CTX_free);
    return context && SSL_CTX_set_cipher_list(context.get(), ciphers.c_str()) == 1;
}

void read_tls(const YAML::Node& node, const Context& ctx, TlsConfig& out) {
    MapReader map(node, ctx, "mqtt.tls");
    if (map.text("ca_file", out.ca_file)) {
        out.ca_file = resolve(out.ca_file, ctx);
        check_readable(out.ca_file, false, "ca_file", map.value_position("ca_file"), ctx);
    }
    if (map.text("ca_path", out.ca_path)) {
        out.ca_path = resolve(out.ca_path, ctx);
        check_readable(out.ca_path, true, "ca_path", map.value_position("ca_path"), ctx);
    }
    const bool has_cert = map.text("cert_file", out.cert_file);
    const bool has_key = map.text("key_file", out.key_file);
    if (has_cert) {
        out.cert_file = resolve(out.cert_file, ctx);
        check_readable(out.cert_file, false, "cert_file", map.value_position("cert_file"), ctx);
        if (!has_key) ctx.error(map.key_position("cert_file"), "cert_file: needs key_file as well");
    }
    if (has_key) {
        out.key_file = resolve(out.key_file, ctx);
        const Position where = map.value_position("key_file");
        if (check_readable(out.key_file, false, "key_file", where, ctx)) {
            struct stat status {};
            if (::stat(out.key_file.c_str(), &status) == 0 &&
                (status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
                ctx.warning(where, "key_file: " + path_text(out.key_file) +
                                       " can be read by group or others (mode " +
                                       mode_text(status.st_mode) + "); chmod 600 it");
            }
        }
        if (!has_cert) ctx.error(map.key_position("key_file"), "key_file: needs cert_file as well");
    }
    if (auto version = map.find("min_version")) {
        const std::string text = version->IsScalar() ? version->Scalar() : std::string();
        if (text == "1.2" || text == "1.3") {
            out.min_version = text;
        } else {
            ctx.error(map.value_position("min_version"),
                      "min_version: expected \"1.2\" or \"1.3\", got " + describe_value(*version));
        }
    }
    if (map.text("ciphers", out.ciphers)) {
        if (out.ciphers.empty() || !openssl_accepts_ciphers(out.ciphers)) {
            ctx.error(map.value_position("ciphers"),
                      "ciphers: OpenSSL accepts none of '" + shown(out.ciphers, 200) + "'");
        }
    }
    if (map.boolean("verify_hostname", out.verify_hostname) && !out.verify_hostname) {
        ctx.warning(map.value_position("verify_hostname"),
                    "verify_hostname: false: any certificate from a trusted CA is accepted, "
                    "whatever host it was made for");
    }
    if (map.boolean("insecure", out.insecure) && out.insecure) {
        ctx.warning(map.value_position("insecure"),
                    "insecure: true: the broker's certificate is not checked; anyone on the "
                    "network path can pose as the broker and read the password");
    }
    map.finish();
}

// A systemd credential name: a plain file name.
bool valid_credential_name(const std::string& name) {
    return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
           name.find('/') == std::string::npos && std::all_of(name.begin(), name.end(), [](char c) {
               return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
           });
}

}  // namespace

// `path` as written, or joined to the directory of the config file that names it.
std::string resolve(const std::string& path, const Context& ctx) {
    if (path.empty() || fs::path(path).is_absolute()) return path;
    std::string joined = (fs::path(ctx.file).parent_path() / path).lexically_normal().string();
    if (joined.size() > 1 && joined.back() == '/') joined.pop_back();  // "dir/." gives "dir/"
    return joined;
}

// Reports at `where` and returns false unless `path` is a readable regular file (or, with
// `directory`, a searchable directory).
bool check_readable(const std::string& path, bool directory, std::string_view key,
                    const Position& where, const Context& ctx) {
    const std::string what = std::string(key) + ": " + path_text(path);
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0) {
        ctx.error(where, what + ": " + std::strerror(errno));
        return false;
    }
    if (directory ? !S_ISDIR(status.st_mode) : !S_ISREG(status.st_mode)) {
        ctx.error(where, what + (directory ? " is not a directory" : " is not a regular file"));
        return false;
    }
    if (::access(path.c_str(), directory ? R_OK | X_OK : R_OK) != 0) {
        ctx.error(where, what + " cannot be read: " + std::strerror(errno));
        return false;
    }
    return true;
}

// The secret in `path` without its final line break, or nullopt after reporting why not.
// With `private_only`, a file that group or others may read or change is refused, the way
// ssh refuses such a key. The error messages name the file, never its content.
std::optional<std::string> read_credential(const std::string& name, const Position& where,
                                           const Context& ctx) {
    const char* directory = std::getenv("CREDENTIALS_DIRECTORY");
    if (!valid_credential_name(name)) {
        ctx.error(where, "password_credential: expected a credential name (a file name), got '" +
                             shown(name) + "'");
        return std::nullopt;
    }
    if (directory == nullptr || *directory == '\0') {
        ctx.error(where,
                  "password_credential: $CREDENTIALS_DIRECTORY is not set; systemd sets it "
                  "for a unit with LoadCredential=" +
                      shown(name) + ":/path/to/secret");
        return std::nullopt;
    }
    return read_secret((fs::path(directory) / name).string(), false, "password_credential", where,
                       ctx);
}

std::optional<std::string> read_secret(const std::string& path, bool private_only,
                                       std::string_view key, const Position& where,
                                       const Context& ctx) {
    const std::string what = std::string(key) + ": " + path_text(path);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        ctx.error(where, what + ": " + std::strerror(errno));
        return std::nullopt;
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat status {};
    if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
        ctx.error(where, what + " is not a regular file");
        return std::nullopt;
    }
    if (private_only && (status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        ctx.error(where, what + " can be read or changed by group or others (mode " +
                             mode_text(status.st_mode) + "); make it private: chmod 600 " +
                             path_text(path));
        return std::nullopt;
    }
    if (static_cast<std::uintmax_t>(status.st_size) > kMaxPasswordBytes + 2) {
        ctx.error(where, what + " is longer than 65535 bytes");
        return std::nullopt;
    }
    std::string secret(kMaxPasswordBytes + 3, '\0');
    std::size_t length = 0;
    while (length < secret.size()) {
        const ssize_t got = ::read(fd, secret.data() + length, secret.size() - length);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            ctx.error(where, what + " cannot be read: " + std::strerror(errno));
            return std::nullopt;
        }
        if (got == 0) break;
        length += static_cast<std::size_t>(got);
    }
    secret.resize(length);
    if (!secret.empty() && secret.back() == '\n') secret.pop_back();
    if (!secret.empty() && secret.back() == '\r') secret.pop_back();
    if (secret.size() > kMaxPasswordBytes) {
        ctx.error(where, what + " is longer than 65535 bytes");
        return std::nullopt;
    }
    if (secret.empty()) {
        ctx.error(where, what + " is empty");
        return std::nullopt;
    }
    return secret;
}

// A systemd credential name: a plain file name.

void read_mqtt_security(MapReader& map, MqttConfig& out) {
    const Context& ctx = map.context();
    map.text("username", out.username);

    // Each way of giving the password, in the order written; only one may be used.
    const bool has_inline = map.text("password", out.password);
    std::string file;
    const bool has_file = map.text("password_file", file);
    std::string credential;
    const bool has_credential = map.text("password_credential", credential);
    std::vector<std::string> given;
    if (has_inline) given.emplace_back("password");
    if (has_file) given.emplace_back("password_file");
    if (has_credential) given.emplace_back("password_credential");
    if (given.size() > 1) {
        ctx.error(map.key_position(given[1]),
                  given[1] + ": give only one of password, password_file and password_credential");
    } else if (has_inline) {
        if (!out.password.empty()) {
            out.password_source = PasswordSource::inline_text;
            ctx.warning(map.value_position("password"),
                        "password: written in the config file, where backups and anyone who "
                        "can read the file see it; use password_file or password_credential");
        }
    } else if (has_file) {
        out.password_file = resolve(file, ctx);
        if (auto secret = read_secret(out.password_file, true, "password_file",
                                      map.value_position("password_file"), ctx)) {
            out.password = std::move(*secret);
            out.password_source = PasswordSource::file;
        }
    } else if (has_credential) {
        if (auto secret =
                read_credential(credential, map.value_position("password_credential"), ctx)) {
            out.password_credential = credential;
            out.password = std::move(*secret);
            out.password_source = PasswordSource::credential;
        }
    }
    if (given.size() == 1 && out.username.empty() && (!has_inline || !out.password.empty())) {
        ctx.error(map.key_position(given[0]), given[0] + ": needs a username as well");
    }

    if (auto node = map.find("tls")) {
        out.tls.emplace();
        read_tls(*node, ctx, *out.tls);
        if (!map.find("port")) out.port = 8883;
    }
}

std::string describe_mqtt_security(const MqttConfig& mqtt) {
    std::string text;
    if (mqtt.tls) {
        const TlsConfig& tls = *mqtt.tls;
        text += "mqtt tls: TLS " + tls.min_version + " or later, ";
        if (tls.insecure) {
            text += "broker certificate NOT verified (insecure)";
        } else {
            text += "broker certificate verified against ";
            if (!tls.ca_file.empty()) text += "ca_file " + tls.ca_file;
            if (!tls.ca_file.empty() && !tls.ca_path.empty()) text += " and ";
            if (!tls.ca_path.empty()) text += "ca_path " + tls.ca_path;
            if (tls.ca_file.empty() && tls.ca_path.empty()) text += "the system's CAs";
            text += tls.verify_hostname ? ", host name checked" : ", host name NOT checked";
        }
        if (!tls.cert_file.empty()) text += ", client certificate " + tls.cert_file;
        if (!tls.ciphers.empty()) text += ", ciphers " + tls.ciphers;
        text += "\n";
    } else {
        text += "mqtt tls: off (plain TCP)\n";
    }
    if (!mqtt.username.empty()) {
        text += "mqtt login: user " + mqtt.username + ", password: ";
        switch (mqtt.password_source) {
            case PasswordSource::none:
                text += "(none)";
                break;
            case PasswordSource::inline_text:
                text += "(inline in the config file)";
                break;
            case PasswordSource::file:
                text += "(from file " + mqtt.password_file + ")";
                break;
            case PasswordSource::credential:
                text += "(from systemd credential " + mqtt.password_credential + ")";
                break;
        }
        text += "\n";
    }
    return text;
}

}  // namespace nodebridge::config_detail
