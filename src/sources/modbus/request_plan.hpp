#pragma once
// Request planning: which Modbus read requests fetch a node's attributes.
//
// Attributes of one node in the same table that are adjacent (or, with max_gap, nearly
// adjacent) are read in one request, up to the protocol limits; attributes read at different
// intervals (`poll:` on an attribute) never share a request (plan_groups()). Pure and
// deterministic.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "nodebridge/config.hpp"

namespace nodebridge::modbus {

inline constexpr std::uint16_t kMaxReadRegisters = 125;  // function codes 3 and 4
inline constexpr std::uint16_t kMaxReadBits = 2000;      // function codes 1 and 2

// One read request: `count` registers (or bits) of `table` starting at `address`.
struct ReadRequest {
    ModbusTable table = ModbusTable::holding;
    std::uint16_t address = 0;
    std::uint16_t count = 0;
    std::vector<std::size_t> attributes;  // indices into the planned span, by address

    friend bool operator==(const ReadRequest&, const ReadRequest&) = default;
};

struct RequestPlan {
    // Sorted by table (coil, discrete, input, holding), then address.
    std::vector<ReadRequest> requests;
    // Indices of attributes that no request can read: zero width, wider than the table's
    // limit, or running past address 65535. Sorted.
    std::vector<std::size_t> rejected;

    friend bool operator==(const RequestPlan&, const RequestPlan&) = default;
};

// The largest request `table` allows: 2000 bits or 125 registers.
std::uint16_t max_request_size(ModbusTable table);

// The table `attribute` is read from: its `function` (3 = holding, 4 = input) when set,
// else its own table.
ModbusTable read_table(const ModbusAttribute& attribute);

// Plans the requests that read `attributes`. A request grows to take the next attribute
// (by address) when the unmapped space between them is at most `max_gap` and the request
// then stays within max_request_size() and, for registers, `max_registers` (a device's
// limit, 1..125). Overlapping attributes (and bits of one register) share a request.
// Attributes are planned in their read_table().
RequestPlan plan_requests(std::span<const ModbusAttribute> attributes, std::uint16_t max_gap,
                          std::uint16_t max_registers = kMaxReadRegisters);

// The attributes of a node read at one interval, and the requests that read them.
struct PollGroup {
    Millis interval{1000};
    // Indices in `requests` and `rejected` are into the node's whole attribute list.
    RequestPlan plan;

    friend bool operator==(const PollGroup&, const PollGroup&) = default;
};

// Plans one group per distinct read interval of `attributes` (each attribute's `poll`, else
// `node_poll`), shortest interval first, each planned by plan_requests() on its own, so only
// attributes due together are coalesced. No attributes: no groups.
std::vector<PollGroup> plan_groups(std::span<const ModbusAttribute> attributes, Millis node_poll,
                                   std::uint16_t max_gap,
                                   std::uint16_t max_registers = kMaxReadRegisters);

// The smaller requests to try when a device refuses `request` with "illegal data address"
// (it spans registers the device does not map): first its runs of adjacent attributes, or,
// when it is one run already, one request per attribute (bits of one register stay
// together). Empty when `request` reads a single attribute and cannot be split.
// `attributes` is the span `request` was planned from.
std::vector<ReadRequest> split_request(const ReadRequest& request,
                                       std::span<const ModbusAttribute> attributes);

}  // namespace nodebridge::modbus
