// nodebridge-sim modbus-rtu: the simulated devices as Modbus RTU slaves on a pseudo-terminal.
//
// libmodbus's RTU server filters requests by one slave id, so this reads frames itself:
// it finds each request's length from its function code, checks the CRC, picks the device
// by the unit id, and lets modbus_reply() (with the pty master as the context's fd) build
// and send the answer. Unknown units, bad CRCs and broadcasts get no reply.

#include <modbus.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.hpp"
#include "devices.hpp"
#include "options.hpp"
#include "pty_link.hpp"
#include "stop_signals.hpp"

namespace nodebridge::sim {

namespace {

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr auto kStaleFrame = std::chrono::milliseconds(100);
constexpr std::size_t kBufferSize = 1024;

std::uint16_t crc16(const std::uint8_t* data, std::size_t size) {
    std::uint16_t crc = 0xFFFF;
    for (std::size_t i = 0; i < size; ++i) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 1) != 0 ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001)
                                 : static_cast<std::uint16_t>(crc >> 1);
        }
    }
    return crc;
}

// The full length of the request frame at `frame` (unit, function, data, CRC); 0 when more
// bytes are needed to tell; -1 for a function code this server does not know.
long request_length(const std::uint8_t* frame, std::size_t size) {
    if (size < 2) return 0;
    switch (frame[1]) {
        case MODBUS_FC_READ_COILS:
        case MODBUS_FC_READ_DISCRETE_INPUTS:
        case MODBUS_FC_READ_HOLDING_REGISTERS:
        case MODBUS_FC_READ_INPUT_REGISTERS:
        case MODBUS_FC_WRITE_SINGLE_COIL:
        case MODBUS_FC_WRITE_SINGLE_REGISTER:
            return 8;
        case MODBUS_FC_READ_EXCEPTION_STATUS:
        case MODBUS_FC_REPORT_SLAVE_ID:
            return 4;
        case MODBUS_FC_MASK_WRITE_REGISTER:
            return 10;
        case MODBUS_FC_WRITE_MULTIPLE_COILS:
        case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
            return size < 7 ? 0 : 9 + frame[6];
        case MODBUS_FC_WRITE_AND_READ_REGISTERS:
            return size < 11 ? 0 : 13 + frame[10];
        default:
            return -1;
    }
}

}  // namespace

int run_modbus_rtu(Args args) {
    Options options(args, {"link", "devices", "nodes", "attributes"});
    const auto link = options.text("link");
    if (options.ok() && !link) {
        std::fprintf(stderr, "nodebridge-sim modbus-rtu: --link PATH is required\n");
        return 64;
    }
    std::string error;
    auto devices = devices_from_options(options, error);
    if (!devices) {
        std::fprintf(stderr, "nodebridge-sim modbus-rtu: %s\n", error.c_str());
        return options.ok() ? 78 : 64;
    }

    StopSignals signals;
    PtyLink pty(*link);
    if (!pty.ok()) {
        std::fprintf(stderr, "nodebridge-sim modbus-rtu: %s\n", pty.error().c_str());
        return 1;
    }
    // The context only formats and sends replies; it never opens the placeholder device.
    modbus_t* context = modbus_new_rtu("/dev/null", 19200, 'N', 8, 1);
    if (context == nullptr) {
        std::fprintf(stderr, "nodebridge-sim modbus-rtu: %s\n", modbus_strerror(errno));
        return 1;
    }
    modbus_set_socket(context, pty.master_fd());
    std::printf("ready modbus-rtu %s -> %s units %s\n", pty.link().c_str(),
                pty.slave_path().c_str(), devices->unit_list().c_str());
    std::fflush(stdout);

    std::vector<std::uint8_t> buffer(kBufferSize);
    std::size_t filled = 0;
    const auto start = std::chrono::steady_clock::now();
    auto next_tick = start + kTick;
    auto last_byte = start;
    bool running = true;
    while (running) {
        pollfd fds[2] = {{signals.fd(), POLLIN, 0}, {pty.master_fd(), POLLIN, 0}};
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            next_tick - std::chrono::steady_clock::now());
        const int ready = poll(fds, 2, static_cast<int>(std::max<long>(0, wait.count())));
        if (ready < 0 && errno != EINTR) break;
        if (fds[0].revents != 0 && signals.take() != 0) running = false;

        auto now = std::chrono::steady_clock::now();
        if (fds[1].revents & POLLIN) {
            const ssize_t n = read(pty.master_fd(), buffer.data() + filled, buffer.size() - filled);
            if (n > 0) {
                filled += static_cast<std::size_t>(n);
                last_byte = now;
            }
        } else if (fds[1].revents & (POLLHUP | POLLERR)) {
            // No client holds the slave open; we keep one end open, so this is brief.
            usleep(10000);
        }
        if (filled > 0 && now - last_byte > kStaleFrame) filled = 0;  // a torn frame

        while (filled >= 4) {
            const long length = request_length(buffer.data(), filled);
            if (length < 0) {
                filled = 0;  // unknown function: resynchronise on the next frame
                break;
            }
            if (length == 0 || filled < static_cast<std::size_t>(length)) break;
            const auto size = static_cast<std::size_t>(length);
            const std::uint16_t expected = crc16(buffer.data(), size - 2);
            const std::uint16_t received =
                static_cast<std::uint16_t>(buffer[size - 2] | (buffer[size - 1] << 8));
            std::size_t consumed = size;
            if (expected != received) {
                consumed = 1;  // not a frame boundary: slide by one byte
            } else {
                const int unit = buffer[0];
                modbus_mapping_t* mapping = unit == 0 ? nullptr : devices->mapping(unit);
                if (mapping != nullptr) {
                    devices->note_request(unit, buffer.data() + 1, size - 3);
                    modbus_reply(context, buffer.data(), static_cast<int>(size), mapping);
                }
            }
            std::memmove(buffer.data(), buffer.data() + consumed, filled - consumed);
            filled -= consumed;
        }
        if (filled == buffer.size()) filled = 0;

        now = std::chrono::steady_clock::now();
        if (now >= next_tick) {
            devices->tick(std::chrono::duration<double>(now - start).count());
            while (next_tick <= now) next_tick += kTick;
        }
    }
    modbus_set_socket(context, -1);
    modbus_free(context);
    return 0;
}

}  // namespace nodebridge::sim
