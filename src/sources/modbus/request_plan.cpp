#include "request_plan.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "decode.hpp"

namespace nodebridge::modbus {

std::uint16_t max_request_size(ModbusTable table) {
    return is_bit_table(table) ? kMaxReadBits : kMaxReadRegisters;
}

ModbusTable read_table(const ModbusAttribute& attribute) {
    if (attribute.function == 3) return ModbusTable::holding;
    if (attribute.function == 4) return ModbusTable::input;
    return attribute.table;
}

RequestPlan plan_requests(std::span<const ModbusAttribute> attributes, std::uint16_t max_gap,
                          std::uint16_t max_registers) {
    const auto limit = [&](ModbusTable table) {
        return is_bit_table(table) ? kMaxReadBits
                                   : std::clamp<std::uint16_t>(max_registers, 1, kMaxReadRegisters);
    };
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
        const ModbusTable table = read_table(attribute);
        if (width == 0 || width > limit(table) || begin + width > 0x10000) {
            plan.rejected.push_back(i);
            continue;
        }
        items.push_back({table, begin, begin + width, i});
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
            if (gap <= max_gap && new_end - current->address <= limit(item.table)) {
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

std::vector<PollGroup> plan_groups(std::span<const ModbusAttribute> attributes, Millis node_poll,
                                   std::uint16_t max_gap, std::uint16_t max_registers) {
    std::map<Millis, std::vector<std::size_t>> members;  // interval -> attribute indices
    for (std::size_t i = 0; i < attributes.size(); ++i) {
        members[attributes[i].poll.value_or(node_poll)].push_back(i);
    }
    std::vector<PollGroup> groups;
    groups.reserve(members.size());
    std::vector<ModbusAttribute> subset;
    for (const auto& [interval, indices] : members) {
        subset.clear();
        for (const std::size_t index : indices) subset.push_back(attributes[index]);
        PollGroup group{.interval = interval,
                        .plan = plan_requests(subset, max_gap, max_registers)};
        // Back from the subset's indices to the node's.
        for (ReadRequest& request : group.plan.requests) {
            for (std::size_t& index : request.attributes) index = indices[index];
        }
        for (std::size_t& index : group.plan.rejected) index = indices[index];
        groups.push_back(std::move(group));
    }
    return groups;
}

std::vector<ReadRequest> split_request(const ReadRequest& request,
                                       std::span<const ModbusAttribute> attributes) {
    // Runs of attributes with nothing unmapped between them.
    std::vector<ReadRequest> runs;
    std::vector<ReadRequest> singles;  // one per distinct register range
    for (std::size_t index : request.attributes) {
        if (index >= attributes.size()) return {};
        const ModbusAttribute& attribute = attributes[index];
        const std::uint32_t begin = attribute.address;
        const std::uint32_t end = begin + attribute_width(attribute);
        if (!runs.empty() && begin <= std::uint32_t{runs.back().address} + runs.back().count) {
            ReadRequest& run = runs.back();
            const std::uint32_t run_end = std::max<std::uint32_t>(run.address + run.count, end);
            run.count = static_cast<std::uint16_t>(run_end - run.address);
            run.attributes.push_back(index);
        } else {
            runs.push_back({.table = request.table,
                            .address = static_cast<std::uint16_t>(begin),
                            .count = static_cast<std::uint16_t>(end - begin),
                            .attributes = {index}});
        }
        if (!singles.empty() && singles.back().address == begin &&
            std::uint32_t{singles.back().address} + singles.back().count == end) {
            singles.back().attributes.push_back(index);
        } else {
            singles.push_back({.table = request.table,
                               .address = static_cast<std::uint16_t>(begin),
                               .count = static_cast<std::uint16_t>(end - begin),
                               .attributes = {index}});
        }
    }
    if (runs.size() > 1) return runs;
    if (singles.size() > 1) return singles;
    return {};
}

}  // namespace nodebridge::modbus
