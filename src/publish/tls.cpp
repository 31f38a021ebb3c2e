#include "tls.hpp"

#include <arpa/inet.h>
#include <mosquitto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <memory>

namespace nodebridge {
namespace {

// What the info callback needs; owned by the SSL_CTX (freed with it, when libmosquitto
// destroys the client). Only the thread that drives the client touches it.
struct TlsWatch {
    Logger* log = nullptr;
    bool insecure = false;
    bool verify_hostname = true;
    bool have_client_certificate = false;
    std::string last_reason;  // the cause logged last
    std::chrono::steady_clock::time_point last_logged{};
};

// A cause that persists is logged again after this long (a new cause at once).
constexpr std::chrono::minutes kRepeatSameCause{5};

void free_watch(void*, void* watch, CRYPTO_EX_DATA*, int, long, void*) {
    delete static_cast<TlsWatch*>(watch);
}

// The SSL_CTX ex_data slot of TlsWatch, allocated once per process (OpenSSL's registry).
int watch_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_watch);
    return index;
}

std::string openssl_errors() {
    std::string text;
    char buffer[256];
    while (const unsigned long code = ERR_get_error()) {
        ERR_error_string_n(code, buffer, sizeof buffer);
        text += (text.empty() ? "" : "; ") + std::string(buffer);
    }
    return text.empty() ? "no detail from OpenSSL" : text;
}

// Makes OpenSSL itself check that the broker's certificate names `host` (a DNS name or an
// IP address), so a mismatch comes back as X509_V_ERR_HOSTNAME_MISMATCH / IP_ADDRESS_MISMATCH.
void expect_host(SSL* ssl, const char* host) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    unsigned char address[sizeof(in6_addr)];
    if (inet_pton(AF_INET, host, address) == 1 || inet_pton(AF_INET6, host, address) == 1) {
        X509_VERIFY_PARAM_set1_ip_asc(param, host);
    } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, host, 0);
    }
}

void report(TlsWatch& watch, std::string_view host, std::string reason) {
    const auto now = std::chrono::steady_clock::now();
    if (reason == watch.last_reason && now - watch.last_logged < kRepeatSameCause) return;
    watch.last_logged = now;
    watch.log->log_limited("mqtt-tls", LogLevel::warning,
                           "MQTT: TLS with " + std::string(host) + " failed: " + reason,
                           {.event = "mqtt-tls"});
    watch.last_reason = std::move(reason);
}

void on_tls_info(const SSL* ssl, int where, int ret) {
    auto* watch = static_cast<TlsWatch*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), watch_index()));
    if (watch == nullptr || watch->log == nullptr) return;
    const char* servername = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    const std::string_view host = servername != nullptr ? servername : "the broker";

    if ((where & SSL_CB_HANDSHAKE_START) != 0 && SSL_in_before(ssl)) {
        // A new connection: libmosquitto made this SSL for it and has not sent a byte yet.
        if (!watch->insecure) {
            // OpenSSL's own verification, host name included, with a callback that changes
            // nothing (a null one would keep libmosquitto's): libmosquitto's callback cannot
            // find its client when it did not make the SSL_CTX, and would refuse every
            // certificate as "unspecified".
            SSL* own = const_cast<SSL*>(ssl);
            SSL_set_verify(own, SSL_VERIFY_PEER, [](int ok, X509_STORE_CTX*) { return ok; });
            if (watch->verify_hostname && servername != nullptr) expect_host(own, servername);
        }
        if (watch->insecure) {
            watch->log->log_limited(
                "mqtt-tls-insecure", LogLevel::warning,
                "MQTT: connecting to " + std::string(host) +
                    " with TLS but without checking its certificate (mqtt.tls.insecure): "
                    "anyone on the path can pose as the broker",
                {.event = "mqtt-tls-insecure"});
        }
        return;
    }
    if ((where & SSL_CB_ALERT) == 0 || (ret >> 8) != SSL3_AL_FATAL) return;
    const int alert = ret & 0xff;
    if ((where & SSL_CB_WRITE) != 0) {
        // We broke the handshake off: usually the broker's certificate failed the check.
        const long verify_result = SSL_get_verify_result(ssl);
        if (verify_result != X509_V_OK) {
            report(*watch, host, verify_failure_text(verify_result, host));
        } else {
            report(*watch, host,
                   std::string("handshake broken off on our side: ") +
                       SSL_alert_desc_string_long(alert));
        }
    } else {
        report(*watch, host, broker_alert_text(alert, watch->have_client_certificate));
    }
}

bool fail(Logger& log, const std::string& why) {
    log.log(LogLevel::error, "MQTT: cannot set up TLS: " + why + "; not connecting",
            {.event = "mqtt-tls"});
    return false;
}

}  // namespace

std::string verify_failure_text(long verify_result, std::string_view host) {
    std::string text;
    switch (verify_result) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            text = "the broker's certificate has expired (or this machine's clock is wrong)";
            break;
        case X509_V_ERR_CERT_NOT_YET_VALID:
            text = "the broker's certificate is not valid yet (or this machine's clock is wrong)";
            break;
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_CERT_UNTRUSTED:
            text =
                "the broker's certificate is signed by an unknown CA (not in mqtt.tls "
                "ca_file / ca_path)";
            break;
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            text = "host name mismatch: the broker's certificate is not made for '" +
                   std::string(host) + "'";
            break;
        case X509_V_ERR_CERT_REVOKED:
            text = "the broker's certificate has been revoked";
            break;
        default:
            text = "the broker's certificate was refused";
            break;
    }
    return text + " (OpenSSL: " + X509_verify_cert_error_string(verify_result) + ")";
}

std::string broker_alert_text(int alert, bool have_client_certificate) {
    // OpenSSL 3.0 has no names for the alerts TLS 1.3 added.
    std::string name = SSL_alert_desc_string_long(alert);
    if (alert == SSL_AD_CERTIFICATE_REQUIRED) name = "certificate required";
    if (alert == SSL_AD_MISSING_EXTENSION) name = "missing extension";
    if (name == "unknown") name = "alert " + std::to_string(alert);
    std::string text = "the broker refused the handshake: " + name;
    switch (alert) {
        case SSL_AD_CERTIFICATE_REQUIRED:
        case SSL_AD_HANDSHAKE_FAILURE:
            if (!have_client_certificate) {
                text +=
                    " (does it require a client certificate? set mqtt.tls cert_file and "
                    "key_file)";
            }
            break;
        case SSL_AD_UNKNOWN_CA:
        case SSL_AD_BAD_CERTIFICATE:
        case SSL_AD_ACCESS_DENIED:
            if (have_client_certificate) text += " (it does not accept our client certificate)";
            break;
        case SSL_AD_PROTOCOL_VERSION:
            text += " (no TLS version in common: check mqtt.tls.min_version)";
            break;
        default:
            break;
    }
    return text;
}

bool configure_tls(mosquitto* client, const std::optional<TlsConfig>& tls, Logger& log) {
    if (!tls) return true;
    if (client == nullptr) return fail(log, "no client");
    std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> context(SSL_CTX_new(TLS_client_method()),
                                                         SSL_CTX_free);
    if (!context || watch_index() < 0) return fail(log, openssl_errors());
    auto watch = std::make_unique<TlsWatch>();
    watch->log = &log;
    watch->insecure = tls->insecure;
    watch->verify_hostname = tls->verify_hostname;
    watch->have_client_certificate = !tls->cert_file.empty();
    if (SSL_CTX_set_ex_data(context.get(), watch_index(), watch.get()) != 1) {
        return fail(log, openssl_errors());
    }
    watch.release();  // the context owns it now
    SSL_CTX_set_info_callback(context.get(), on_tls_info);
    SSL_CTX_set_min_proto_version(context.get(),
                                  tls->min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
    // An encrypted key would make OpenSSL ask for its passphrase on the terminal.
    SSL_CTX_set_default_passwd_cb(context.get(), [](char*, int, int, void*) { return 0; });

    // libmosquitto takes its own reference, applies the settings below to this context at
    // every connect (MOSQ_OPT_SSL_CTX_WITH_DEFAULTS) and frees it with the client.
    int rc = mosquitto_void_option(client, MOSQ_OPT_SSL_CTX, context.get());
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_int_option(client, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 1);
    if (rc != MOSQ_ERR_SUCCESS) return fail(log, mosquitto_strerror(rc));

    // With neither ca_file nor ca_path, trust the system's CAs (Debian: /etc/ssl/certs).
    std::string ca_path = tls->ca_path;
    if (tls->ca_file.empty() && ca_path.empty()) ca_path = X509_get_default_cert_dir();
    const auto or_null = [](const std::string& text) {
        return text.empty() ? nullptr : text.c_str();
    };
    rc = mosquitto_tls_set(client, or_null(tls->ca_file), or_null(ca_path), or_null(tls->cert_file),
                           or_null(tls->key_file), nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
        return fail(log, std::string("the CA, certificate or key file cannot be used: ") +
                             mosquitto_strerror(rc));
    }
    rc = mosquitto_tls_opts_set(client, tls->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                                tls->min_version == "1.3" ? "tlsv1.3" : "tlsv1.2",
                                or_null(tls->ciphers));
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = mosquitto_tls_insecure_set(client, tls->insecure || !tls->verify_hostname);
    }
    if (rc != MOSQ_ERR_SUCCESS) return fail(log, mosquitto_strerror(rc));
    return true;
}

}  // namespace nodebridge
