#include "poll_round.hpp"

#include "poll_reply.hpp"

namespace nodebridge::modbus {

namespace {

std::vector<std::size_t> every_group(const NodeState& node) {
    std::vector<std::size_t> all(node.groups().size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    return all;
}

}  // namespace

PollRound::PollRound(SourceBook& book, NodeState& node, std::vector<std::size_t> groups)
    : book_(book), node_(node) {
    outcome_.values.resize(node.config->attributes.size());
    for (const std::size_t group : groups) {
        if (group >= node.groups().size()) continue;
        groups_.push_back(group);
        if (!node.groups()[group].plan.rejected.empty()) outcome_.complete = false;
    }
    // Past any group without requests, so next() is the first read or nullptr.
    while (group_ < groups_.size() && requests().empty()) ++group_;
}

PollRound::PollRound(SourceBook& book, NodeState& node)
    : PollRound(book, node, every_group(node)) {}

const ReadRequest* PollRound::next() const {
    if (over_ || group_ >= groups_.size()) return nullptr;
    return &node_.groups()[groups_[group_]].plan.requests[request_];
}

void PollRound::advance() {
    ++request_;
    while (group_ < groups_.size() && request_ >= requests().size()) {
        ++group_;
        request_ = 0;
    }
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
    const ReadRequest& request = requests()[request_];
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
    advance();
}

void PollRound::refused(int code) {
    outcome_.answered = true;
    if (code == kIllegalDataAddress) {
        // A coalesced read over registers the device does not map: split it, and remember the
        // split for every later poll.
        const std::string what = describe();
        const std::size_t pieces = split_in_place(node_.own_groups()[groups_[group_]].plan.requests,
                                                  request_, node_.config->attributes.list());
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
    advance();
}

void PollRound::failed() {
    outcome_.complete = false;
    over_ = true;
}

}  // namespace nodebridge::modbus
