#include "poll_round.hpp"

#include "poll_reply.hpp"

namespace nodebridge::modbus {

PollRound::PollRound(SourceBook& book, NodeState& node) : book_(book), node_(node) {
    outcome_.values.resize(node.config->attributes.size());
    outcome_.complete = node.plan.rejected.empty();
}

const ReadRequest* PollRound::next() const {
    if (over_ || request_ >= node_.plan.requests.size()) return nullptr;
    return &node_.plan.requests[request_];
}

std::string PollRound::describe() const {
    const ReadRequest* request = next();
    if (request == nullptr) return "polling unit " + std::to_string(node_.config->unit);
    return "reading " + std::to_string(request->count) + " from " + to_string(request->table) +
           " " + std::to_string(request->address) + " of unit " +
           std::to_string(node_.config->unit);
}

void PollRound::replied(std::span<const std::uint16_t> registers,
                        std::span<const std::uint8_t> bits, WallClock::time_point at) {
    const ReadRequest& request = node_.plan.requests[request_];
    outcome_.answered = true;
    outcome_.reply_time = at;
    const bool registers_table =
        request.table == ModbusTable::input || request.table == ModbusTable::holding;
    const std::size_t got = registers_table ? registers.size() : bits.size();
    if (got < request.count) {
        outcome_.complete = false;
        book_.record_error(&node_, "garbled",
                           "short reply from unit " + std::to_string(node_.config->unit));
    } else {
        const auto& attributes = node_.config->attributes;
        for (const std::size_t index :
             decode_reply(request, attributes.list(), registers, bits, outcome_.values)) {
            outcome_.complete = false;
            book_.record_error(&node_, "decode",
                               "cannot decode " + (index < attributes.size()
                                                       ? attributes[index].name
                                                       : "attribute #" + std::to_string(index)));
        }
    }
    ++request_;
}

void PollRound::refused(int code) {
    outcome_.answered = true;
    if (code == kIllegalDataAddress) {
        // A coalesced read over registers the device does not map: split it, and remember the
        // split for every later poll.
        const std::string what = describe();
        const std::size_t pieces =
            split_in_place(node_.plan.requests, request_, node_.config->attributes.list());
        if (pieces > 0) {
            const ModbusNode& config_node = *node_.config;
            book_.log().log(
                LogLevel::notice,
                config_node.id + ": unit " + std::to_string(config_node.unit) + " refused " +
                    what.substr(8) + "; reading it in " + std::to_string(pieces) +
                    " requests from now on",
                LogContext{.source = book_.name, .node = config_node.id, .event = "modbus-split"});
            return;  // the first piece is next
        }
    }
    outcome_.complete = false;
    ++request_;
}

void PollRound::failed() {
    outcome_.complete = false;
    over_ = true;
}

}  // namespace nodebridge::modbus
