#include "sources/serial/serial_port.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace nodebridge::serial {
namespace {

bool baud_constant(int baud, speed_t& speed) {
    static constexpr std::pair<int, speed_t> kRates[] = {
        {50, B50},           {75, B75},           {110, B110},         {134, B134},
        {150, B150},         {200, B200},         {300, B300},         {600, B600},
        {1200, B1200},       {1800, B1800},       {2400, B2400},       {4800, B4800},
        {9600, B9600},       {19200, B19200},     {38400, B38400},     {57600, B57600},
        {115200, B115200},   {230400, B230400},   {460800, B460800},   {500000, B500000},
        {576000, B576000},   {921600, B921600},   {1000000, B1000000}, {1152000, B1152000},
        {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
        {3500000, B3500000}, {4000000, B4000000},
    };
    for (const auto& [rate, constant] : kRates) {
        if (rate == baud) {
            speed = constant;
            return true;
        }
    }
    return false;
}

}  // namespace

bool configure_termios(termios& tio, const SerialLine& line, std::string& error) {
    speed_t speed;
    if (!baud_constant(line.baud, speed)) {
        error = "unsupported baud rate " + std::to_string(line.baud);
        return false;
    }
    tcflag_t size;
    switch (line.data_bits) {
        case 5:
            size = CS5;
            break;
        case 6:
            size = CS6;
            break;
        case 7:
            size = CS7;
            break;
        case 8:
            size = CS8;
            break;
        default:
            error = "data_bits must be 5..8";
            return false;
    }
    if (line.stop_bits != 1 && line.stop_bits != 2) {
        error = "stop_bits must be 1 or 2";
        return false;
    }
    cfmakeraw(&tio);
    tio.c_cflag &= ~(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
    tio.c_cflag |= size | CLOCAL | CREAD;
    tio.c_iflag &= ~(IXON | IXOFF | IXANY | INPCK);
    switch (line.parity) {
        case Parity::none:
            break;
        case Parity::even:
            tio.c_cflag |= PARENB;
            break;
        case Parity::odd:
            tio.c_cflag |= PARENB | PARODD;
            break;
    }
    if (line.stop_bits == 2) tio.c_cflag |= CSTOPB;
    switch (line.flow_control) {
        case FlowControl::none:
            break;
        case FlowControl::rtscts:
            tio.c_cflag |= CRTSCTS;
            break;
        case FlowControl::xonxoff:
            tio.c_iflag |= IXON | IXOFF;
            break;
    }
    // VMIN 1 with O_NONBLOCK: an empty read fails with EAGAIN, so a read of 0 bytes can only
    // mean hangup (with VMIN 0 the kernel returns 0 for "no data" too).
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    cfsetispeed(&tio, speed);
    cfsetospeed(&tio, speed);
    return true;
}

SerialPort::SerialPort(SerialLine line) : line_(std::move(line)) {}

SerialPort::~SerialPort() { close(); }

bool SerialPort::open(std::string& error) {
    close();
    const int fd = ::open(line_.device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        error = "cannot open " + line_.device + ": " + std::strerror(errno);
        return false;
    }
    // The line is ours alone (issue #22): the advisory lock `nodebridge scan` takes too (not
    // TIOCEXCL, which outlives our close while another holder keeps the tty open).
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        error = "cannot take " + line_.device + ": " +
                (errno == EWOULDBLOCK ? std::string("another program holds it")
                                      : std::string(std::strerror(errno)));
        ::close(fd);
        return false;
    }
    termios tio{};
    if (::tcgetattr(fd, &tio) != 0) {
        error = line_.device + " is not a serial port: " + std::strerror(errno);
        ::close(fd);
        return false;
    }
    if (!configure_termios(tio, line_, error)) {
        error = line_.device + ": " + error;
        ::close(fd);
        return false;
    }
    if (::tcsetattr(fd, TCSANOW, &tio) != 0) {
        error = "cannot configure " + line_.device + ": " + std::strerror(errno);
        ::close(fd);
        return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        error = "cannot stat " + line_.device + ": " + std::strerror(errno);
        ::close(fd);
        return false;
    }
    opened_rdev_ = st.st_rdev;
    opened_ino_ = st.st_ino;
    fd_ = fd;
    return true;
}

void SerialPort::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

SerialPort::ReadStatus SerialPort::read(char* buffer, std::size_t capacity, std::size_t& got) {
    got = 0;
    if (fd_ < 0) return ReadStatus::gone;
    for (;;) {
        const ssize_t n = ::read(fd_, buffer, capacity);
        if (n > 0) {
            got = static_cast<std::size_t>(n);
            return ReadStatus::data;
        }
        if (n == 0) return ReadStatus::gone;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadStatus::nothing;
        return ReadStatus::gone;
    }
}

bool SerialPort::write(std::string_view bytes) {
    if (fd_ < 0) return false;
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool SerialPort::still_present() const {
    if (fd_ < 0) return false;
    struct stat st {};
    if (::stat(line_.device.c_str(), &st) != 0) return false;
    return st.st_rdev == opened_rdev_ && st.st_ino == opened_ino_;
}

}  // namespace nodebridge::serial
