#pragma once
// The samples an IoLoop's users make during one turn, handed to their queue together when the
// turn ends: every Modbus TCP source on the loop adds its samples here, and at the end of a
// turn in which any did, they all go to the mapping thread under one lock and with at most one
// wake-up, however many sources polled in that turn. Without it each source would wake the
// mapping thread on its own, several times a turn once many endpoints share the loop.

#include <vector>

#include "nodebridge/io_loop.hpp"
#include "nodebridge/source.hpp"

namespace nodebridge {

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
    std::vector<Sample> held_;
};

}  // namespace nodebridge
