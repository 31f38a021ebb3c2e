// Read Device Identification (APP V1.1b3 section 6.21): see device_id.hpp.

#include "device_id.hpp"

#include <algorithm>

namespace nodebridge::modbus::device_id {
namespace {

constexpr std::size_t kMaxPdu = 253;     // APP 4.1
constexpr std::size_t kReplyHeader = 7;  // 2B 0E code conformity more next count
constexpr std::uint8_t kExceptionFlag = 0x80;
constexpr std::uint8_t kIllegalDataAddress = 0x02;
constexpr std::uint8_t kIllegalDataValue = 0x03;

std::vector<std::uint8_t> exception(std::uint8_t code) {
    return {static_cast<std::uint8_t>(kFunction | kExceptionFlag), code};
}

// The last object id a stream access of `code` covers: basic 0x02, regular 0x7F, extended
// 0xFF (section 6.21, the object categories).
std::uint8_t last_of(std::uint8_t code) {
    return code == kReadBasic ? kRevision : code == kReadRegular ? 0x7F : 0xFF;
}

}  // namespace

std::vector<std::uint8_t> encode_request(std::uint8_t code, std::uint8_t object) {
    return {kFunction, kMeiType, code, object};
}

Status decode_reply(std::span<const std::uint8_t> pdu, Reply& out, std::uint8_t& exception_code) {
    exception_code = 0;
    if (pdu.empty()) return Status::malformed;
    if (pdu[0] == (kFunction | kExceptionFlag)) {
        if (pdu.size() != 2) return Status::malformed;
        exception_code = pdu[1];
        return Status::exception;
    }
    if (pdu[0] != kFunction) return Status::wrong_function;
    if (pdu.size() < 2) return Status::malformed;
    if (pdu[1] != kMeiType) return Status::wrong_function;
    if (pdu.size() < kReplyHeader) return Status::malformed;
    Reply reply;
    reply.code = pdu[2];
    reply.conformity = pdu[3];
    reply.more = pdu[4] == 0xFF;
    reply.next_object = pdu[5];
    const std::size_t count = pdu[6];
    std::size_t at = kReplyHeader;
    for (std::size_t i = 0; i < count; ++i) {
        if (pdu.size() - at < 2) return Status::malformed;
        const std::uint8_t id = pdu[at];
        const std::size_t length = pdu[at + 1];
        at += 2;
        if (pdu.size() - at < length) return Status::malformed;
        reply.objects.emplace_back(
            id, std::string(reinterpret_cast<const char*>(pdu.data() + at), length));
        at += length;
    }
    if (at != pdu.size()) return Status::malformed;
    out = std::move(reply);
    return Status::ok;
}

std::string_view find(const Reply& reply, std::uint8_t id) {
    for (const Object& object : reply.objects) {
        if (object.first == id) return object.second;
    }
    return {};
}

std::vector<std::uint8_t> answer(std::span<const std::uint8_t> request_pdu,
                                 std::span<const Object> objects, std::uint8_t conformity) {
    if (request_pdu.size() != 4 || request_pdu[0] != kFunction || request_pdu[1] != kMeiType) {
        return exception(kIllegalDataValue);
    }
    const std::uint8_t code = request_pdu[2];
    const std::uint8_t first = request_pdu[3];
    if (code < kReadBasic || code > kReadOne) return exception(kIllegalDataValue);
    auto has = [&](std::uint8_t id) {
        return std::any_of(objects.begin(), objects.end(),
                           [&](const Object& o) { return o.first == id; });
    };
    std::vector<std::uint8_t> out{kFunction, kMeiType, code, conformity, 0x00, 0x00, 0x00};
    auto fits = [&](const Object& o) {
        return out.size() + 2 + std::min<std::size_t>(o.second.size(), 0xFF) <= kMaxPdu;
    };
    auto append = [&](const Object& o) {
        const std::size_t length = std::min<std::size_t>(o.second.size(), 0xFF);
        out.push_back(o.first);
        out.push_back(static_cast<std::uint8_t>(length));
        out.insert(out.end(), o.second.begin(), o.second.begin() + static_cast<long>(length));
        ++out[6];
    };
    if (code == kReadOne) {
        if (!has(first)) return exception(kIllegalDataAddress);
        for (const Object& o : objects) {
            if (o.first != first) continue;
            Object cut = o;
            if (!fits(cut)) cut.second.resize(kMaxPdu - kReplyHeader - 2);
            append(cut);
            break;
        }
        return out;
    }
    const std::uint8_t last = last_of(code);
    // An object id the device lacks, or outside the category, restarts the stream at 0.
    const std::uint8_t start = (has(first) && first <= last) ? first : kVendorName;
    for (const Object& o : objects) {
        if (o.first < start || o.first > last) continue;
        if (!fits(o) && out[6] == 0) {  // one object longer than a PDU: cut, never loop
            Object cut = o;
            cut.second.resize(kMaxPdu - kReplyHeader - 2);
            append(cut);
            continue;
        }
        if (!fits(o)) {
            out[4] = 0xFF;
            out[5] = o.first;
            break;
        }
        append(o);
    }
    return out;
}

std::string_view to_string(Status status) {
    switch (status) {
        case Status::ok:
            return "ok";
        case Status::exception:
            return "exception";
        case Status::wrong_function:
            return "wrong-function";
        case Status::malformed:
            return "malformed";
    }
    return "unknown";
}

}  // namespace nodebridge::modbus::device_id
