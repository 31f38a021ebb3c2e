#pragma once
// Whether a Modbus unit is answering, and how often to poll it: the dead-unit rule.
//
// A unit whose polls fail `dead_after` times in a row (no valid reply to any request of the
// poll) is dead: it is polled only every `dead_poll` until a poll gets an answer, so the bus
// time its timeouts would waste goes to the live units. Pure logic without a clock; the
// source feeds it each poll's outcome and asks it for the next interval.

#include <cstdint>

#include "nodebridge/config.hpp"

namespace nodebridge::modbus {

class UnitHealth {
  public:
    enum class Change {
        none,     // still alive, or still dead
        died,     // this poll made it dead: take it offline and say so, once
        revived,  // a dead unit answered: back to its own poll interval
    };

    // `dead_after` 0 means never dead.
    UnitHealth(int dead_after, Millis dead_poll) : dead_after_(dead_after), dead_poll_(dead_poll) {}

    // Records one poll: `answered` when any request got a valid reply (an exception reply
    // counts: the unit is there).
    Change record_poll(bool answered);

    bool dead() const { return dead_; }
    int failures_in_a_row() const { return failures_; }  // capped at dead_after

    // How long after this poll the next one is due: `poll` while alive, dead_poll while dead.
    Millis interval(Millis poll) const { return dead_ ? dead_poll_ : poll; }

  private:
    int dead_after_;
    Millis dead_poll_;
    int failures_ = 0;
    bool dead_ = false;
};

}  // namespace nodebridge::modbus
