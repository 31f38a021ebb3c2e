// `mqtt:` TLS and credentials: where the password comes from, the checks on its file, the
// TLS keys and their files, and that no message or summary ever shows the secret.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "config_fixture.hpp"

namespace nodebridge {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::load_in;
using testing::Loaded;
using ::testing::Not;
using testing::TempDir;

constexpr const char* kSecret = "Tr0ub4dor-and-3";

std::string write_private(const TempDir& dir, const std::string& name, const std::string& text,
                          mode_t mode) {
    const std::string path = dir.write(name, text);
    ::chmod(path.c_str(), mode);
    return path;
}

Loaded load_mqtt(const TempDir& dir, const std::string& mqtt_lines) {
    dir.write("config.yaml", "gateway: gw\nmqtt:\n" + mqtt_lines);
    return load_in(dir);
}

std::vector<std::string> warnings_of(const TempDir& dir) {
    std::vector<std::string> out;
    for (const auto& warning : load_config(dir.path() + "/config.yaml").warnings) {
        out.push_back(warning.to_string());
    }
    return out;
}

// Sets an environment variable for the test's duration.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }

  private:
    const char* name_;
    std::optional<std::string> old_;
};

TEST(MqttSecurity, PasswordFileIsReadWithoutItsLineBreak) {
    TempDir dir;
    write_private(dir, "secrets/mqtt-password", std::string(kSecret) + "\n", 0600);
    auto loaded = load_mqtt(dir, "  username: alice\n  password_file: secrets/mqtt-password\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const MqttConfig& mqtt = loaded.config->mqtt;
    EXPECT_EQ(mqtt.password, kSecret);
    EXPECT_EQ(mqtt.password_source, PasswordSource::file);
    EXPECT_EQ(mqtt.password_file, dir.path() + "/secrets/mqtt-password");
    EXPECT_TRUE(warnings_of(dir).empty()) << ::testing::PrintToString(warnings_of(dir));
}

TEST(MqttSecurity, PasswordFileReadableByOthersIsRefusedWithoutShowingIt) {
    TempDir dir;
    write_private(dir, "pw", kSecret, 0644);
    auto loaded = load_mqtt(dir, "  username: alice\n  password_file: pw\n");
    EXPECT_FALSE(loaded.config);
    ASSERT_EQ(loaded.errors.size(), 1u);
    EXPECT_THAT(loaded.errors[0],
                AllOf(HasSubstr("config.yaml:4:18: password_file: '" + dir.path() + "/pw'"),
                      HasSubstr("group or others (mode 0644)"), HasSubstr("chmod 600"),
                      Not(HasSubstr(kSecret))));

    ::chmod((dir.path() + "/pw").c_str(), 0640);
    EXPECT_THAT(load_in(dir).errors, ElementsAre(HasSubstr("(mode 0640)")));
    ::chmod((dir.path() + "/pw").c_str(), 0400);
    EXPECT_TRUE(load_in(dir).errors.empty()) << ::testing::PrintToString(load_in(dir).errors);
}

TEST(MqttSecurity, MissingOrEmptyPasswordFileIsAnError) {
    TempDir dir;
    auto missing = load_mqtt(dir, "  username: alice\n  password_file: nope\n");
    EXPECT_THAT(missing.errors, ElementsAre(HasSubstr("password_file: '" + dir.path() +
                                                      "/nope': No such file or directory")));
    write_private(dir, "empty", "\n", 0600);
    auto empty = load_mqtt(dir, "  username: alice\n  password_file: empty\n");
    EXPECT_THAT(empty.errors, ElementsAre(HasSubstr("is empty")));
}

TEST(MqttSecurity, PasswordCredentialComesFromTheCredentialsDirectory) {
    TempDir dir;
    write_private(dir, "creds/mqtt-password", kSecret, 0400);
    {
        ScopedEnv env("CREDENTIALS_DIRECTORY", dir.path() + "/creds");
        auto loaded = load_mqtt(dir, "  username: alice\n  password_credential: mqtt-password\n");
        ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
        EXPECT_EQ(loaded.config->mqtt.password, kSecret);
        EXPECT_EQ(loaded.config->mqtt.password_source, PasswordSource::credential);
        EXPECT_THAT(describe(*loaded.config),
                    AllOf(HasSubstr("password: (from systemd credential mqtt-password)"),
                          Not(HasSubstr(kSecret))));

        auto absent = load_mqtt(dir, "  username: alice\n  password_credential: other\n");
        EXPECT_THAT(absent.errors, ElementsAre(HasSubstr("/creds/other': No such file")));
        auto escaping = load_mqtt(dir, "  username: alice\n  password_credential: ../x\n");
        EXPECT_THAT(escaping.errors, ElementsAre(HasSubstr("expected a credential name")));
    }
    ScopedEnv unset("CREDENTIALS_DIRECTORY", "");
    auto loaded = load_mqtt(dir, "  username: alice\n  password_credential: mqtt-password\n");
    EXPECT_THAT(loaded.errors,
                ElementsAre("config.yaml:4:24: password_credential: $CREDENTIALS_DIRECTORY is "
                            "not set; systemd sets it for a unit with "
                            "LoadCredential=mqtt-password:/path/to/secret"));
}

TEST(MqttSecurity, InlinePasswordIsAcceptedWithAWarning) {
    TempDir dir;
    auto loaded = load_mqtt(dir, "  username: alice\n  password: " + std::string(kSecret) + "\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    EXPECT_EQ(loaded.config->mqtt.password_source, PasswordSource::inline_text);
    const auto warnings = warnings_of(dir);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_THAT(warnings[0], AllOf(HasSubstr("config.yaml:4:13: password: written in the config"),
                                   HasSubstr("use password_file or password_credential"),
                                   Not(HasSubstr(kSecret))));
    EXPECT_THAT(describe(*loaded.config),
                AllOf(HasSubstr("password: (inline in the config file)"), Not(HasSubstr(kSecret))));
}

TEST(MqttSecurity, OnlyOnePasswordSourceAndAlwaysWithAUsername) {
    TempDir dir;
    write_private(dir, "pw", kSecret, 0600);
    auto both = load_mqtt(dir, "  username: a\n  password: x\n  password_file: pw\n");
    EXPECT_THAT(both.errors,
                ElementsAre("config.yaml:5:3: password_file: give only one of password, "
                            "password_file and password_credential"));
    auto no_user = load_mqtt(dir, "  password_file: pw\n");
    EXPECT_THAT(no_user.errors,
                ElementsAre("config.yaml:3:3: password_file: needs a username as well"));
}

TEST(MqttSecurity, TlsReadsEveryKeyAndDefaultsThePortTo8883) {
    TempDir dir;
    dir.write("ca.pem", "x");
    dir.write("client.pem", "x");
    write_private(dir, "client.key", "x", 0600);
    auto loaded = load_mqtt(dir,
                            "  tls:\n"
                            "    ca_file: ca.pem\n"
                            "    ca_path: .\n"
                            "    cert_file: client.pem\n"
                            "    key_file: client.key\n"
                            "    min_version: 1.3\n"
                            "    ciphers: ECDHE-RSA-AES256-GCM-SHA384\n"
                            "    verify_hostname: true\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    const MqttConfig& mqtt = loaded.config->mqtt;
    ASSERT_TRUE(mqtt.tls);
    EXPECT_EQ(mqtt.port, 8883);
    EXPECT_EQ(mqtt.tls->ca_file, dir.path() + "/ca.pem");
    EXPECT_EQ(mqtt.tls->ca_path, dir.path());
    EXPECT_EQ(mqtt.tls->cert_file, dir.path() + "/client.pem");
    EXPECT_EQ(mqtt.tls->key_file, dir.path() + "/client.key");
    EXPECT_EQ(mqtt.tls->min_version, "1.3");
    EXPECT_EQ(mqtt.tls->ciphers, "ECDHE-RSA-AES256-GCM-SHA384");
    EXPECT_TRUE(mqtt.tls->verify_hostname);
    EXPECT_FALSE(mqtt.tls->insecure);
    EXPECT_TRUE(warnings_of(dir).empty()) << ::testing::PrintToString(warnings_of(dir));
    EXPECT_THAT(describe(*loaded.config),
                AllOf(HasSubstr("mqtt tls: TLS 1.3 or later, broker certificate verified"),
                      HasSubstr("client certificate " + dir.path() + "/client.pem")));

    auto explicit_port = load_mqtt(dir, "  port: 1884\n  tls: { ca_file: ca.pem }\n");
    ASSERT_TRUE(explicit_port.config);
    EXPECT_EQ(explicit_port.config->mqtt.port, 1884);
    EXPECT_EQ(explicit_port.config->mqtt.tls->min_version, "1.2");
    auto plain = load_mqtt(dir, "  port: 1884\n");
    ASSERT_TRUE(plain.config);
    EXPECT_FALSE(plain.config->mqtt.tls);
    EXPECT_THAT(describe(*plain.config), HasSubstr("mqtt tls: off"));
}

TEST(MqttSecurity, TlsFilesMustExistAndComeInPairs) {
    TempDir dir;
    dir.write("client.pem", "x");
    auto loaded = load_mqtt(dir,
                            "  tls:\n"
                            "    ca_file: missing.pem\n"
                            "    ca_path: client.pem\n"
                            "    cert_file: client.pem\n"
                            "    min_version: 1.1\n"
                            "    ciphers: NOT-A-CIPHER\n"
                            "    tls_version: 1.2\n");
    EXPECT_THAT(loaded.errors,
                ElementsAre(HasSubstr("config.yaml:4:14: ca_file: '" + dir.path() +
                                      "/missing.pem': No such file or directory"),
                            HasSubstr("config.yaml:5:14: ca_path: '" + dir.path() +
                                      "/client.pem' is not a directory"),
                            "config.yaml:6:5: cert_file: needs key_file as well",
                            "config.yaml:7:18: min_version: expected \"1.2\" or \"1.3\", got \"1.1\"",
                            "config.yaml:8:14: ciphers: OpenSSL accepts none of 'NOT-A-CIPHER'",
                            HasSubstr("config.yaml:9:5: unknown key 'tls_version' in mqtt.tls")));
}

TEST(MqttSecurity, InsecureAndUncheckedHostNamesAreWarnedAbout) {
    TempDir dir;
    write_private(dir, "client.key", "x", 0644);
    dir.write("client.pem", "x");
    auto loaded = load_mqtt(dir,
                            "  tls:\n"
                            "    insecure: true\n"
                            "    verify_hostname: false\n"
                            "    cert_file: client.pem\n"
                            "    key_file: client.key\n");
    ASSERT_TRUE(loaded.config) << ::testing::PrintToString(loaded.errors);
    EXPECT_TRUE(loaded.config->mqtt.tls->insecure);
    EXPECT_THAT(warnings_of(dir),
                ElementsAre(HasSubstr("4:15: insecure: true: the broker's certificate is not"),
                            HasSubstr("5:22: verify_hostname: false"),
                            HasSubstr("7:15: key_file: '" + dir.path() +
                                      "/client.key' can be read by group or others")));
    EXPECT_THAT(describe(*loaded.config), HasSubstr("NOT verified (insecure)"));
}

}  // namespace
}  // namespace nodebridge
