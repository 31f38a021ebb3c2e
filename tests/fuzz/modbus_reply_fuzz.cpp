// libFuzzer target for what the Modbus source makes of a device's answers: the poll loop's
// pure parts (src/sources/modbus/poll_reply.hpp, request_plan.hpp, classify_error()) fed
// with any attributes (tables, addresses, types, `bit:`, `function:`), any planning limits,
// and per request any outcome: reply words or bits, a short reply, or a failure with any
// errno or exception code, "illegal data address" splitting the request and the split kept
// for the next round. Traps when:
// - a plan or a split loses, duplicates or misplaces an attribute, or a request breaks the
//   table's limits;
// - splitting does not come to an end (more requests than attributes);
// - a `bit:` attribute's value is not that bit of the (byte-swapped) register, or a bit
//   over 15 decodes;
// - an error is classified as a kind the source does not know.
// Seeds in tests/fuzz/seeds/modbus_reply.

#include <fuzzer/FuzzedDataProvider.h>
#include <modbus.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string_view>
#include <vector>

#include "decode.hpp"
#include "modbus_source.hpp"
#include "poll_reply.hpp"
#include "request_plan.hpp"

// Says which check failed (its line), then stops the run as a crash.
#define FUZZ_FAIL() (std::fprintf(stderr, "check failed at line %d\n", __LINE__), __builtin_trap())

namespace {

using namespace nodebridge;

constexpr ModbusType kTypes[] = {ModbusType::boolean, ModbusType::int16,   ModbusType::uint16,
                                 ModbusType::int32,   ModbusType::uint32,  ModbusType::int64,
                                 ModbusType::uint64,  ModbusType::float32, ModbusType::float64,
                                 ModbusType::string};
constexpr ModbusTable kTables[] = {ModbusTable::coil, ModbusTable::discrete, ModbusTable::input,
                                   ModbusTable::holding};

template <typename T, std::size_t N>
T pick(FuzzedDataProvider& input, const T (&items)[N]) {
    return items[input.ConsumeIntegralInRange<std::size_t>(0, N - 1)];
}

ModbusAttribute make_attribute(FuzzedDataProvider& input, std::size_t index) {
    ModbusAttribute attribute;
    attribute.name = "a" + std::to_string(index);
    attribute.table = pick(input, kTables);
    // Mostly near each other, so requests coalesce; sometimes anywhere, up to 65535.
    attribute.address = input.ConsumeBool() ? input.ConsumeIntegralInRange<std::uint16_t>(0, 64)
                                            : input.ConsumeIntegral<std::uint16_t>();
    attribute.type = pick(input, kTypes);
    if (attribute.type == ModbusType::string) {
        attribute.length = input.ConsumeIntegralInRange<std::uint16_t>(0, 130);
    }
    attribute.word_order = input.ConsumeBool() ? WordOrder::big : WordOrder::little;
    attribute.byte_swap = input.ConsumeBool();
    // As the config reader allows (src/config/modbus_source.cpp): `bit:` and `function:` on
    // register tables only, a bit attribute a bool. Bits 16 and 17 test decode's own guard.
    const int function = input.ConsumeIntegralInRange(0, 4);
    if (modbus::is_bit_table(attribute.table)) return attribute;
    if (input.ConsumeIntegralInRange(0, 2) == 0) {
        attribute.bit = input.ConsumeIntegralInRange<std::uint8_t>(0, 17);
        attribute.type = ModbusType::boolean;
    }
    attribute.function = function >= 3 ? static_cast<std::uint8_t>(function) : 0;
    return attribute;
}

// Every attribute the plan did not reject is in exactly one request, inside its range, and
// every request keeps to its table's limits.
void check_plan(const std::vector<modbus::ReadRequest>& requests,
                const std::vector<ModbusAttribute>& attributes, const std::vector<bool>& rejected,
                std::uint16_t max_registers) {
    std::vector<int> seen(attributes.size(), 0);
    for (const modbus::ReadRequest& request : requests) {
        if (request.count == 0 || request.attributes.empty()) FUZZ_FAIL();
        if (std::uint32_t{request.address} + request.count > 0x10000) FUZZ_FAIL();
        if (request.count > modbus::max_request_size(request.table)) FUZZ_FAIL();
        if (!modbus::is_bit_table(request.table) && request.count > max_registers) FUZZ_FAIL();
        for (const std::size_t index : request.attributes) {
            if (index >= attributes.size()) FUZZ_FAIL();
            const ModbusAttribute& attribute = attributes[index];
            if (modbus::read_table(attribute) != request.table) FUZZ_FAIL();
            if (attribute.address < request.address ||
                std::uint32_t{attribute.address} + modbus::attribute_width(attribute) >
                    std::uint32_t{request.address} + request.count)
                FUZZ_FAIL();
            ++seen[index];
        }
    }
    for (std::size_t i = 0; i < attributes.size(); ++i) {
        if (seen[i] != (rejected[i] ? 0 : 1)) FUZZ_FAIL();
    }
}

void check_kind(std::string_view kind) {
    for (const std::string_view known :
         {"timeout", "truncated", "crc", "wrong-unit", "garbled", "exception", "connection"}) {
        if (kind == known) return;
    }
    FUZZ_FAIL();
}

// An errno a libmodbus call may leave: mostly its own codes and exception codes (EMBXILFUN
// and up, whatever code the device sent), sometimes anything.
int failure(FuzzedDataProvider& input) {
    switch (input.ConsumeIntegralInRange(0, 4)) {
        case 0:
            return EMBXILADD;
        case 1:
            return EMBXILFUN + input.ConsumeIntegralInRange(0, 20);
        case 2:
            return ETIMEDOUT;
        case 3:
            return EMBBADCRC + input.ConsumeIntegralInRange(-3, 3);
        default:
            return input.ConsumeIntegral<int>();
    }
}

// The bit `attribute` names of `word`, as the device sent it: byte_swap first.
bool expected_bit(const ModbusAttribute& attribute, std::uint16_t word) {
    if (attribute.byte_swap) word = static_cast<std::uint16_t>((word >> 8) | (word << 8));
    return ((word >> *attribute.bit) & 1U) != 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider input(data, size);
    std::vector<ModbusAttribute> attributes;
    const std::size_t count = input.ConsumeIntegralInRange<std::size_t>(1, 24);
    for (std::size_t i = 0; i < count; ++i) attributes.push_back(make_attribute(input, i));
    const auto max_gap = input.ConsumeIntegralInRange<std::uint16_t>(0, 130);
    const auto max_registers = input.ConsumeIntegralInRange<std::uint16_t>(1, 125);

    modbus::RequestPlan plan = modbus::plan_requests(attributes, max_gap, max_registers);
    std::vector<bool> rejected(attributes.size(), false);
    for (const std::size_t index : plan.rejected) {
        if (index >= attributes.size()) FUZZ_FAIL();
        rejected[index] = true;
    }
    check_plan(plan.requests, attributes, rejected, max_registers);

    // Polls, as ModbusSource::poll() walks a plan; a split stays for the next round.
    for (int round = 0; round < 3 && input.remaining_bytes() > 0; ++round) {
        std::vector<std::optional<Value>> values(attributes.size());
        int steps = 0;
        for (std::size_t r = 0; r < plan.requests.size(); ++r) {
            if (++steps > 4 * static_cast<int>(attributes.size()) + 8) FUZZ_FAIL();
            const modbus::ReadRequest request = plan.requests[r];
            if (input.ConsumeIntegralInRange(0, 3) == 0) {
                const int errnum = failure(input);
                const auto timeout = Millis(input.ConsumeIntegralInRange(1, 5000));
                const auto elapsed = Millis(input.ConsumeIntegralInRange(0, 6000));
                check_kind(modbus::classify_error(errnum));
                const std::string_view kind = modbus::classify_failure(errnum, elapsed, timeout);
                check_kind(kind);
                if (kind == "truncated" && (errnum != ETIMEDOUT || elapsed >= timeout)) FUZZ_FAIL();
                if (errnum == EMBXILADD) {
                    const std::size_t before = plan.requests.size();
                    const std::size_t pieces = modbus::split_in_place(plan.requests, r, attributes);
                    if (pieces == 1) FUZZ_FAIL();  // a split makes more requests or none
                    if (plan.requests.size() != before + (pieces > 0 ? pieces - 1 : 0)) FUZZ_FAIL();
                    if (plan.requests.size() > attributes.size()) FUZZ_FAIL();
                    check_plan(plan.requests, attributes, rejected, max_registers);
                    if (pieces > 0) {
                        --r;  // read the first piece next (wraps to it at the loop's ++r)
                        continue;
                    }
                }
                continue;
            }
            // A reply: `request.count` items, or fewer when the device sent a short one.
            const std::size_t items =
                input.ConsumeBool() ? request.count
                                    : input.ConsumeIntegralInRange<std::size_t>(0, request.count);
            std::vector<std::uint16_t> registers;
            std::vector<std::uint8_t> bits;
            if (modbus::is_bit_table(request.table)) {
                for (std::size_t i = 0; i < items; ++i)
                    bits.push_back(input.ConsumeIntegral<std::uint8_t>() & 1U);
            } else {
                for (std::size_t i = 0; i < items; ++i)
                    registers.push_back(input.ConsumeIntegral<std::uint16_t>());
            }
            const auto failed = modbus::decode_reply(request, attributes, registers, bits, values);
            std::vector<bool> failed_index(attributes.size(), false);
            for (const std::size_t index : failed) {
                if (index >= attributes.size()) FUZZ_FAIL();
                failed_index[index] = true;
            }
            for (const std::size_t index : request.attributes) {
                const ModbusAttribute& attribute = attributes[index];
                const std::size_t offset = attribute.address - request.address;
                const std::size_t width = modbus::attribute_width(attribute);
                const bool in_reply = offset + width <= items;
                if (!in_reply && !failed_index[index]) FUZZ_FAIL();
                if (!attribute.bit || modbus::is_bit_table(request.table) || !in_reply) continue;
                if (*attribute.bit > 15) {
                    if (!failed_index[index]) FUZZ_FAIL();
                    continue;
                }
                const bool* value = values[index] ? std::get_if<bool>(&*values[index]) : nullptr;
                if (value == nullptr || failed_index[index]) FUZZ_FAIL();
                if (*value != expected_bit(attribute, registers[offset])) FUZZ_FAIL();
            }
        }
    }
    return 0;
}
