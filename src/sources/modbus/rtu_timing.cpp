#include "rtu_timing.hpp"

namespace nodebridge::modbus {

namespace {

// ceil(bits * 1e6 / baud) microseconds, in integers.
Micros bits_time(long long bits, int baud) {
    const long long numerator = bits * 1'000'000;
    return Micros((numerator + baud - 1) / baud);
}

}  // namespace

Micros char_time(const CharFraming& framing) {
    return bits_time(framing.bits_per_char(), framing.baud);
}

Micros frame_time(const CharFraming& framing, std::size_t chars) {
    return bits_time(static_cast<long long>(chars) * framing.bits_per_char(), framing.baud);
}

Micros t15(const CharFraming& framing) {
    if (framing.baud > kFixedTimerBaud) return kFixedT15;
    // 1.5 characters = 3 half characters.
    return bits_time(3LL * framing.bits_per_char(), framing.baud * 2);
}

Micros t35(const CharFraming& framing) {
    if (framing.baud > kFixedTimerBaud) return kFixedT35;
    return bits_time(7LL * framing.bits_per_char(), framing.baud * 2);
}

Micros transaction_time(const CharFraming& framing, std::size_t request_chars,
                        std::size_t reply_chars, Micros turnaround) {
    return frame_time(framing, request_chars) + t35(framing) + turnaround +
           frame_time(framing, reply_chars) + t35(framing);
}

double transactions_per_second(const CharFraming& framing, std::size_t request_chars,
                               std::size_t reply_chars, Micros turnaround) {
    const auto time = transaction_time(framing, request_chars, reply_chars, turnaround);
    return time.count() > 0 ? 1e6 / static_cast<double>(time.count()) : 0.0;
}

}  // namespace nodebridge::modbus
