#pragma once
// The samples an IoLoop's users make during one turn, handed to their queue together when the
// turn ends: every Modbus TCP source on the loop adds its samples here, and at the end of a
// turn in which any did, they all go to the mapping thread under one lock and with at most one
// wake-up, however many sources polled in that turn. Without it each source would wake the
// mapping thread on its own, several times a turn once many endpoints share the loop.
//
// Hand-offs are also paced to one per kMinHandOff on average, with a burst of kHandOffBurst
// (a generic cell rate algorithm): while they come less often, each goes when its turn ends;
// when turns come faster (a reply turn follows every poll turn, thousands a second), the
// samples wait for a timer and go together, so the mapping and MQTT threads wake at most about
// 1/kMinHandOff times a second however busy the loop is, and a sample waits at most about
// kMinHandOff plus a timer slot more. Readings at up to that rate go when their turn ends:
// 10,000 attributes/s of 20-attribute nodes, a poll every 2 ms, whose jitter the burst
// allowance absorbs.

#include <chrono>
#include <vector>

#include "nodebridge/io_loop.hpp"
#include "nodebridge/source.hpp"

namespace nodebridge {

inline constexpr std::chrono::microseconds kMinHandOff{2000};
inline constexpr int kHandOffBurst = 4;

class TurnSamples {
  public:
    // `loop` and `queue` must outlive it. Call it before `loop` starts or off its thread.
    TurnSamples(IoLoop& loop, SampleQueue& queue);
    // Hands over what is still held. Call it after the loop stopped or off its thread.
    ~TurnSamples();
    TurnSamples(const TurnSamples&) = delete;
    TurnSamples& operator=(const TurnSamples&) = delete;

    IoLoop& loop() const { return loop_; }
    SampleQueue& queue() const { return queue_; }

    // ---- from the loop's own thread only ----
    // Keeps `sample` to hand over at the end of this turn.
    void add(Sample sample);
    // Hands over what is held now (a source that stops).
    void flush();

  private:
    IoLoop& loop_;
    SampleQueue& queue_;
    IoLoop::TimerId turn_end_ = 0;
    IoLoop::TimerId timer_ = 0;  // a hand-off held back by the pacing
    // When the hand-offs so far would have ended at one per kMinHandOff (GCRA's theoretical
    // arrival time): one may go now while this is at most kHandOffBurst of them ahead.
    SteadyClock::time_point rate_clock_{};
    std::vector<Sample> held_;
};

}  // namespace nodebridge
