#pragma once
// The timing of a Modbus RTU line, as pure arithmetic: how long a character takes on the
// wire, the inter-character timeout t1.5 and the inter-frame silence t3.5, and the most
// transactions per second a line can carry for a given request.
//
// Source: MODBUS over Serial Line Specification and Implementation Guide V1.02
// (modbus.org, 2006), section 2.5.1.1 "MODBUS Message RTU Framing": frames are separated by
// a silent interval of at least 3.5 character times; a silence of more than 1.5 character
// times inside a frame makes it incomplete, and the receiver discards it; above 19200 baud
// the timers take the fixed values 750 us (t1.5) and 1750 us (t3.5).
//
// Used by the source (the silence it keeps before every request) and by nodebridge-sim (its
// wire-accurate line). No clock, no I/O.

#include <chrono>
#include <cstddef>

namespace nodebridge::modbus {

using Micros = std::chrono::microseconds;

// How a character is framed on the line. Defaults: 8E1, the spec's default (2.5.1).
struct CharFraming {
    int baud = 19200;    // bits per second, > 0
    int data_bits = 8;   // 5..8
    bool parity = true;  // a parity bit (even or odd) follows the data bits
    int stop_bits = 1;   // 1 or 2

    // Start bit + data bits + parity bit + stop bits: 11 for 8E1, 10 for 8N1.
    int bits_per_char() const { return 1 + data_bits + (parity ? 1 : 0) + stop_bits; }
};

// Above this baud rate the spec's fixed timers apply (section 2.5.1.1).
inline constexpr int kFixedTimerBaud = 19200;
inline constexpr Micros kFixedT15{750};
inline constexpr Micros kFixedT35{1750};

// The time one character takes on the wire, rounded up to a whole microsecond.
Micros char_time(const CharFraming& framing);

// The time `chars` characters take back to back, rounded up (not char_time() * chars, so
// rounding does not accumulate).
Micros frame_time(const CharFraming& framing, std::size_t chars);

// The longest silence allowed between two characters of one frame: 1.5 character times,
// or 750 us above 19200 baud.
Micros t15(const CharFraming& framing);

// The silence that ends a frame and must precede the next: 3.5 character times, or
// 1750 us above 19200 baud.
Micros t35(const CharFraming& framing);

// The shortest one request/reply transaction can take: the request, the silence that ends
// it, the slave's `turnaround` beyond that silence, the reply, and the silence that ends the
// reply before the next request may start.
Micros transaction_time(const CharFraming& framing, std::size_t request_chars,
                        std::size_t reply_chars, Micros turnaround);

// 1 s / transaction_time(): the wire's theoretical limit in transactions per second.
double transactions_per_second(const CharFraming& framing, std::size_t request_chars,
                               std::size_t reply_chars, Micros turnaround);

// Bytes of a read request (function 1..4): unit, function, address, count, CRC = 8.
inline constexpr std::size_t kReadRequestChars = 8;

// Bytes of the reply to a read of `registers` registers (function 3 or 4): unit, function,
// byte count, 2 per register, CRC.
constexpr std::size_t read_registers_reply_chars(std::size_t registers) {
    return 5 + 2 * registers;
}

}  // namespace nodebridge::modbus
