// libFuzzer target for Read Device Identification (src/sources/modbus/device_id.hpp): what
// nodebridge scan does with a device's function 43 reply, and what the simulator answers to a
// client's request. The input's first byte splits it: the rest is a reply PDU to decode, or a
// request PDU and objects to answer. Traps when:
// - decode_reply() says ok but its objects' bytes and headers do not add up to the PDU;
// - decode_reply() says exception without a two-byte PDU, or sets a code otherwise;
// - answer() makes a PDU over 253 bytes, or one that is neither a two-byte exception nor a
//   reply decode_reply() reads back ok with objects the device has.
// Seeds in tests/fuzz/seeds/device_id.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <string>
#include <vector>

#include "device_id.hpp"

#define FUZZ_FAIL() (std::fprintf(stderr, "check failed at line %d\n", __LINE__), __builtin_trap())

namespace dev = nodebridge::modbus::device_id;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider input(data, size);
    const bool as_reply = input.ConsumeBool();
    if (as_reply) {
        const std::vector<std::uint8_t> pdu = input.ConsumeRemainingBytes<std::uint8_t>();
        dev::Reply reply;
        std::uint8_t code = 0;
        const dev::Status status = dev::decode_reply(pdu, reply, code);
        if (status == dev::Status::ok) {
            std::size_t total = 7;
            for (const auto& object : reply.objects) total += 2 + object.second.size();
            if (total != pdu.size() || code != 0) FUZZ_FAIL();
        } else if (status == dev::Status::exception) {
            if (pdu.size() != 2 || code != pdu[1]) FUZZ_FAIL();
        } else if (code != 0) {
            FUZZ_FAIL();
        }
        return 0;
    }
    std::vector<std::uint8_t> request =
        input.ConsumeBytes<std::uint8_t>(input.ConsumeIntegralInRange<std::size_t>(0, 6));
    std::vector<dev::Object> objects;
    std::uint8_t last = 0;
    while (input.remaining_bytes() > 0 && objects.size() < 16) {
        const std::uint8_t id = static_cast<std::uint8_t>(
            last + input.ConsumeIntegralInRange<int>(objects.empty() ? 0 : 1, 40));
        if (!objects.empty() && id <= last) break;
        last = id;
        objects.emplace_back(id, input.ConsumeRandomLengthString(300));
    }
    const std::vector<std::uint8_t> pdu = dev::answer(request, objects, 0x83);
    if (pdu.size() > 253) FUZZ_FAIL();
    if (pdu.size() == 2 && pdu[0] == 0xAB) return 0;
    dev::Reply reply;
    std::uint8_t code = 0;
    if (dev::decode_reply(pdu, reply, code) != dev::Status::ok) FUZZ_FAIL();
    for (const auto& object : reply.objects) {
        bool known = false;
        for (const auto& own : objects) {
            if (own.first == object.first &&
                own.second.compare(0, object.second.size(), object.second) == 0)
                known = true;
        }
        if (!known) FUZZ_FAIL();
    }
    return 0;
}
