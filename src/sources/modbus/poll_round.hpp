#pragma once
// One poll of one node, request by request: which read to send next and what each outcome
// does to the node (values decoded, a refused coalesced read split for good, the poll
// incomplete or over). Pure logic over a SourceBook, driven alike by the RTU line's blocking
// thread and by the Modbus TCP event loop, which own the bus, the retries and the timing.
//
// A poll reads some of its node's interval groups (PollGroup: the attributes read at one
// interval, NodeSchedule::started() says which are due) and sends their planned reads in
// order, group by group; the sample it makes holds those groups' attributes only. A valid reply
// decodes its attributes. An exception reply means the unit is there: "illegal data address" (2) on
// a coalesced read splits it (split_in_place(), logged once, event "modbus-split") and the first
// piece is sent next; any other exception leaves that read's attributes out and the poll goes on. A
// read without a valid reply after its retries ends the poll: a unit that does not answer is not
// waited for again in the same poll.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "source_book.hpp"

namespace nodebridge::modbus {

// The exception code a device sends for a read over registers it does not map.
inline constexpr int kIllegalDataAddress = 2;

class PollRound {
  public:
    // Starts a poll of `node` that reads the groups `groups` (indices into node.groups(), in
    // order; out-of-range ones are ignored); book and node must outlive the round.
    PollRound(SourceBook& book, NodeState& node, std::vector<std::size_t> groups);
    // Starts a poll of every group of `node`.
    PollRound(SourceBook& book, NodeState& node);

    NodeState& node() { return node_; }

    // The read to send next, or nullptr when the poll is over.
    const ReadRequest* next() const;

    // "reading 4 from input 0 of unit 1": the current read, for the log.
    std::string describe() const;

    // The current read got a reply at `at`: `registers` (input, holding) or `bits` (coil,
    // discrete) from its first address on. Fewer than asked is counted as "garbled" (a short
    // reply) and leaves the read's attributes out; a value that does not decode is counted
    // as "decode". The round moves to the next read.
    void replied(std::span<const std::uint16_t> registers, std::span<const std::uint8_t> bits,
                 WallClock::time_point at);

    // The device refused the current read with exception `code` (already counted by the
    // driver): the unit answered. See the header comment for what follows.
    void refused(int code);

    // The current read got no valid reply after its retries (each failure already counted by
    // the driver), or the link went away: the poll is over, incomplete.
    void failed();

    // What the poll found, for SourceBook::finish_poll(); call once next() is nullptr.
    PollOutcome take_outcome() { return std::move(outcome_); }

  private:
    SourceBook& book_;
    NodeState& node_;
    // The requests of the group being read.
    const std::vector<ReadRequest>& requests() const {
        return node_.groups()[groups_[group_]].plan.requests;
    }
    // Moves past the current request (and past groups with nothing left to read).
    void advance();

    std::vector<std::size_t> groups_;  // indices into node_.groups()
    std::size_t group_ = 0;            // index into groups_
    std::size_t request_ = 0;          // index into requests()
    bool over_ = false;
    PollOutcome outcome_;
};

}  // namespace nodebridge::modbus
