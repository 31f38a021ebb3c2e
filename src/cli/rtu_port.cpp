// An exclusively held serial port with Modbus RTU transactions (rtu_port.hpp).

#include "rtu_port.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

namespace nodebridge::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;  // written only by RtuPort::interrupt()

speed_t speed_of(int baud) {
    switch (baud) {
        case 1200:
            return B1200;
        case 2400:
            return B2400;
        case 4800:
            return B4800;
        case 9600:
            return B9600;
        case 19200:
            return B19200;
        case 38400:
            return B38400;
        case 57600:
            return B57600;
        case 115200:
            return B115200;
        case 230400:
            return B230400;
        default:
            return B0;
    }
}

// A USB adapter hands bytes over in bursts (its latency timer is commonly 16 ms): a gap
// shorter than this inside a reply is not taken for its end.
constexpr std::chrono::microseconds kAdapterLatency{20000};
constexpr std::size_t kMaxFrame = 256;  // MODBUS over Serial Line V1.02, 2.5.1: 256 bytes

}  // namespace

std::uint16_t modbus_crc(std::span<const std::uint8_t> bytes) {
    std::uint16_t crc = 0xFFFF;
    for (std::uint8_t byte : bytes) {
        crc ^= byte;
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001)
                            : static_cast<std::uint16_t>(crc >> 1);
        }
    }
    return crc;
}

void RtuPort::interrupt() { g_interrupted = 1; }

bool RtuPort::interrupted() { return g_interrupted != 0; }

std::unique_ptr<RtuPort> RtuPort::open(const std::string& device, std::string& error, bool& busy) {
    busy = false;
    const int fd = ::open(device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        busy = errno == EBUSY;
        error = "cannot open " + device + ": " + std::strerror(errno) +
                (busy ? " (another program holds it exclusively)" : "");
        return nullptr;
    }
    // The same advisory lock nodebridged takes on its serial ports: two programs never talk
    // on one line.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        busy = errno == EWOULDBLOCK;
        error = device + " is in use by another program" +
                std::string(busy ? " (it holds the port's lock: is nodebridged polling it? stop "
                                   "it, or remove the source, first)"
                                 : std::string(": ") + std::strerror(errno));
        ::close(fd);
        return nullptr;
    }
    termios saved{};
    if (::tcgetattr(fd, &saved) != 0) {
        error = device + " is not a serial port: " + std::strerror(errno);
        ::close(fd);
        return nullptr;
    }
    ::ioctl(fd, TIOCEXCL);  // and no other open() of it while we hold it (root excepted)
    return std::unique_ptr<RtuPort>(new RtuPort(device, fd, saved));
}

RtuPort::~RtuPort() {
    if (fd_ < 0) return;
    ::tcflush(fd_, TCIOFLUSH);
    ::tcsetattr(fd_, TCSANOW, &saved_);
    ::ioctl(fd_, TIOCNXCL);
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
}

bool RtuPort::configure(int baud, Parity parity, int stop_bits, std::string& error) {
    const speed_t speed = speed_of(baud);
    if (speed == B0) {
        error = "baud rate " + std::to_string(baud) + " is not one termios knows";
        return false;
    }
    termios tio = saved_;
    cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag &= ~(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
    tio.c_cflag |= CS8;
    if (parity != Parity::none) tio.c_cflag |= PARENB;
    if (parity == Parity::odd) tio.c_cflag |= PARODD;
    if (stop_bits == 2) tio.c_cflag |= CSTOPB;
    tio.c_iflag &= ~(IXON | IXOFF | IXANY);
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    cfsetispeed(&tio, speed);
    cfsetospeed(&tio, speed);
    if (::tcsetattr(fd_, TCSANOW, &tio) != 0) {
        error =
            "cannot set " + device_ + " to " + std::to_string(baud) + ": " + std::strerror(errno);
        return false;
    }
    framing_ = {
        .baud = baud, .data_bits = 8, .parity = parity != Parity::none, .stop_bits = stop_bits};
    ::tcflush(fd_, TCIOFLUSH);
    return true;
}

std::chrono::microseconds RtuPort::silence(const modbus::CharFraming& framing) {
    return modbus::t35(framing) + kAdapterLatency;
}

std::chrono::microseconds RtuPort::worst_case(const modbus::CharFraming& framing,
                                              std::size_t pdu_bytes, std::size_t max_reply,
                                              std::chrono::milliseconds timeout) {
    return modbus::t35(framing) + modbus::frame_time(framing, pdu_bytes + 3) + timeout +
           modbus::frame_time(framing, std::min(max_reply, kMaxFrame)) + silence(framing);
}

RtuPort::Result RtuPort::transact(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                                  std::chrono::milliseconds timeout, std::size_t max_reply) {
    max_reply = std::clamp<std::size_t>(max_reply, 4, kMaxFrame);
    using Clock = std::chrono::steady_clock;
    Result result;
    std::this_thread::sleep_for(modbus::t35(framing_));
    ::tcflush(fd_, TCIFLUSH);  // what arrived before the request is not its reply
    std::vector<std::uint8_t> frame = {unit};
    frame.insert(frame.end(), pdu.begin(), pdu.end());
    const std::uint16_t crc = modbus_crc(frame);
    frame.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    frame.push_back(static_cast<std::uint8_t>(crc >> 8));
    const auto sent_at = Clock::now();
    if (::write(fd_, frame.data(), frame.size()) != static_cast<ssize_t>(frame.size()) ||
        ::tcdrain(fd_) != 0) {
        result.kind = g_interrupted ? Result::Kind::interrupted : Result::Kind::gone;
        result.error = std::string("writing to ") + device_ + " failed: " + std::strerror(errno);
        return result;
    }
    // The reply: the first byte within `timeout` (after the request's own time on the wire),
    // then bytes until a silence.
    const auto first_deadline = sent_at + modbus::frame_time(framing_, frame.size()) + timeout;
    std::vector<std::uint8_t> reply;
    Clock::time_point deadline = first_deadline;
    while (reply.size() < max_reply) {
        if (g_interrupted) {
            result.kind = Result::Kind::interrupted;
            return result;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd waiting{fd_, POLLIN, 0};
        const int ready = ::poll(&waiting, 1, static_cast<int>(std::max<long>(0, left.count())));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0 || (waiting.revents & (POLLERR | POLLHUP | POLLNVAL))) {
            result.kind = Result::Kind::gone;
            result.error = device_ + " went away (" +
                           (ready < 0 ? std::strerror(errno) : "hang-up or error") + ")";
            return result;
        }
        if (ready == 0) break;
        std::uint8_t chunk[kMaxFrame];
        const ssize_t n = ::read(fd_, chunk, max_reply - reply.size());
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) {
            result.kind = Result::Kind::gone;
            result.error =
                device_ + " went away (" + (n < 0 ? std::strerror(errno) : "end of file") + ")";
            return result;
        }
        if (reply.empty()) {
            result.rtt =
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent_at);
        }
        reply.insert(reply.end(), chunk, chunk + n);
        deadline = Clock::now() + silence(framing_);
    }
    if (reply.empty()) {
        result.kind = Result::Kind::timeout;
        return result;
    }
    const bool crc_ok =
        reply.size() >= 4 &&
        modbus_crc(std::span(reply).first(reply.size() - 2)) ==
            static_cast<std::uint16_t>(reply[reply.size() - 2] | (reply[reply.size() - 1] << 8));
    if (!crc_ok || reply[0] != unit) {
        result.kind = Result::Kind::garbage;
        return result;
    }
    result.kind = Result::Kind::reply;
    result.pdu.assign(reply.begin() + 1, reply.end() - 2);
    return result;
}

RtuPort::Result::Kind RtuPort::listen(std::chrono::milliseconds duration, std::size_t max_bytes,
                                      std::string& out, std::string& error) {
    using Clock = std::chrono::steady_clock;
    const auto until = Clock::now() + duration;
    while (out.size() < max_bytes) {
        if (g_interrupted) return Result::Kind::interrupted;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
        if (left.count() <= 0) break;
        pollfd waiting{fd_, POLLIN, 0};
        const int ready = ::poll(&waiting, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0 || (waiting.revents & (POLLERR | POLLHUP | POLLNVAL))) {
            error = device_ + " went away";
            return Result::Kind::gone;
        }
        if (ready == 0) break;
        char chunk[512];
        const ssize_t n = ::read(fd_, chunk, std::min(sizeof chunk, max_bytes - out.size()));
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) {
            error = device_ + " went away";
            return Result::Kind::gone;
        }
        out.append(chunk, static_cast<std::size_t>(n));
    }
    return Result::Kind::reply;
}

}  // namespace nodebridge::cli
