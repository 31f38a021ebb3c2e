#include "sources/serial/serial_port.hpp"

#include <gtest/gtest.h>
#include <pty.h>
#include <unistd.h>

namespace nodebridge::serial {
namespace {

TEST(ConfigureTermios, SetsRawModeAndLineSettings) {
    SerialLine line;
    line.baud = 115200;
    line.parity = Parity::odd;
    line.data_bits = 7;
    line.stop_bits = 2;
    line.flow_control = FlowControl::rtscts;
    termios tio{};
    tio.c_lflag = ECHO | ICANON;
    std::string error;
    ASSERT_TRUE(configure_termios(tio, line, error)) << error;
    EXPECT_EQ(cfgetispeed(&tio), B115200);
    EXPECT_EQ(cfgetospeed(&tio), B115200);
    EXPECT_EQ(tio.c_cflag & CSIZE, static_cast<tcflag_t>(CS7));
    EXPECT_TRUE(tio.c_cflag & PARENB);
    EXPECT_TRUE(tio.c_cflag & PARODD);
    EXPECT_TRUE(tio.c_cflag & CSTOPB);
    EXPECT_TRUE(tio.c_cflag & CRTSCTS);
    EXPECT_FALSE(tio.c_lflag & (ECHO | ICANON));
    EXPECT_FALSE(tio.c_iflag & (IXON | ICRNL));
}

TEST(ConfigureTermios, RefusesImpossibleSettings) {
    termios tio{};
    std::string error;
    SerialLine line;
    line.baud = 12345;
    EXPECT_FALSE(configure_termios(tio, line, error));
    EXPECT_NE(error.find("12345"), std::string::npos);
    line = SerialLine{};
    line.data_bits = 9;
    EXPECT_FALSE(configure_termios(tio, line, error));
    line = SerialLine{};
    line.stop_bits = 3;
    EXPECT_FALSE(configure_termios(tio, line, error));
}

TEST(SerialPort, ReportsAMissingDevice) {
    SerialLine line;
    line.device = "/nonexistent/ttyUSB9";
    SerialPort port(line);
    std::string error;
    EXPECT_FALSE(port.open(error));
    EXPECT_NE(error.find("/nonexistent/ttyUSB9"), std::string::npos);
    EXPECT_FALSE(port.is_open());
}

TEST(SerialPort, RefusesAFileThatIsNotATerminal) {
    SerialLine line;
    line.device = "/dev/null";
    SerialPort port(line);
    std::string error;
    EXPECT_FALSE(port.open(error));
    EXPECT_NE(error.find("not a serial port"), std::string::npos) << error;
}

TEST(SerialPort, ReadsWritesAndSeesTheOtherSideGo) {
    int master = -1, slave = -1;
    char name[128];
    ASSERT_EQ(openpty(&master, &slave, name, nullptr, nullptr), 0);
    SerialLine line;
    line.device = name;
    SerialPort port(line);
    std::string error;
    ASSERT_TRUE(port.open(error)) << error;
    EXPECT_TRUE(port.still_present());

    char buffer[64];
    std::size_t got = 0;
    EXPECT_EQ(port.read(buffer, sizeof buffer, got), SerialPort::ReadStatus::nothing);
    ASSERT_EQ(::write(master, "a=1\r\n", 5), 5);
    usleep(20'000);
    ASSERT_EQ(port.read(buffer, sizeof buffer, got), SerialPort::ReadStatus::data);
    EXPECT_EQ(std::string(buffer, got), "a=1\r\n");  // raw: no CR/NL translation

    EXPECT_TRUE(port.write("READ\r\n"));
    usleep(20'000);
    const ssize_t n = ::read(master, buffer, sizeof buffer);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(n)), "READ\r\n");

    ::close(master);
    ::close(slave);
    EXPECT_EQ(port.read(buffer, sizeof buffer, got), SerialPort::ReadStatus::gone);
    EXPECT_FALSE(port.still_present());
}

}  // namespace
}  // namespace nodebridge::serial
