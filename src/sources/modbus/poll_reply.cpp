#include "poll_reply.hpp"

#include <iterator>

#include "decode.hpp"

namespace nodebridge::modbus {

std::vector<std::size_t> decode_reply(const ReadRequest& request,
                                      std::span<const ModbusAttribute> attributes,
                                      std::span<const std::uint16_t> registers,
                                      std::span<const std::uint8_t> bits,
                                      std::vector<std::optional<Value>>& values) {
    std::vector<std::size_t> failed;
    for (const std::size_t index : request.attributes) {
        if (index >= attributes.size() || index >= values.size()) {
            failed.push_back(index);
            continue;
        }
        const ModbusAttribute& attribute = attributes[index];
        if (attribute.address < request.address) {
            failed.push_back(index);
            continue;
        }
        const std::size_t offset = attribute.address - request.address;
        if (is_bit_table(request.table)) {
            if (offset >= bits.size()) {
                failed.push_back(index);
                continue;
            }
            values[index] = decode_bit(attribute, bits[offset] != 0);
            continue;
        }
        const std::size_t width = attribute_width(attribute);
        if (offset > registers.size() || width > registers.size() - offset) {
            failed.push_back(index);
            continue;
        }
        values[index] = decode_registers(attribute, registers.subspan(offset, width));
        if (!values[index]) failed.push_back(index);
    }
    return failed;
}

std::size_t split_in_place(std::vector<ReadRequest>& requests, std::size_t r,
                           std::span<const ModbusAttribute> attributes) {
    if (r >= requests.size()) return 0;
    auto pieces = split_request(requests[r], attributes);
    if (pieces.empty()) return 0;
    const std::size_t count = pieces.size();
    const auto at = requests.begin() + static_cast<std::ptrdiff_t>(r);
    requests.erase(at);
    requests.insert(requests.begin() + static_cast<std::ptrdiff_t>(r),
                    std::make_move_iterator(pieces.begin()), std::make_move_iterator(pieces.end()));
    return count;
}

}  // namespace nodebridge::modbus
