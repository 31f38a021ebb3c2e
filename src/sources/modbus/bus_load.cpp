#include "bus_load.hpp"

#include <cstdio>

#include "decode.hpp"
#include "request_plan.hpp"
#include "rtu_timing.hpp"
#include "source_book.hpp"

namespace nodebridge::modbus {

namespace {

// Bytes of the reply to a read of `count` bits (function 1 or 2): unit, function, byte
// count, the bits packed eight to a byte, CRC.
std::size_t read_bits_reply_chars(std::size_t count) { return 5 + (count + 7) / 8; }

std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

std::string where_text(const Position& where) {
    return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

}  // namespace

BusLoad bus_load(const ModbusSourceConfig& config) {
    BusLoad load;
    const auto* line = std::get_if<SerialLine>(&config.link);
    load.rtu = line != nullptr;
    CharFraming framing;
    if (line != nullptr) {
        framing = CharFraming{.baud = std::max(line->baud, 1),
                              .data_bits = line->data_bits,
                              .parity = line->parity != Parity::none,
                              .stop_bits = line->stop_bits};
    }
    double busy_seconds = 0;  // of line time per second
    for (const ModbusNode& node : config.nodes) {
        const Millis gap = request_gap_for(config, node);
        for (const PollGroup& group :
             plan_groups(node.attributes.list(), node.poll, max_gap_for(config, node),
                         max_registers_for(config, node))) {
            const double per_second =
                1000.0 / static_cast<double>(std::max<Millis::rep>(group.interval.count(), 1));
            for (const ReadRequest& request : group.plan.requests) {
                load.requests_per_second += per_second;
                if (line == nullptr) continue;
                const std::size_t reply = is_bit_table(request.table)
                                              ? read_bits_reply_chars(request.count)
                                              : read_registers_reply_chars(request.count);
                const Micros time =
                    transaction_time(framing, kReadRequestChars, reply, Micros::zero()) + gap;
                busy_seconds += per_second * static_cast<double>(time.count()) / 1e6;
            }
        }
    }
    if (load.rtu) {
        load.line_share = busy_seconds;
        load.line_limit = busy_seconds > 0 ? load.requests_per_second / busy_seconds : 0;
    }
    return load;
}

std::string describe_bus_loads(const Config& config, std::vector<std::string>& warnings) {
    std::string out;
    const auto same_place = [](const Position& a, const Position& b) {
        return a.file == b.file && a.line == b.line && a.column == b.column;
    };
    for (std::size_t index = 0; index < config.sources.size(); ++index) {
        const SourceConfig& source = config.sources[index];
        const auto* modbus = std::get_if<ModbusSourceConfig>(&source.settings);
        if (modbus == nullptr) continue;
        // The endpoints of one `hosts:` entry share its position and its nodes: one line.
        if (index > 0 && same_place(config.sources[index - 1].where, source.where)) continue;
        const bool many = index + 1 < config.sources.size() &&
                          same_place(config.sources[index + 1].where, source.where);
        const BusLoad load = bus_load(*modbus);
        out += "bus " + source.name + (many ? " (and each endpoint of its entry)" : "") + ": " +
               fixed(load.requests_per_second, 1) + " reads/s";
        if (load.rtu) {
            const SerialLine& line = std::get<SerialLine>(modbus->link);
            const std::string percent = fixed(load.line_share * 100.0, 0) + "%";
            out += ", " + percent + " of what the " + std::to_string(line.baud) +
                   "-baud line carries at most (" + fixed(load.line_limit, 1) +
                   " reads/s of these sizes, without device delays)";
            if (load.line_share > 1.0) {
                out += ": over-committed";
                warnings.push_back(
                    where_text(source.where) + ": source '" + source.name + "' needs " +
                    fixed(load.requests_per_second, 1) + " reads/s, more than its " +
                    std::to_string(line.baud) + "-baud line can carry (" + percent +
                    " of at most " + fixed(load.line_limit, 1) +
                    " reads/s): every poll will run late. Read slow-changing attributes less "
                    "often (poll: on the attribute), lengthen poll intervals, raise the baud rate "
                    "or split the nodes over more lines");
            }
        }
        out += "\n";
    }
    return out;
}

}  // namespace nodebridge::modbus
