#pragma once
// A Modbus TCP relay for tests: it listens on a loopback port, passes every byte between one
// client at a time (nodebridged) and an upstream server (the simulator), and keeps the
// register words of every read reply, so a test knows exactly which words the client was
// given and can check what the client made of them. It frames the stream as Modbus TCP
// (MBAP), or as Modbus RTU frames over TCP (a serial device server's raw TCP mode), where a
// reply is matched to the one request before it.

#include <cstdint>
#include <memory>
#include <vector>

namespace nodebridge::test {

// One reply to "read holding registers" (3) or "read input registers" (4).
struct TappedReply {
    int function = 0;                  // 3 or 4
    int unit = 0;                      // the unit that answered
    std::uint16_t start = 0;           // the request's first address
    std::vector<std::uint16_t> words;  // the registers returned, in address order
};

// How the relayed bytes are framed.
enum class TapFraming {
    mbap,  // Modbus TCP: replies matched to requests by transaction id
    rtu,   // RTU frames with their CRC: a reply answers the request just before it
};

class ModbusTap {
  public:
    // Listens on 127.0.0.1 (a port the kernel picks) and relays to 127.0.0.1:`upstream_port`.
    // Throws std::runtime_error when it cannot listen.
    explicit ModbusTap(int upstream_port, TapFraming framing = TapFraming::mbap);
    // Stops the relay thread and closes every socket.
    ~ModbusTap();
    ModbusTap(const ModbusTap&) = delete;
    ModbusTap& operator=(const ModbusTap&) = delete;

    int port() const;
    // Every read reply relayed so far, oldest first (the newest 20000 are kept).
    std::vector<TappedReply> replies() const;

    struct State;

  private:
    std::shared_ptr<State> state_;
};

}  // namespace nodebridge::test
