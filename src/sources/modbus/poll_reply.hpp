#pragma once
// What one read of a poll does to the node, as pure logic the source's thread calls and the
// fuzz target drives with any reply words, bits, exception codes and addresses
// (tests/fuzz/modbus_reply_fuzz.cpp): the attributes' values from a reply, and the split that
// replaces a read the device refused.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/sample.hpp"
#include "request_plan.hpp"

namespace nodebridge::modbus {

// Decodes the attributes of `request` (indices into `attributes`) from its reply: `registers`
// (the words read from request.address on) for input and holding, `bits` for coil and
// discrete. Sets values[index] for each one decoded (`values` has one slot per attribute)
// and returns the indices that could not be: a value decode_registers() refuses (such as a
// bit over 15), or an attribute outside the reply. Never reads past either span.
std::vector<std::size_t> decode_reply(const ReadRequest& request,
                                      std::span<const ModbusAttribute> attributes,
                                      std::span<const std::uint16_t> registers,
                                      std::span<const std::uint8_t> bits,
                                      std::vector<std::optional<Value>>& values);

// Replaces requests[r], refused with "illegal data address", by split_request()'s pieces, in
// its place and in order, so the split is kept for every later poll. Returns the number of
// pieces, or 0 when the request cannot be split (or r is out of range) and nothing changed.
std::size_t split_in_place(std::vector<ReadRequest>& requests, std::size_t r,
                           std::span<const ModbusAttribute> attributes);

}  // namespace nodebridge::modbus
