#pragma once
// Read Device Identification (function 43, MEI type 14) as pure functions over PDUs: the
// client's request and its reply's decoding (nodebridge scan), and the server's reply
// (nodebridge-sim). No sockets, no state; every input is treated as hostile.
//
// Source: MODBUS Application Protocol Specification V1.1b3, section 6.21 "43 / 14 (0x2B /
// 0x0E) Read Device Identification":
// - request PDU: function 0x2B, MEI type 0x0E, Read Device ID code (01 basic, 02 regular,
//   03 extended: stream access from the object id given; 04: that one object), object id;
// - reply PDU: 0x2B, 0x0E, the Read Device ID code, conformity level, More Follows (0x00 or
//   0xFF), next object id, number of objects, then per object its id, length and value;
// - objects 0x00 VendorName, 0x01 ProductCode, 0x02 MajorMinorRevision (basic, mandatory),
//   0x03 VendorUrl, 0x04 ProductName, 0x05 ModelName, 0x06 UserApplicationName (regular);
// - a stream request whose object id the device lacks is answered from object 0; an
//   individual request for an object it lacks gets exception 02; a Read Device ID code other
//   than 01..04 gets exception 03; a reply that would not fit in one PDU stops before the
//   object that does not fit, with More Follows 0xFF and that object's id as the next one.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nodebridge::modbus::device_id {

inline constexpr std::uint8_t kFunction = 0x2B;  // Encapsulated Interface Transport
inline constexpr std::uint8_t kMeiType = 0x0E;   // Read Device Identification
inline constexpr std::uint8_t kReadBasic = 0x01;
inline constexpr std::uint8_t kReadRegular = 0x02;
inline constexpr std::uint8_t kReadExtended = 0x03;
inline constexpr std::uint8_t kReadOne = 0x04;

inline constexpr std::uint8_t kVendorName = 0x00;
inline constexpr std::uint8_t kProductCode = 0x01;
inline constexpr std::uint8_t kRevision = 0x02;

// One identification object: its id and its value (bytes as sent; normally ASCII).
using Object = std::pair<std::uint8_t, std::string>;

// The request PDU: 2B 0E code object.
std::vector<std::uint8_t> encode_request(std::uint8_t code = kReadBasic,
                                         std::uint8_t object = kVendorName);

// What a reply PDU holds.
struct Reply {
    std::uint8_t code = 0;
    std::uint8_t conformity = 0;
    bool more = false;  // More Follows was 0xFF
    std::uint8_t next_object = 0;
    std::vector<Object> objects;  // in the order sent
};

enum class Status {
    ok,
    exception,       // 0xAB and one exception code (see exception_code)
    wrong_function,  // another function, or not MEI type 14
    malformed,       // too short, an object running past the end, or bytes left over
};

// Decodes `pdu` (function code first). On ok fills `out`; on exception sets
// `exception_code`. Never reads past `pdu`.
Status decode_reply(std::span<const std::uint8_t> pdu, Reply& out, std::uint8_t& exception_code);

// The object `id` of `reply`, or empty.
std::string_view find(const Reply& reply, std::uint8_t id);

// The server's answer to `request_pdu` (function code first) from a device whose objects
// are `objects` (sorted by id; at least the three basic ones for a conforming device),
// announcing `conformity` (0x01 basic .. 0x03 extended, 0x80 added when individual access
// is supported): the reply PDU, or an exception PDU (0xAB, code) as section 6.21 says. A
// request PDU that is not 4 bytes long gets exception 03 (illegal data value).
std::vector<std::uint8_t> answer(std::span<const std::uint8_t> request_pdu,
                                 std::span<const Object> objects, std::uint8_t conformity);

// "Read Device Identification" status names for messages: "ok", "exception",
// "wrong-function", "malformed".
std::string_view to_string(Status status);

}  // namespace nodebridge::modbus::device_id
