// nodebridge scan serial over a pty pair (issue #22): the receiver simulator sends at 115200
// (--check-line: at any other rate its reports arrive as bytes that are no text); the scan
// finds the rate, recognises the format (kv, json, csv), lists the node ids, and the source it
// prints passes nodebridged --check-config.

#include <gtest/gtest.h>

#include <filesystem>

#include "support/support.hpp"

namespace nodebridge::test {
namespace {

class CliScanSerial : public ::testing::TestWithParam<std::string> {};

TEST_P(CliScanSerial, FindsTheRateTheFormatAndTheNodes) {
    const std::string format = GetParam();
    TempDir dir;
    Process sim({SIM_PATH, "serial-nodes", "--link", dir.file("ttyRX"), "--nodes", "3", "--format",
                 format, "--interval", "100ms", "--garbage", "0", "--dropouts", "no", "--baud",
                 "115200", "--check-line"},
                dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    Process cli({NODEBRIDGE_CLI_PATH, "scan", "serial", dir.file("ttyRX"), "--baud", "9600,115200",
                 "--listen", "800ms"},
                dir.file("cli.log"));
    ASSERT_EQ(cli.wait_for_exit(10s), 0) << cli.output();
    const std::string output = cli.output();
    EXPECT_NE(output.find("9600: "), std::string::npos) << output;
    EXPECT_NE(output.find("no format fits"), std::string::npos) << output;  // 9600: no text
    EXPECT_NE(output.find("115200: format " + format + " ("), std::string::npos) << output;
    EXPECT_NE(output.find(", 3 nodes"), std::string::npos) << output;
    for (const char* id : {"0A1B00", "0A1B01", "0A1B02"}) {
        EXPECT_NE(output.find(std::string("  ") + id + ": "), std::string::npos) << output;
    }
    const auto at = output.find("\nsources:\n");
    ASSERT_NE(at, std::string::npos) << output;
    const std::string block = output.substr(at + 1);
    EXPECT_NE(block.find("baud: 115200\n    format: " + format + "\n"), std::string::npos) << block;
    std::filesystem::create_directories(dir.file("conf.d"));
    std::filesystem::create_directories(dir.file("models"));
    dir.write("conf.d/scan.yaml", block);
    const std::string main = dir.write(
        "nodebridge.yaml", "gateway: gw\nmqtt: { host: 127.0.0.1 }\ninclude: [conf.d/*.yaml]\n");
    Process check(
        {NODEBRIDGED_PATH, "--check-config", "-c", main, "--model-dir", dir.file("models")},
        dir.file("check.log"));
    EXPECT_EQ(check.wait_for_exit(20s), 0) << block << "\n" << check.output();
}

INSTANTIATE_TEST_SUITE_P(Formats, CliScanSerial, ::testing::Values("kv", "json", "csv"));

TEST(CliScanSerialLine, NothingKnownAtTheWrongRate) {
    TempDir dir;
    Process sim(
        {SIM_PATH, "serial-nodes", "--link", dir.file("ttyRX"), "--nodes", "2", "--interval",
         "100ms", "--garbage", "0", "--dropouts", "no", "--baud", "115200", "--check-line"},
        dir.file("sim.log"));
    ASSERT_TRUE(sim.wait_for_output("ready", 10s)) << sim.output();
    Process cli({NODEBRIDGE_CLI_PATH, "scan", "serial", dir.file("ttyRX"), "--baud", "9600",
                 "--listen", "500ms"},
                dir.file("cli.log"));
    EXPECT_EQ(cli.wait_for_exit(10s), 1) << cli.output();
    EXPECT_NE(cli.output().find("no rate gave lines of a known format"), std::string::npos)
        << cli.output();
}

}  // namespace
}  // namespace nodebridge::test
