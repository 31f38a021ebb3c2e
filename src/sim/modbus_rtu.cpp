// nodebridge-sim modbus-rtu: the simulated devices as Modbus RTU slaves on a pseudo-terminal.
//
// libmodbus's RTU server filters requests by one slave id, so this reads frames itself,
// checks the CRC, picks the device by the unit id, and lets modbus_reply() build the answer
// (into a pipe, so it can be delayed, paced or corrupted before it goes out). Unknown units,
// bad CRCs and broadcasts get no reply.
//
// Without --wire, a request ends where its function code says and replies go out at once.
// With --wire, the pty behaves like an RS-485 line at --baud (README.md, "Wire-accurate
// line"): every byte arrives and leaves no sooner than the line would carry it, a silence of
// t3.5 ends a frame, and a frame with a gap over t1.5 inside it is ignored (rtu_timing.hpp).
// Cutting the bytes into request frames is RequestFramer's job (rtu_framer.hpp).
//
// With --tcp-port instead of --link it plays a serial device server (Moxa NPort, USR and the
// like in their raw TCP server mode): the same line, its bytes carried over a TCP connection
// as they cross the wire (with --wire, one byte per segment at the line's pace). One client
// at a time; a new connection replaces the one before, as such servers do.

#include <arpa/inet.h>
#include <fcntl.h>
#include <modbus.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "commands.hpp"
#include "devices.hpp"
#include "options.hpp"
#include "pty_link.hpp"
#include "rtu_framer.hpp"
#include "rtu_timing.hpp"
#include "stop_signals.hpp"

namespace nodebridge::sim {

namespace {

using Clock = std::chrono::steady_clock;
using modbus::Micros;

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr std::size_t kBufferSize = 1024;

// How the line behaves: its speed and framing, and the faults it injects.
struct LineOptions {
    bool wire = false;  // --wire: pace bytes and frame by silence
    modbus::CharFraming framing{.baud = 19200, .data_bits = 8, .parity = false, .stop_bits = 1};
    std::string parity_name = "none";
    Micros turnaround{0};        // --turnaround: every unit's, unless its device sets one
    double corrupt = 0;          // --corrupt P: share of replies with one bit flipped
    double drop = 0;             // --drop P: share of requests left unanswered
    std::map<int, Micros> slow;  // --slow UNIT:MS[,UNIT:MS]: extra delay per unit
    std::set<int> dead;          // --dead UNIT[,UNIT]: units that never answer
    unsigned seed = 1;           // --seed: for --corrupt and --drop
    long request_registers = 1;  // --request-registers: the read the ready line's limit is for
    bool check_line = false;     // --check-line: ignore requests sent at other line settings
};

// The speed_t of `baud`, or B0 when termios has none.
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

// --check-line: whether the client set the line as the simulated devices run it. A pty
// carries bytes whatever the settings, but a real line at another baud rate or parity turns
// them into garbage no device answers; so a request is heard only when the slave side's
// settings (tcgetattr on the master reads the slave's) are --baud and --parity.
bool line_matches(int master, const LineOptions& line) {
    termios tio{};
    if (tcgetattr(master, &tio) != 0) return false;
    const bool parity = (tio.c_cflag & PARENB) != 0;
    const bool odd = (tio.c_cflag & PARODD) != 0;
    const bool parity_ok =
        parity == line.framing.parity && (!parity || odd == (line.parity_name == "odd"));
    return parity_ok && cfgetispeed(&tio) == speed_of(line.framing.baud) &&
           cfgetospeed(&tio) == speed_of(line.framing.baud);
}

// "3", "3,5,7" -> units 1..247; false on anything else.
bool parse_units(std::string_view text, const std::function<bool(int, std::string_view)>& each) {
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        const auto colon = item.find(':');
        const std::string_view unit_text = item.substr(0, colon);
        int unit = 0;
        const auto [end, ec] =
            std::from_chars(unit_text.data(), unit_text.data() + unit_text.size(), unit);
        if (ec != std::errc() || end != unit_text.data() + unit_text.size() || unit < 1 ||
            unit > 247) {
            return false;
        }
        if (!each(unit,
                  colon == std::string_view::npos ? std::string_view() : item.substr(colon + 1)))
            return false;
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return true;
}

LineOptions line_options(Options& options) {
    LineOptions line;
    line.wire = options.flag("wire");
    line.framing.baud = static_cast<int>(options.integer("baud", 300, 4000000).value_or(19200));
    line.framing.stop_bits = static_cast<int>(options.integer("stop-bits", 1, 2).value_or(1));
    if (const auto parity = options.text("parity")) {
        if (*parity != "none" && *parity != "even" && *parity != "odd") {
            options.fail("--parity is none, even or odd");
        }
        line.parity_name = *parity;
        line.framing.parity = *parity != "none";
    }
    if (const auto turnaround = options.text("turnaround")) {
        const auto seconds = parse_seconds(*turnaround, true);
        if (!seconds || *seconds > 10) options.fail("--turnaround is a duration such as 5ms");
        line.turnaround = Micros(static_cast<long>(seconds.value_or(0) * 1e6));
    }
    line.corrupt = options.number("corrupt", 0, 1).value_or(0);
    line.drop = options.number("drop", 0, 1).value_or(0);
    line.seed = static_cast<unsigned>(options.integer("seed", 0, 1L << 31).value_or(1));
    line.request_registers = options.integer("request-registers", 1, 125).value_or(1);
    line.check_line = options.flag("check-line");
    if (line.check_line && speed_of(line.framing.baud) == B0) {
        options.fail("--check-line needs a --baud termios knows (1200 .. 230400)");
    }
    if (const auto slow = options.text("slow")) {
        const bool ok = parse_units(*slow, [&](int unit, std::string_view ms_text) {
            long ms = 0;
            const auto [end, ec] =
                std::from_chars(ms_text.data(), ms_text.data() + ms_text.size(), ms);
            if (ec != std::errc() || end != ms_text.data() + ms_text.size() || ms < 0 ||
                ms > 60000) {
                return false;
            }
            line.slow[unit] = std::chrono::milliseconds(ms);
            return true;
        });
        if (!ok) options.fail("--slow is UNIT:MS[,UNIT:MS...], units 1..247, MS 0..60000");
    }
    if (const auto dead = options.text("dead")) {
        const bool ok = parse_units(*dead, [&](int unit, std::string_view rest) {
            line.dead.insert(unit);
            return rest.empty();
        });
        if (!ok) options.fail("--dead is UNIT[,UNIT...], units 1..247");
    }
    return line;
}

std::string framing_name(const LineOptions& line) {
    return std::to_string(line.framing.data_bits) +
           static_cast<char>(line.parity_name[0] - 'a' + 'A') +
           std::to_string(line.framing.stop_bits);
}

// A reply waiting to go out, or going out.
struct Outgoing {
    std::vector<std::uint8_t> bytes;
    Clock::time_point start;  // when its first bit may go on the line
    std::size_t sent = 0;
};

// The simulated bus: frames in, replies out, with the line's timing and faults.
class Line {
  public:
    Line(const LineOptions& options, DeviceSet& devices, modbus_t* context, int master,
         int pipe_read, int pipe_write)
        : options_(options),
          devices_(devices),
          context_(context),
          master_(master),
          pipe_read_(pipe_read),
          pipe_write_(pipe_write),
          random_(options.seed),
          framer_(options.wire, options.framing) {}

    // When the line next needs attention (a frame boundary or a byte to send), if ever.
    Clock::time_point next_due() const {
        auto due = framer_.frame_due();
        if (!tx_.empty()) due = std::min(due, byte_due_at(tx_.front(), tx_.front().sent));
        return due;
    }

    // Where replies go: the pty's master, or the TCP client (-1: nobody, replies are lost).
    void set_output(int fd) { master_ = fd; }

    // Takes bytes the master just read at `now`.
    void receive(const std::uint8_t* data, std::size_t size, Clock::time_point now) {
        framer_.receive(std::span<const std::uint8_t>(data, size), now, sink());
    }

    // Ends a frame after t3.5 of silence and writes the reply bytes that are due.
    void service(Clock::time_point now) {
        framer_.service(now, sink());
        send_due(now);
    }

  private:
    RequestFramer::FrameSink sink() {
        return [this](std::span<const std::uint8_t> frame, Clock::time_point boundary) {
            dispatch(frame.data(), frame.size(), boundary);
        };
    }

    // Answers one valid request frame that ended at `boundary`.
    void dispatch(const std::uint8_t* frame, std::size_t size, Clock::time_point boundary) {
        const int unit = frame[0];
        modbus_mapping_t* mapping = unit == 0 ? nullptr : devices_.mapping(unit);
        if (mapping == nullptr || options_.dead.contains(unit)) return;
        if (options_.check_line && !line_matches(master_, options_)) return;
        if (options_.drop > 0 && std::bernoulli_distribution(options_.drop)(random_)) return;
        Outgoing out;
        if (auto special = devices_.special_reply(unit, frame + 1, size - 3)) {
            out.bytes = {frame[0]};
            out.bytes.insert(out.bytes.end(), special->begin(), special->end());
            const std::uint16_t crc = crc16(out.bytes);
            out.bytes.push_back(static_cast<std::uint8_t>(crc & 0xFF));
            out.bytes.push_back(static_cast<std::uint8_t>(crc >> 8));
        } else if (devices_.refuses(unit, frame + 1, size - 3)) {
            // Exception 2, illegal data address: unit, function | 0x80, code, CRC.
            out.bytes = {frame[0], static_cast<std::uint8_t>(frame[1] | 0x80), 2};
            const std::uint16_t crc = crc16(out.bytes);
            out.bytes.push_back(static_cast<std::uint8_t>(crc & 0xFF));
            out.bytes.push_back(static_cast<std::uint8_t>(crc >> 8));
        } else {
            devices_.note_request(unit, frame + 1, size - 3);
            modbus_set_socket(context_, pipe_write_);
            const int length = modbus_reply(context_, frame, static_cast<int>(size), mapping);
            modbus_set_socket(context_, -1);
            if (length <= 0) return;
            out.bytes.resize(static_cast<std::size_t>(length));
            const ssize_t n = read(pipe_read_, out.bytes.data(), out.bytes.size());
            if (n != length) return;
        }
        if (options_.corrupt > 0 && std::bernoulli_distribution(options_.corrupt)(random_)) {
            std::uniform_int_distribution<std::size_t> byte(0, out.bytes.size() - 1);
            std::uniform_int_distribution<int> bit(0, 7);
            out.bytes[byte(random_)] ^= static_cast<std::uint8_t>(1u << bit(random_));
        }
        Micros delay = options_.turnaround;
        if (const auto own = devices_.turnaround(unit)) {
            delay = Micros(static_cast<long>(*own * 1e6));
        }
        if (const auto slow = options_.slow.find(unit); slow != options_.slow.end()) {
            delay += slow->second;
        }
        // One talker at a time: a reply starts no sooner than the previous one ended.
        out.start = std::max(boundary + delay, tx_end_);
        tx_end_ =
            out.start +
            (options_.wire ? modbus::frame_time(options_.framing, out.bytes.size()) : Micros(0));
        framer_.reply_until(tx_end_);
        tx_.push_back(std::move(out));
    }

    void send_due(Clock::time_point now) {
        while (!tx_.empty()) {
            Outgoing& out = tx_.front();
            std::size_t due = out.sent;
            while (due < out.bytes.size() && byte_due_at(out, due) <= now) ++due;
            if (due > out.sent && master_ < 0) {
                out.sent = out.bytes.size();  // nobody to hear it
            } else if (due > out.sent) {
                const ssize_t n = send_bytes(out.bytes.data() + out.sent, due - out.sent);
                if (n > 0) out.sent += static_cast<std::size_t>(n);
                if (n < 0 && errno != EAGAIN && errno != EINTR) out.sent = out.bytes.size();
            }
            if (out.sent < out.bytes.size()) return;
            tx_.pop_front();
        }
    }

    ssize_t send_bytes(const std::uint8_t* bytes, std::size_t size) {
        const ssize_t n = ::send(master_, bytes, size, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK) return write(master_, bytes, size);  // the pty
        return n;
    }

    // When byte `index` of `out` has fully crossed the line.
    Clock::time_point byte_due_at(const Outgoing& out, std::size_t index) const {
        if (!options_.wire) return out.start;
        return out.start + modbus::frame_time(options_.framing, index + 1);
    }

    const LineOptions& options_;
    DeviceSet& devices_;
    modbus_t* context_;
    int master_;
    int pipe_read_;
    int pipe_write_;
    std::mt19937 random_;
    RequestFramer framer_;  // bytes in, request frames out
    std::deque<Outgoing> tx_;
    Clock::time_point tx_end_{};  // when the last queued reply ends on the line
};

timespec until(Clock::time_point deadline, Clock::time_point now) {
    const auto wait = std::max(std::chrono::nanoseconds(0), deadline - now);
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wait);
    return timespec{static_cast<time_t>(seconds.count()),
                    static_cast<long>((wait - seconds).count())};
}

// Listens on `bind`:`port` (0: a free one); -1 with `error` set on failure.
int listen_tcp(const std::string& bind, long port, std::string& error) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, bind.c_str(), &address.sin_addr) != 1) {
        error = "--bind must be an IPv4 address, got " + bind;
        return -1;
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd, 8) != 0) {
        error =
            "cannot listen on " + bind + ":" + std::to_string(port) + ": " + std::strerror(errno);
        if (fd >= 0) ::close(fd);
        return -1;
    }
    return fd;
}

int bound_port(int fd) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return -1;
    return ntohs(address.sin_port);
}

}  // namespace

int run_modbus_rtu(Args args) {
    Options options(
        args,
        {"link",    "tcp-port",  "bind", "devices", "nodes",  "attributes",        "model",
         "units",   "model-dir", "wire", "baud",    "parity", "stop-bits",         "turnaround",
         "corrupt", "drop",      "slow", "dead",    "seed",   "request-registers", "check-line"},
        {"wire", "check-line"});
    const auto link = options.text("link");
    const auto tcp_port = options.integer("tcp-port", 0, 65535);
    const std::string bind = options.text("bind").value_or("127.0.0.1");
    if (options.ok() && !link == !tcp_port) {
        std::fprintf(stderr,
                     "nodebridge-sim modbus-rtu: give --link PATH (a pty) or --tcp-port PORT "
                     "(a serial device server; 0 picks a free port), not both\n");
        return 64;
    }
    if (tcp_port && options.flag("check-line")) {
        std::fprintf(stderr,
                     "nodebridge-sim modbus-rtu: --check-line needs a pty (--link): a TCP "
                     "connection has no line settings\n");
        return 64;
    }
    std::string error;
    auto devices = devices_from_options(options, error);
    if (!devices) {
        std::fprintf(stderr, "nodebridge-sim modbus-rtu: %s\n", error.c_str());
        return options.ok() ? 78 : 64;
    }
    LineOptions line_config = line_options(options);
    if (!options.text("request-registers")) {
        if (const auto attributes = options.integer("attributes", 1, 1000)) {
            line_config.request_registers = std::min(125L, 2 * *attributes);
        }
    }
    if (!options.ok()) {
        std::fprintf(stderr, "nodebridge-sim modbus-rtu: %s\n", options.error().c_str());
        return 64;
    }

    StopSignals signals;
    std::optional<PtyLink> pty;
    int listener = -1;
    if (link) {
        pty.emplace(*link);
        if (!pty->ok()) {
            std::fprintf(stderr, "nodebridge-sim modbus-rtu: %s\n", pty->error().c_str());
            return 1;
        }
    } else {
        std::string listen_error;
        listener = listen_tcp(bind, *tcp_port, listen_error);
        if (listener < 0) {
            std::fprintf(stderr, "nodebridge-sim modbus-rtu: %s\n", listen_error.c_str());
            return 1;
        }
    }
    // The context only formats replies (into the pipe); it never opens the placeholder device.
    modbus_t* context = modbus_new_rtu("/dev/null", 19200, 'N', 8, 1);
    int pipe_fds[2] = {-1, -1};
    if (context == nullptr || pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        std::fprintf(stderr, "nodebridge-sim modbus-rtu: %s\n", std::strerror(errno));
        if (context != nullptr) modbus_free(context);
        return 1;
    }
    if (pty) {
        std::printf("ready modbus-rtu %s -> %s units %s", pty->link().c_str(),
                    pty->slave_path().c_str(), devices->unit_list().c_str());
    } else {
        std::printf("ready modbus-rtu tcp %s:%d units %s", bind.c_str(), bound_port(listener),
                    devices->unit_list().c_str());
    }
    if (line_config.wire) {
        const auto& framing = line_config.framing;
        const auto registers = static_cast<std::size_t>(line_config.request_registers);
        std::printf(
            " wire %d %s char %ldus t1.5 %ldus t3.5 %ldus limit %.2f tx/s reading %zu "
            "registers",
            framing.baud, framing_name(line_config).c_str(),
            static_cast<long>(modbus::char_time(framing).count()),
            static_cast<long>(modbus::t15(framing).count()),
            static_cast<long>(modbus::t35(framing).count()),
            modbus::transactions_per_second(framing, modbus::kReadRequestChars,
                                            modbus::read_registers_reply_chars(registers),
                                            line_config.turnaround),
            registers);
    }
    std::printf("\n");
    std::fflush(stdout);

    int input = pty ? pty->master_fd() : -1;  // the pty's master, or the TCP client
    Line line(line_config, *devices, context, input, pipe_fds[0], pipe_fds[1]);
    std::array<std::uint8_t, kBufferSize> chunk{};
    const auto start = Clock::now();
    auto next_tick = start + kTick;
    bool running = true;
    while (running) {
        pollfd fds[3] = {{signals.fd(), POLLIN, 0}, {input, POLLIN, 0}, {listener, POLLIN, 0}};
        const auto deadline = std::min(next_tick, line.next_due());
        const timespec wait = until(deadline, Clock::now());
        const int ready = ppoll(fds, 3, &wait, nullptr);
        if (ready < 0 && errno != EINTR) break;
        if (fds[0].revents != 0 && signals.take() != 0) running = false;
        if (fds[2].revents & POLLIN) {
            const int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (client >= 0) {
                if (input >= 0) close(input);  // the new client takes the line
                const int on = 1;
                setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
                input = client;
                line.set_output(client);
                continue;
            }
        }

        auto now = Clock::now();
        line.service(now);  // a frame that ended before these bytes came
        if (fds[1].revents & POLLIN) {
            const ssize_t n = read(input, chunk.data(), chunk.size());
            if (n > 0) {
                line.receive(chunk.data(), static_cast<std::size_t>(n), now);
            } else if (!pty && (n == 0 || (errno != EAGAIN && errno != EINTR))) {
                close(input);  // the client went away
                input = -1;
                line.set_output(-1);
            }
        } else if (!pty && (fds[1].revents & (POLLHUP | POLLERR))) {
            close(input);
            input = -1;
            line.set_output(-1);
        } else if (fds[1].revents & (POLLHUP | POLLERR)) {
            // No client holds the slave open; we keep one end open, so this is brief.
            usleep(10000);
        }
        now = Clock::now();
        line.service(now);
        if (now >= next_tick) {
            devices->tick(std::chrono::duration<double>(now - start).count());
            while (next_tick <= now) next_tick += kTick;
        }
    }
    if (!pty && input >= 0) close(input);
    if (listener >= 0) close(listener);
    modbus_free(context);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return 0;
}

}  // namespace nodebridge::sim
