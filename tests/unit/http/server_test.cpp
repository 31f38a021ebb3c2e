#include "server.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "nodebridge/config.hpp"
#include "support/support.hpp"

namespace nodebridge::http {
namespace {

class NullLogger final : public Logger {
  public:
    NullLogger() : Logger(LogLevel::debug) {}

  protected:
    void write(LogLevel, std::string_view, const LogContext&) override {}
};

std::string none(const char*) { return ""; }

TEST(Server, RoutesEveryPathAndAnswers404ForOthers) {
    NullLogger log;
    HttpConfig config;
    config.port = 0;  // the system picks one
    config.static_dir = std::string(SOURCE_DIR) + "/src/http/static";
    Server server(config, log, nullptr);
    ASSERT_EQ(server.start(), "");
    EXPECT_GT(server.port(), 0);
    EXPECT_EQ(server.route("/metrics", none).status, 503u);  // nothing published yet
    auto view = std::make_shared<View>();
    view->nodes = std::make_shared<NodesSnapshot>();
    server.publish(view);
    EXPECT_EQ(server.route("/metrics", none).status, 200u);
    EXPECT_EQ(server.route("/api/status", none).status, 200u);
    EXPECT_EQ(server.route("/api/nodes", none).status, 200u);
    EXPECT_EQ(server.route("/api/node", none).status, 400u);
    const Server::Reply page = server.route("/", none);
    EXPECT_EQ(page.status, 200u);
    ASSERT_NE(page.shared, nullptr);
    EXPECT_NE(page.shared->find("app.js"), std::string::npos);
    EXPECT_EQ(server.route("/../etc/passwd", none).status, 404u);
    EXPECT_EQ(server.route("/app.js/", none).status, 404u);
    server.stop();
}

TEST(Server, MissingPageFilesAnswer404AndTheRestWorks) {
    NullLogger log;
    test::TempDir empty;
    HttpConfig config;
    config.port = 0;
    config.static_dir = empty.path();
    Server server(config, log, nullptr);
    ASSERT_EQ(server.start(), "");
    auto view = std::make_shared<View>();
    view->nodes = std::make_shared<NodesSnapshot>();
    server.publish(view);
    const Server::Reply page = server.route("/", none);
    EXPECT_EQ(page.status, 404u);
    EXPECT_NE(page.body.find(empty.path()), std::string::npos);
    EXPECT_EQ(server.route("/metrics", none).status, 200u);
}

TEST(Server, AnAddressInUseIsAnErrorNotACrash) {
    NullLogger log;
    HttpConfig config;
    config.port = 0;
    Server first(config, log, nullptr);
    ASSERT_EQ(first.start(), "");
    config.port = first.port();
    Server second(config, log, nullptr);
    EXPECT_NE(second.start().find("cannot listen on 127.0.0.1:"), std::string::npos);
}

TEST(HttpConfig, ANonLoopbackAddressIsWarnedAbout) {
    test::TempDir dir;
    const std::string path = dir.write("c.yaml", "gateway: g\nhttp:\n  listen: 0.0.0.0:9108\n");
    LoadResult result = load_config(path);
    ASSERT_TRUE(result.config) << (result.errors.empty() ? "" : result.errors[0].to_string());
    ASSERT_TRUE(result.config->http);
    EXPECT_EQ(result.config->http->address, "0.0.0.0");
    ASSERT_EQ(result.warnings.size(), 1u);
    EXPECT_NE(result.warnings[0].to_string().find("c.yaml:3:11: listen: 0.0.0.0 is not a loopback"),
              std::string::npos)
        << result.warnings[0].to_string();

    const std::string loopback =
        dir.write("l.yaml", "gateway: g\nhttp: { listen: \"127.0.0.2:1\" }\n");
    result = load_config(loopback);
    ASSERT_TRUE(result.config);
    EXPECT_TRUE(result.warnings.empty());
    EXPECT_FALSE(load_config(dir.write("off.yaml", "gateway: g\nhttp: false\n")).config->http);
    auto empty = load_config(dir.write("empty.yaml", "gateway: g\nhttp:\n")).config->http;
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->address, "127.0.0.1");
    EXPECT_EQ(empty->port, 9108);
    EXPECT_FALSE(load_config(dir.write("none.yaml", "gateway: g\n")).config->http);
}

TEST(HttpConfig, TlsAndAPasswordSilenceTheWarningAndNeverShowTheSecret) {
    test::TempDir dir;
    dir.write("cert.pem", "x");
    dir.write("key.pem", "x");
    const std::string secret = dir.write("secret", "hunter2-hunter2\n");
    std::filesystem::permissions(secret, std::filesystem::perms::owner_read);
    const std::string base =
        "gateway: g\nhttp:\n  listen: 0.0.0.0:9108\n  username: u\n  password_file: secret\n";
    LoadResult result = load_config(
        dir.write("both.yaml", base + "  tls: { cert_file: cert.pem, key_file: key.pem }\n"));
    ASSERT_TRUE(result.config) << (result.errors.empty() ? "" : result.errors[0].to_string());
    EXPECT_TRUE(result.warnings.empty()) << result.warnings[0].to_string();
    EXPECT_EQ(result.config->http->password, "hunter2-hunter2");
    EXPECT_EQ(result.config->http->tls_cert_file, dir.file("cert.pem"));
    const std::string described = describe(*result.config);
    EXPECT_EQ(described.find("hunter2"), std::string::npos);
    EXPECT_NE(described.find("https://0.0.0.0:9108/"), std::string::npos) << described;

    result = load_config(dir.write("password-only.yaml", base));
    ASSERT_EQ(result.warnings.size(), 1u);
    EXPECT_NE(result.warnings[0].to_string().find("unencrypted"), std::string::npos);

    result =
        load_config(dir.write("no-user.yaml", "gateway: g\nhttp: { password_file: secret }\n"));
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_NE(result.errors[0].to_string().find("needs a username"), std::string::npos);
}

}  // namespace
}  // namespace nodebridge::http
