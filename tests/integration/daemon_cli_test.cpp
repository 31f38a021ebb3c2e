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

// Issue #23: --check-config shows the reads per second each bus needs and, for an RTU line,
// that figure against what the line can carry; an over-committed line is a warning (exit 0).
// Ten meters of 20 float32 registers at 9600 baud: read whole every second they need 104%
// of the line (one 40-register read takes 104 ms on the wire); with half the registers read
// once a minute, 64%.
std::string ten_meters(const TempDir& dir, const std::string& name, const std::string& slow_poll) {
    std::string attributes;
    for (int k = 0; k < 20; ++k) {
        attributes += "      a" + std::to_string(k) +
                      ": { table: input, address: " + std::to_string(2 * k) + ", type: float32" +
                      (k >= 10 ? slow_poll : std::string()) + " }\n";
    }
    return dir.write(name,
                     "gateway: gw\n"
                     "mqtt: { host: 127.0.0.1, buffer: { dir: \"\" } }\n"
                     "models:\n"
                     "  meter:\n"
                     "    attributes:\n" +
                         attributes +
                         "sources:\n"
                         "  - name: line\n"
                         "    type: modbus-rtu\n"
                         "    device: /dev/ttyUSB0\n"
                         "    baud: 9600\n"
                         "    nodes:\n"
                         "      - { id: \"m-{unit}\", units: 1-10, model: meter, poll: 1s }\n");
}

TEST(DaemonCli, CheckConfigWarnsAboutAnOvercommittedRtuLine) {
    TempDir dir;
    const std::string all = ten_meters(dir, "all.yaml", "");
    const DaemonRun busy = run_daemon(dir, {"--check-config", "-c", all});
    EXPECT_EQ(busy.exit_code, 0) << busy.output;
    EXPECT_NE(busy.output.find("bus line: 10.0 reads/s, 104% of what the 9600-baud line carries "
                               "at most (9.6 reads/s"),
              std::string::npos)
        << busy.output;
    EXPECT_NE(busy.output.find("warning: " + all +
                               ":27:5: source 'line' needs 10.0 reads/s, "
                               "more than its 9600-baud line can carry"),
              std::string::npos)
        << busy.output;

    const std::string split = ten_meters(dir, "split.yaml", ", poll: 1m");
    const DaemonRun fits = run_daemon(dir, {"--check-config", "-c", split});
    EXPECT_EQ(fits.exit_code, 0) << fits.output;
    EXPECT_NE(fits.output.find("bus line: 10.2 reads/s, 64% of what the 9600-baud line carries"),
              std::string::npos)
        << fits.output;
    EXPECT_EQ(fits.output.find("warning"), std::string::npos) << fits.output;
    EXPECT_EQ(fits.output.find("over-committed"), std::string::npos) << fits.output;
}

// Issue #15: a spool directory the daemon could not use. A path under a plain file cannot
// be created even by root, so these hold whoever runs the tests.
std::string config_with_unusable_spool(const TempDir& dir, bool required) {
    const std::string spool = dir.write("plain-file", "x") + "/spool";
    const std::string port = std::to_string(free_port());
    const std::string buffer =
        "{ dir: " + spool + ", required: " + (required ? "true" : "false") + " }";
    return dir.write("spool.yaml", "gateway: gw\nmqtt:\n  host: 127.0.0.1\n  port: " + port +
                                       "\n  buffer: " + buffer + "\n");
}

TEST(DaemonCli, CheckConfigWarnsAboutASpoolDirectoryItCannotUse) {
    TempDir dir;
    const std::string path = config_with_unusable_spool(dir, false);
    const DaemonRun run = run_daemon(dir, {"--check-config", "-c", path});
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("warning: spool: cannot create '" + dir.file("plain-file") +
                              "/spool': '" + dir.file("plain-file") + "' is not a directory"),
              std::string::npos)
        << run.output;
    EXPECT_NE(run.output.find("memory only. Fix: give the directory and its files to user"),
              std::string::npos)
        << run.output;
}

TEST(DaemonCli, ARequiredSpoolItCannotUseFailsCheckConfigWith78) {
    TempDir dir;
    const DaemonRun run =
        run_daemon(dir, {"--check-config", "-c", config_with_unusable_spool(dir, true)});
    EXPECT_EQ(run.exit_code, 78) << run.output;
    EXPECT_NE(run.output.find("error: spool: cannot create"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("will refuse to start (mqtt.buffer.required)"), std::string::npos)
        << run.output;
}

TEST(DaemonCli, ARequiredSpoolItCannotUseRefusesToStartWith78) {
    TempDir dir;
    const DaemonRun run = run_daemon(dir, {"-c", config_with_unusable_spool(dir, true)});
    EXPECT_EQ(run.exit_code, 78) << run.output;
    EXPECT_NE(run.output.find("mqtt.buffer.required is true, so nodebridged stops"),
              std::string::npos)
        << run.output;
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
