// TLS and credentials of the Publisher against a real mosquitto: certificates made with
// openssl for this test program, a TLS listener beside the broker's plain one (where the
// test's subscriber reads), and a password file made with mosquitto_passwd.

#include "tls.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <stdexcept>
#include <string>
#include <thread>

#include "capturing_logger.hpp"
#include "nodebridge/publisher.hpp"
#include "support/support.hpp"

namespace nodebridge {
namespace {

using namespace std::chrono_literals;
using test::Broker;
using test::CapturingLogger;
using test::Subscriber;
using test::wait_until;

// Runs `command` with /bin/sh; throws with its output when it fails.
void run(const test::TempDir& dir, const std::string& command) {
    test::Process process({"/bin/sh", "-c", command}, dir.file("command.log"));
    const auto code = process.wait_for_exit(60s);
    if (code != 0) {
        throw std::runtime_error("failed: " + command + "\n" + process.output());
    }
}

// A CA and the certificates the tests need, made once per test program.
struct Pki {
    test::TempDir dir;
    std::string ca, other_ca, server, wrong_host, expired, server_key, client, client_key;

    Pki() {
        const std::string d = dir.path();
        const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        const auto make_ca = [&](const std::string& name) {
            run(dir, "cd " + d + " && openssl req -x509" + ec + " -keyout " + name + ".key -out " +
                         name + ".pem -days 30 -subj /CN=" + name);
            return d + "/" + name + ".pem";
        };
        // `days` may be negative: the certificate then ended before it was made.
        const auto sign = [&](const std::string& name, const std::string& key,
                              const std::string& san, int days) {
            run(dir, "cd " + d + " && openssl req -new -key " + key + " -out " + name +
                         ".csr -subj /CN=" + name + " && printf 'subjectAltName=" + san +
                         "\\n' > " + name + ".ext && openssl x509 -req -in " + name +
                         ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -out " + name +
                         ".pem -days " + std::to_string(days) + " -extfile " + name + ".ext");
            return d + "/" + name + ".pem";
        };
        ca = make_ca("ca");
        other_ca = make_ca("other-ca");
        run(dir, "cd " + d + " && openssl genpkey -algorithm ec -pkeyopt " +
                     "ec_paramgen_curve:prime256v1 -out server.key && openssl genpkey " +
                     "-algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out client.key");
        server_key = d + "/server.key";
        client_key = d + "/client.key";
        server = sign("server", "server.key", "DNS:localhost,IP:127.0.0.1", 30);
        wrong_host = sign("wrong-host", "server.key", "DNS:broker.example", 30);
        expired = sign("expired", "server.key", "DNS:localhost,IP:127.0.0.1", -1);
        client = sign("client", "client.key", "DNS:nodebridge-client", 30);
    }
};

const Pki& pki() {
    static const Pki made;
    return made;
}

// mosquitto with its plain listener (for the test's subscriber) and a TLS listener.
struct TlsBroker {
    int tls_port;
    Broker broker;

    TlsBroker(const std::string& certificate, const std::string& listener_extra = "",
              const std::string& global_extra = "")
        : tls_port(test::free_port()),
          broker(Broker::Options{
              .persistence = false,
              .extra_config = global_extra + "listener " + std::to_string(tls_port) +
                              " 127.0.0.1\n" + "cafile " + pki().ca + "\ncertfile " + certificate +
                              "\nkeyfile " + pki().server_key + "\n" + listener_extra}) {
        if (tls_port == broker.port()) throw std::runtime_error("port clash; run again");
        broker.start();
    }
};

MqttConfig tls_config(int port, const std::string& client_id, TlsConfig tls) {
    MqttConfig config;
    config.host = "127.0.0.1";
    config.port = port;
    config.client_id = client_id;
    config.keepalive = 5s;
    config.buffer.dir.clear();  // memory only
    config.health.topic = "tls-test/" + client_id + "/status";
    config.tls = std::move(tls);
    return config;
}

Message message(std::string topic, std::string payload) {
    return Message{.topic = std::move(topic), .payload = std::move(payload), .qos = 1};
}

// Publishes one message and says whether the subscriber got it within `timeout`.
bool delivers(Publisher& publisher, Subscriber& subscriber, const std::string& topic,
              Millis timeout = 10s) {
    publisher.publish(message(topic, "hello"));
    return subscriber.wait_for_message(topic, timeout, "hello").has_value();
}

std::string all_lines(const CapturingLogger& log) {
    std::string text;
    for (const auto& line : log.lines()) text += line + "\n";
    return text;
}

TEST(TlsFailureText, NamesTheUsualCauses) {
    EXPECT_EQ(verify_failure_text(X509_V_ERR_CERT_HAS_EXPIRED, "h"),
              "the broker's certificate has expired (or this machine's clock is wrong) "
              "(OpenSSL: certificate has expired)");
    EXPECT_NE(verify_failure_text(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "h")
                  .find("signed by an unknown CA"),
              std::string::npos);
    EXPECT_NE(verify_failure_text(X509_V_ERR_HOSTNAME_MISMATCH, "broker.lan")
                  .find("host name mismatch: the broker's certificate is not made for "
                        "'broker.lan'"),
              std::string::npos);
    EXPECT_NE(broker_alert_text(SSL_AD_CERTIFICATE_REQUIRED, false).find("cert_file"),
              std::string::npos);
    EXPECT_EQ(broker_alert_text(SSL_AD_CERTIFICATE_REQUIRED, true).find("cert_file"),
              std::string::npos);
}

TEST(Tls, VerifiedConnectionDeliversMessages) {
    TlsBroker tls(pki().server);
    Subscriber subscriber(tls.broker.port(), {"tls-test/#"});
    CapturingLogger log;
    Publisher publisher(tls_config(tls.tls_port, "verified", TlsConfig{.ca_file = pki().ca}), log);
    publisher.start();
    EXPECT_TRUE(delivers(publisher, subscriber, "tls-test/verified/data")) << all_lines(log);
    EXPECT_TRUE(publisher.stats().connected);
    EXPECT_EQ(log.count_containing("TLS with"), 0) << all_lines(log);
    publisher.stop(2s);
}

TEST(Tls, TlsThirteenOnlyAlsoWorks) {
    TlsBroker tls(pki().server);
    Subscriber subscriber(tls.broker.port(), {"tls-test/#"});
    CapturingLogger log;
    Publisher publisher(
        tls_config(tls.tls_port, "tls13", TlsConfig{.ca_file = pki().ca, .min_version = "1.3"}),
        log);
    publisher.start();
    EXPECT_TRUE(delivers(publisher, subscriber, "tls-test/tls13/data")) << all_lines(log);
    publisher.stop(2s);
}

// Runs a publisher that must not get through, and returns its log once it said why.
std::string refused(const TlsBroker& tls, const std::string& client_id, TlsConfig config,
                    const std::string& expected) {
    Subscriber subscriber(tls.broker.port(), {"tls-test/#"});
    CapturingLogger log;
    Publisher publisher(tls_config(tls.tls_port, client_id, std::move(config)), log);
    publisher.start();
    publisher.publish(message("tls-test/" + client_id + "/data", "must not arrive"));
    EXPECT_TRUE(wait_until([&] { return log.count_containing(expected) > 0; }, 10s))
        << all_lines(log);
    EXPECT_FALSE(publisher.stats().connected);
    EXPECT_EQ(publisher.stats().connects, 0u);
    EXPECT_TRUE(subscriber.on_topic("tls-test/" + client_id + "/data").empty());
    publisher.stop(500ms);
    return all_lines(log);
}

TEST(Tls, UnknownCaIsRefusedNamingTheReason) {
    TlsBroker tls(pki().server);
    const std::string log =
        refused(tls, "wrong-ca", TlsConfig{.ca_file = pki().other_ca},
                "MQTT: TLS with 127.0.0.1 failed: the broker's certificate is signed by an "
                "unknown CA");
    EXPECT_NE(log.find("(OpenSSL: "), std::string::npos) << log;
}

TEST(Tls, HostNameMismatchIsRefusedNamingTheReason) {
    TlsBroker tls(pki().wrong_host);
    refused(tls, "wrong-host", TlsConfig{.ca_file = pki().ca},
            "MQTT: TLS with 127.0.0.1 failed: host name mismatch: the broker's certificate is "
            "not made for '127.0.0.1'");
}

TEST(Tls, ExpiredCertificateIsRefusedNamingTheReason) {
    TlsBroker tls(pki().expired);
    refused(tls, "expired", TlsConfig{.ca_file = pki().ca},
            "MQTT: TLS with 127.0.0.1 failed: the broker's certificate has expired");
}

TEST(Tls, HostNameCheckCanBeTurnedOffButNotTheChain) {
    TlsBroker tls(pki().wrong_host);
    Subscriber subscriber(tls.broker.port(), {"tls-test/#"});
    CapturingLogger log;
    Publisher publisher(tls_config(tls.tls_port, "no-host-check",
                                   TlsConfig{.ca_file = pki().ca, .verify_hostname = false}),
                        log);
    publisher.start();
    EXPECT_TRUE(delivers(publisher, subscriber, "tls-test/no-host-check/data")) << all_lines(log);
    publisher.stop(2s);

    refused(tls, "no-host-check-other-ca",
            TlsConfig{.ca_file = pki().other_ca, .verify_hostname = false}, "unknown CA");
}

TEST(Tls, InsecureConnectsAndWarnsAtEveryConnect) {
    TlsBroker tls(pki().wrong_host);
    Subscriber subscriber(tls.broker.port(), {"tls-test/#"});
    CapturingLogger log;
    Publisher publisher(tls_config(tls.tls_port, "insecure",
                                   TlsConfig{.ca_file = pki().other_ca, .insecure = true}),
                        log);
    publisher.start();
    EXPECT_TRUE(delivers(publisher, subscriber, "tls-test/insecure/data")) << all_lines(log);
    EXPECT_EQ(log.count_containing("without checking its certificate"), 1) << all_lines(log);

    tls.broker.stop();
    tls.broker.start();
    EXPECT_TRUE(wait_until(
        [&] { return log.count_containing("without checking its certificate") >= 2; }, 15s))
        << all_lines(log);
    publisher.stop(2s);
}

TEST(Tls, RequiredClientCertificateWorksAndIsMissedClearly) {
    TlsBroker tls(pki().server, "require_certificate true\n");
    Subscriber subscriber(tls.broker.port(), {"tls-test/#"});
    CapturingLogger log;
    Publisher publisher(tls_config(tls.tls_port, "with-cert",
                                   TlsConfig{.ca_file = pki().ca,
                                             .cert_file = pki().client,
                                             .key_file = pki().client_key}),
                        log);
    publisher.start();
    EXPECT_TRUE(delivers(publisher, subscriber, "tls-test/with-cert/data")) << all_lines(log);
    publisher.stop(2s);

    refused(tls, "without-cert", TlsConfig{.ca_file = pki().ca},
            "MQTT: TLS with 127.0.0.1 failed: the broker refused the handshake: certificate "
            "required (does it require a client certificate?");
}

// Lines of `broker_log` that contain `text`.
int lines_with(const std::string& broker_log, const std::string& text) {
    int count = 0;
    for (std::size_t at = broker_log.find(text); at != std::string::npos;
         at = broker_log.find(text, at + 1)) {
        ++count;
    }
    return count;
}

TEST(Credentials, WrongPasswordIsLoggedOnceAndRetriedWithBackoff) {
    test::TempDir dir;
    const std::string passwords = dir.file("passwords");
    run(dir, "mosquitto_passwd -c -b " + passwords + " alice right-Secret-42");
    Broker broker(
        Broker::Options{.persistence = false, .extra_config = "password_file " + passwords + "\n"});
    broker.start();
    Subscriber subscriber(broker.port(), {"tls-test/#"});

    MqttConfig config = tls_config(broker.port(), "right-password", TlsConfig{});
    config.tls.reset();
    config.username = "alice";
    config.password = "right-Secret-42";
    CapturingLogger log;
    {
        Publisher publisher(config, log);
        publisher.start();
        EXPECT_TRUE(delivers(publisher, subscriber, "tls-test/right-password/data"))
            << all_lines(log);
        publisher.stop(2s);
    }

    config.password = "wrong-Secret-17";
    config.client_id = "wrong-password";
    {
        Publisher publisher(config, log);
        publisher.start();
        ASSERT_TRUE(wait_until([&] { return log.count_containing("not authorised") > 0; }, 10s))
            << all_lines(log);
        std::this_thread::sleep_for(4s);
        EXPECT_FALSE(publisher.stats().connected);
        publisher.stop(500ms);
    }
    broker.stop();  // mosquitto's log reaches its file for sure when it exits
    // Backoff doubles from 0.5 s: about 4 attempts in 4.5 s, not a tight loop.
    const int attempts = lines_with(broker.log(), "disconnected, not authorised");
    EXPECT_GE(attempts, 2) << broker.log();
    EXPECT_LE(attempts, 6) << broker.log();
    EXPECT_EQ(log.count_containing("not authorised"), 1) << all_lines(log);
    for (const std::string secret : {"wrong-Secret-17", "right-Secret-42"}) {
        EXPECT_EQ(all_lines(log).find(secret), std::string::npos) << all_lines(log);
    }
}

}  // namespace
}  // namespace nodebridge
