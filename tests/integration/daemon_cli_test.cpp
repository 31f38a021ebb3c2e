// nodebridged's command line: --check-config, --version, --help, and refusing bad configs.

#include <gtest/gtest.h>

#include "support/support.hpp"

namespace nodebridge::test {
namespace {

struct DaemonRun {
    int exit_code;
    std::string output;
};

DaemonRun run_daemon(const TempDir& dir, std::vector<std::string> args) {
    args.insert(args.begin(), NODEBRIDGED_PATH);
    Process process(args, dir.file("out-" + std::to_string(free_port()) + ".log"));
    auto code = process.wait_for_exit(20s);
    EXPECT_TRUE(code.has_value()) << "nodebridged did not exit";
    return {code.value_or(-1), process.output()};
}

TEST(DaemonCli, CheckConfigAcceptsTheShippedExample) {
    TempDir dir;
    const DaemonRun run =
        run_daemon(dir, {"--check-config", "-c", SOURCE_DIR "/config/examples/modbus.yaml"});
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("dc1/gw-01/{node}/{attribute}"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("pdu-bus"), std::string::npos) << run.output;
}

TEST(DaemonCli, CheckConfigPrintsEveryPositionedErrorAndExits78) {
    TempDir dir;
    const std::string path = dir.write("bad.yaml",
                                       "gateway: gw\n"
                                       "mqtt:\n"
                                       "  hots: 127.0.0.1\n"
                                       "mappings:\n"
                                       "  - topic: a/{nod}\n");
    const DaemonRun run = run_daemon(dir, {"--check-config", "-c", path});
    EXPECT_EQ(run.exit_code, 78) << run.output;
    EXPECT_NE(run.output.find(path + ":3:3: "), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("did you mean 'host'"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find(path + ":5:"), std::string::npos) << run.output;
}

TEST(DaemonCli, RunningWithAnInvalidConfigFailsTheSameWay) {
    TempDir dir;
    const std::string path = dir.write("bad.yaml", "gateway: gw\nmqtt: { port: many }\n");
    const DaemonRun run = run_daemon(dir, {"-c", path});
    EXPECT_EQ(run.exit_code, 78) << run.output;
    EXPECT_NE(run.output.find(path + ":2:"), std::string::npos) << run.output;
}

TEST(DaemonCli, MissingConfigFileIsAConfigError) {
    TempDir dir;
    const DaemonRun run = run_daemon(dir, {"--check-config", "-c", dir.file("nope.yaml")});
    EXPECT_EQ(run.exit_code, 78) << run.output;
    EXPECT_NE(run.output.find("nope.yaml"), std::string::npos) << run.output;
}

TEST(DaemonCli, VersionHelpAndUnknownOptions) {
    TempDir dir;
    const DaemonRun version = run_daemon(dir, {"--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_EQ(version.output.rfind("nodebridged ", 0), 0u) << version.output;

    const DaemonRun help = run_daemon(dir, {"--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.output.find("--check-config"), std::string::npos);

    const DaemonRun bad = run_daemon(dir, {"--frobnicate"});
    EXPECT_EQ(bad.exit_code, 64);
    EXPECT_NE(bad.output.find("unknown option '--frobnicate'"), std::string::npos);

    const DaemonRun bad_level = run_daemon(dir, {"--log-level", "loud"});
    EXPECT_EQ(bad_level.exit_code, 64);
}

}  // namespace
}  // namespace nodebridge::test
