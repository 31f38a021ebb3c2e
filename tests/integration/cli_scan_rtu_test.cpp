// nodebridge scan rtu over a pty pair (issue #22): the simulator runs its line at one baud
// rate (--check-line: it hears only requests sent at its settings), and the scan finds that
// rate, the units and their model; a port another program holds (a lock of the test's own,
// or nodebridged polling it) is refused with a clear message; Ctrl-C ends the scan with the
// port back at the settings it had.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "support/support.hpp"

namespace nodebridge::test {
namespace {

const std::string kLibraryDir = std::string(SOURCE_DIR) + "/models";

struct CliRun {
    std::optional<int> code;
    std::string output;
};

CliRun run_cli(const TempDir& dir, std::vector<std::string> args, Millis timeout = 60s) {
    args.insert(args.begin(), NODEBRIDGE_CLI_PATH);
    Process cli(args, dir.file("cli.log"));
    CliRun run;
    run.code = cli.wait_for_exit(timeout);
    run.output = cli.output();
    return run;
}

// The simulator's line: the EM24 model at units 3 and 8, heard only at 19200 8N1.
std::unique_ptr<Process> start_line(const TempDir& dir, const std::string& units = "3,8") {
    auto sim = std::make_unique<Process>(
        std::vector<std::string>{SIM_PATH, "modbus-rtu", "--link", dir.file("ttySIM"), "--model",
                                 "carlo-gavazzi-em24", "--model-dir", kLibraryDir, "--units", units,
                                 "--baud", "19200", "--parity", "none", "--check-line"},
        dir.file("sim.log"));
    if (!sim->wait_for_output("ready", 10s)) throw std::runtime_error(sim->output());
    return sim;
}

TEST(CliScanRtu, FindsTheLinesBaudRateItsUnitsAndTheirModel) {
    TempDir dir;
    auto sim = start_line(dir);
    const CliRun run =
        run_cli(dir, {"scan", "rtu", dir.file("ttySIM"), "--baud", "9600,19200", "--parity", "none",
                      "--units", "1-10", "--timeout", "50ms", "--model-dir", kLibraryDir});
    ASSERT_EQ(run.code, 0) << run.output;
    EXPECT_LT(run.output.find("worst case:"), run.output.find("line: ")) << run.output;
    // 9600 came first in the sweep and nothing answered it.
    EXPECT_NE(run.output.find("line: 19200 8N1"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("2 of 10 units answered: 3, 8"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("    carlo-gavazzi-em24: input 0x000B = 71"), std::string::npos)
        << run.output;
    const auto at = run.output.find("\nsources:\n");
    ASSERT_NE(at, std::string::npos) << run.output;
    const std::string block = run.output.substr(at + 1);
    EXPECT_NE(block.find("baud: 19200\n    parity: none\n"), std::string::npos) << block;
    // The block passes --check-config as a conf.d file.
    std::filesystem::create_directories(dir.file("conf.d"));
    dir.write("conf.d/scan.yaml", block);
    const std::string main = dir.write(
        "nodebridge.yaml", "gateway: gw\nmqtt: { host: 127.0.0.1 }\ninclude: [conf.d/*.yaml]\n");
    Process check({NODEBRIDGED_PATH, "--check-config", "-c", main, "--model-dir", kLibraryDir},
                  dir.file("check.log"));
    EXPECT_EQ(check.wait_for_exit(20s), 0) << block << "\n" << check.output();
}

TEST(CliScanRtu, NothingAnswersAtTheWrongSettings) {
    TempDir dir;
    auto sim = start_line(dir);
    const CliRun run =
        run_cli(dir, {"scan", "rtu", dir.file("ttySIM"), "--baud", "9600", "--parity", "none",
                      "--units", "1-10", "--timeout", "30ms", "--model-dir", kLibraryDir});
    EXPECT_EQ(run.code, 1) << run.output;
    EXPECT_NE(run.output.find("no unit answered at any setting tried"), std::string::npos)
        << run.output;
}

TEST(CliScanRtu, GarbageIsReportedNeverTakenForAUnit) {
    TempDir dir;
    // Every reply has a bit flipped: bytes arrive, none is a frame with a good CRC.
    Process sim(
        {SIM_PATH, "modbus-rtu", "--link", dir.file("ttySIM"), "--model", "carlo-gavazzi-em24",
         "--model-dir", kLibraryDir, "--units", "3,8", "--corrupt", "1"},
        dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    const CliRun run =
        run_cli(dir, {"scan", "rtu", dir.file("ttySIM"), "--baud", "19200", "--parity", "none",
                      "--units", "1-10", "--timeout", "50ms", "--model-dir", kLibraryDir});
    EXPECT_EQ(run.code, 1) << run.output;
    EXPECT_NE(run.output.find("garbage (bytes that were no reply) arrived at: 19200 8N1 (2)"),
              std::string::npos)
        << run.output;
}

TEST(CliScanRtu, APortAnotherProgramHoldsIsRefused) {
    TempDir dir;
    auto sim = start_line(dir);
    const int fd = ::open(dir.file("ttySIM").c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    const CliRun run =
        run_cli(dir, {"scan", "rtu", dir.file("ttySIM"), "--baud", "19200", "--parity", "none",
                      "--units", "3", "--model-dir", kLibraryDir});
    ::close(fd);
    EXPECT_EQ(run.code, 2) << run.output;
    EXPECT_NE(run.output.find("is in use by another program"), std::string::npos) << run.output;
}

TEST(CliScanRtu, TheDaemonTakesItsLineExclusively) {
    TempDir dir;
    auto sim = start_line(dir);
    Broker broker;
    broker.start();
    const std::string config =
        dir.write("nodebridge.yaml",
                  "gateway: gw\nmqtt: { host: 127.0.0.1, port: " + std::to_string(broker.port()) +
                      ", buffer: { dir: " + dir.file("spool") +
                      " } }\n"
                      "sources:\n  - name: line\n    type: modbus-rtu\n    device: " +
                      dir.file("ttySIM") +
                      "\n    baud: 19200\n    timeout: 300ms\n    nodes:\n"
                      "      - { id: meter, unit: 3, poll: 200ms, model: carlo-gavazzi-em24 }\n"
                      "mappings:\n  - { name: all, match: { source: line }, topic: "
                      "\"rtu/{node}/{attribute}\", payload: value, qos: 0 }\n");
    Subscriber subscriber(broker.port(), {"rtu/#"});
    Process daemon({NODEBRIDGED_PATH, "-c", config, "--model-dir", kLibraryDir},
                   dir.file("daemon.log"));
    ASSERT_TRUE(subscriber.wait_for_message("rtu/meter/frequency", 15s)) << daemon.output();
    const CliRun run =
        run_cli(dir, {"scan", "rtu", dir.file("ttySIM"), "--baud", "19200", "--parity", "none",
                      "--units", "3", "--model-dir", kLibraryDir});
    EXPECT_EQ(run.code, 2) << run.output;
    EXPECT_NE(run.output.find("is in use by another program"), std::string::npos) << run.output;
    // The daemon goes on polling.
    subscriber.clear();
    EXPECT_TRUE(subscriber.wait_for_message("rtu/meter/frequency", 10s)) << daemon.output();
}

speed_t speed_of(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    termios tio{};
    ::tcgetattr(fd, &tio);
    ::close(fd);
    return cfgetospeed(&tio);
}

TEST(CliScanRtu, CtrlCEndsTheScanWithThePortsSettingsRestored) {
    TempDir dir;
    auto sim = start_line(dir, "200");
    {
        const int fd = ::open(dir.file("ttySIM").c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        termios tio{};
        ASSERT_EQ(::tcgetattr(fd, &tio), 0);
        cfsetispeed(&tio, B4800);
        cfsetospeed(&tio, B4800);
        ASSERT_EQ(::tcsetattr(fd, TCSANOW, &tio), 0);
        ::close(fd);  // the simulator keeps the pty open, so the settings stay
    }
    ASSERT_EQ(speed_of(dir.file("ttySIM")), B4800);
    Process cli({NODEBRIDGE_CLI_PATH, "scan", "rtu", dir.file("ttySIM"), "--baud", "19200",
                 "--units", "1-100", "--timeout", "100ms", "--model-dir", kLibraryDir},
                dir.file("cli.log"));
    ASSERT_TRUE(cli.wait_for_output("worst case:", 10s)) << cli.output();
    std::this_thread::sleep_for(400ms);  // well into the sweep, at 19200
    EXPECT_EQ(speed_of(dir.file("ttySIM")), B19200);
    cli.signal(SIGINT);
    const auto code = cli.wait_for_exit(5s);
    EXPECT_EQ(code, 130) << cli.output();
    EXPECT_NE(cli.output().find("interrupted"), std::string::npos) << cli.output();
    EXPECT_EQ(speed_of(dir.file("ttySIM")), B4800);
}

TEST(CliScanRtu, APortThatGoesAwayMidScanEndsItWithAClearMessage) {
    TempDir dir;
    auto sim = start_line(dir, "200");
    Process cli({NODEBRIDGE_CLI_PATH, "scan", "rtu", dir.file("ttySIM"), "--baud", "19200",
                 "--units", "1-100", "--timeout", "100ms", "--model-dir", kLibraryDir},
                dir.file("cli.log"));
    ASSERT_TRUE(cli.wait_for_output("worst case:", 10s)) << cli.output();
    std::this_thread::sleep_for(300ms);
    sim.reset();  // the adapter is unplugged: the pty's master side closes
    const auto code = cli.wait_for_exit(5s);
    EXPECT_EQ(code, 2) << cli.output();
    EXPECT_NE(cli.output().find("went away"), std::string::npos) << cli.output();
}

}  // namespace
}  // namespace nodebridge::test
