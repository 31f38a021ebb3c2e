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

#include "rtu_frame.hpp"
#include "sources/serial/serial_port.hpp"

namespace nodebridge::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;  // written only by RtuPort::interrupt()

// A USB adapter hands bytes over in bursts (its latency timer is commonly 16 ms): a gap
// shorter than this inside a reply is not taken for its end.
constexpr std::chrono::microseconds kAdapterLatency{20000};
constexpr std::size_t kMaxFrame = 256;  // MODBUS over Serial Line V1.02, 2.5.1: 256 bytes

}  // namespace

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
    termios tio = saved_;
    const SerialLine line{
        .device = device_, .baud = baud, .parity = parity, .data_bits = 8, .stop_bits = stop_bits};
    if (!serial::configure_termios(tio, line, error)) return false;  // the daemon's settings
    tio.c_cc[VMIN] = 0;  // reads return what is there: the scan times replies itself
    tio.c_cc[VTIME] = 0;
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
    std::vector<std::uint8_t> frame;
    modbus::rtu::append_frame(unit, pdu, frame);
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
    // A frame followed by its own CRC (low byte first) has a CRC of 0.
    const bool crc_ok = reply.size() >= 4 && modbus::rtu::crc16(reply) == 0;
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
