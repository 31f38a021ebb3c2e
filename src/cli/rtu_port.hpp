#pragma once
// A serial port taken for the commissioning command: opened exclusively (flock, which
// nodebridged takes on its ports too, and TIOCEXCL), its settings saved on open and restored
// when the object goes (also after Ctrl-C: the caller's signal handling ends its loop, the
// destructor runs), and Modbus RTU transactions on it with the line's own timing
// (rtu_timing.hpp: t3.5 before every request, a reply ends at a silence).
//
// Blocking, for the reason tcp_client.hpp gives; every call is bounded by its timeout.

#include <termios.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nodebridge/config.hpp"
#include "rtu_timing.hpp"

namespace nodebridge::cli {

// The Modbus CRC-16 of `bytes` (MODBUS over Serial Line Specification and Implementation
// Guide V1.02, section 6.2.2: polynomial 0xA001 reflected, initial 0xFFFF; sent low byte
// first).
std::uint16_t modbus_crc(std::span<const std::uint8_t> bytes);

class RtuPort {
  public:
    // Opens `device` exclusively. Nullptr with `error` set when it cannot be opened, is not a
    // serial port, or another process holds it (then `busy` is true).
    static std::unique_ptr<RtuPort> open(const std::string& device, std::string& error, bool& busy);
    // Restores the settings the port had when opened, and releases it.
    ~RtuPort();
    RtuPort(const RtuPort&) = delete;
    RtuPort& operator=(const RtuPort&) = delete;

    // Sets 8 data bits, `parity` (none: 2 stop bits would be the spec's; 1 is what devices
    // mostly use, so `stop_bits` says), raw mode. False with `error` on failure.
    bool configure(int baud, Parity parity, int stop_bits, std::string& error);
    const modbus::CharFraming& framing() const { return framing_; }

    struct Result {
        enum class Kind {
            reply,        // a frame with a good CRC from the unit asked: `pdu`
            timeout,      // nothing at all
            garbage,      // bytes that are not a good frame from that unit (wrong settings, noise,
                          // another master)
            gone,         // the port failed (unplugged): `error`
            interrupted,  // a signal arrived (Ctrl-C)
        } kind = Kind::timeout;
        std::vector<std::uint8_t> pdu;
        std::chrono::microseconds rtt{0};
        std::string error;
    };

    // Keeps t3.5 of silence, sends `pdu` to `unit` with its CRC, and collects the reply until
    // a silence ends it, `max_reply` bytes have come (more is garbage), or `timeout` passes
    // with nothing.
    Result transact(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                    std::chrono::milliseconds timeout, std::size_t max_reply = 256);

    // The longest one transact() can take with `timeout`, for `pdu_bytes` of request:
    // silence, request, timeout, `max_reply` bytes of reply and the silence that ends it.
    static std::chrono::microseconds worst_case(const modbus::CharFraming& framing,
                                                std::size_t pdu_bytes, std::size_t max_reply,
                                                std::chrono::milliseconds timeout);

    // Appends what arrives until `duration` has passed (or `max_bytes` have come) to `out`.
    // Returns reply when it ran its time, gone (with `error`) or interrupted.
    Result::Kind listen(std::chrono::milliseconds duration, std::size_t max_bytes, std::string& out,
                        std::string& error);

    // Set by a signal handler; transact() returns `interrupted` when it sees it.
    static void interrupt();
    // Whether interrupt() was called.
    static bool interrupted();

  private:
    RtuPort(std::string device, int fd, termios saved)
        : device_(std::move(device)), fd_(fd), saved_(saved) {}
    static std::chrono::microseconds silence(const modbus::CharFraming& framing);

    std::string device_;
    int fd_ = -1;
    termios saved_{};
    modbus::CharFraming framing_;
};

}  // namespace nodebridge::cli
