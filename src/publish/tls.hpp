#pragma once
// TLS for the MQTT client (internal to nb_publish): sets a libmosquitto client up from
// `mqtt.tls`, and says in the log why a TLS connection failed.
//
// libmosquitto only reports "A TLS error occurred" or "Protocol error" when a handshake
// fails. To name the cause, the client is given an OpenSSL context of ours whose info
// callback sees every alert of the handshake while the connection still exists, and reads
// OpenSSL's certificate verify result at that moment.

#include <optional>
#include <string>
#include <string_view>

#include "nodebridge/config.hpp"
#include "nodebridge/log.hpp"

struct mosquitto;

namespace nodebridge {

// Turns TLS on for `client` as `tls` says; does nothing and returns true when `tls` is
// empty. The broker's certificate is checked against ca_file / ca_path (the system's CAs
// when both are empty) and, with verify_hostname, must name the host connected to (the
// same check for every host the client connects to). Returns false after logging why when
// the client cannot be set up: the caller must then not connect, since it would send the
// credentials in plain text.
//
// Afterwards, on the thread that drives the client: a failed handshake is logged as a
// warning naming the cause ("the broker's certificate has expired"), at once for a new
// cause and every 5 minutes while it persists; with `insecure`, every connection attempt
// logs a warning. `log` must outlive the client.
bool configure_tls(mosquitto* client, const std::optional<TlsConfig>& tls, Logger& log);

// What an OpenSSL certificate verify result (X509_V_ERR_*) means for the broker's
// certificate, e.g. "the broker's certificate has expired", with OpenSSL's own words after.
// `host` is the host connected to.
std::string verify_failure_text(long verify_result, std::string_view host);

// What a fatal TLS alert the broker sent us means (`alert` is the alert description,
// e.g. 116 "certificate required"); `have_client_certificate` says whether we offered one.
std::string broker_alert_text(int alert, bool have_client_certificate);

}  // namespace nodebridge
