#pragma once
// A receiver's serial port: opened raw and non-blocking with the configured line settings,
// and able to tell when the device behind its path went away or was replaced.

#include <sys/types.h>
#include <termios.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "nodebridge/config.hpp"

namespace nodebridge::serial {

// Fills `tio` for `line`: raw mode (no echo, no line editing, no CR/NL translation), the
// baud rate, parity, data bits, stop bits and flow control; VMIN 1 so that, with
// O_NONBLOCK, "no data" is EAGAIN and a 0-byte read means hangup.
// Returns false and sets `error` for a baud rate termios has no constant for, data bits
// outside 5..8 or stop bits other than 1 or 2.
bool configure_termios(termios& tio, const SerialLine& line, std::string& error);

class SerialPort {
  public:
    explicit SerialPort(SerialLine line);
    ~SerialPort();
    SerialPort(const SerialPort&) = delete;
    SerialPort& operator=(const SerialPort&) = delete;

    // Opens the device O_RDWR|O_NOCTTY|O_NONBLOCK and applies the line settings. Returns
    // false and sets `error` ("cannot open /dev/ttyUSB0: No such file or directory") when it
    // cannot; the port is then closed.
    bool open(std::string& error);
    void close();
    bool is_open() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    const std::string& device() const { return line_.device; }

    enum class ReadStatus { data, nothing, gone };
    // Reads what is available into `buffer`. `gone` means EOF or a read error: the device
    // vanished and the caller should close() and reopen later.
    ReadStatus read(char* buffer, std::size_t capacity, std::size_t& got);

    // Writes `bytes` without blocking. Returns false when not everything was written.
    bool write(std::string_view bytes);

    // True when the device path still leads to the device that was opened (a USB adapter
    // that was unplugged and replugged may come back under the same path as a new device,
    // or a symlink may now point elsewhere).
    bool still_present() const;

  private:
    SerialLine line_;
    int fd_ = -1;
    dev_t opened_rdev_ = 0;
    ino_t opened_ino_ = 0;
};

}  // namespace nodebridge::serial
