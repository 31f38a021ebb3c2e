#include "request_plan.hpp"

#include <algorithm>
#include <tuple>

#include "decode.hpp"

namespace nodebridge::modbus {

std::uint16_t max_request_size(ModbusTable table) {
    return is_bit_table(table) ? kMaxReadBits : kMaxReadRegisters;
}

RequestPlan plan_requests(std::span<const ModbusAttribute> attributes, std::uint16_t max_gap) {
    RequestPlan plan;
    struct Item {
        ModbusTable table;
        std::uint32_t begin;
        std::uint32_t end;  // one past the last register
        std::size_t index;
    };
    std::vector<Item> items;
    items.reserve(attributes.size());
    for (std::size_t i = 0; i < attributes.size(); ++i) {
        const ModbusAttribute& attribute = attributes[i];
        const std::uint32_t width = attribute_width(attribute);
        const std::uint32_t begin = attribute.address;
        if (width == 0 || width > max_request_size(attribute.table) || begin + width > 0x10000) {
            plan.rejected.push_back(i);
            continue;
        }
        items.push_back({attribute.table, begin, begin + width, i});
    }
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
        return std::tie(a.table, a.begin, a.end, a.index) <
               std::tie(b.table, b.begin, b.end, b.index);
    });

    ReadRequest* current = nullptr;
    std::uint32_t current_end = 0;
    for (const Item& item : items) {
        if (current != nullptr && current->table == item.table) {
            const std::uint32_t gap = item.begin > current_end ? item.begin - current_end : 0;
            const std::uint32_t new_end = std::max(current_end, item.end);
            if (gap <= max_gap && new_end - current->address <= max_request_size(item.table)) {
                current_end = new_end;
                current->count = static_cast<std::uint16_t>(current_end - current->address);
                current->attributes.push_back(item.index);
                continue;
            }
        }
        plan.requests.push_back({.table = item.table,
                                 .address = static_cast<std::uint16_t>(item.begin),
                                 .count = static_cast<std::uint16_t>(item.end - item.begin),
                                 .attributes = {item.index}});
        current = &plan.requests.back();
        current_end = item.end;
    }
    return plan;
}

}  // namespace nodebridge::modbus
