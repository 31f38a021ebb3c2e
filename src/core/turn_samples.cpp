#include "nodebridge/turn_samples.hpp"

#include <algorithm>

namespace nodebridge {

TurnSamples::TurnSamples(IoLoop& loop, SampleQueue& queue) : loop_(loop), queue_(queue) {
    const auto add_turn_end = [this] { turn_end_ = loop_.at_end_of_turn([this] { flush(); }); };
    if (!loop_.run_sync(add_turn_end)) add_turn_end();  // not running: nothing else touches it
}

TurnSamples::~TurnSamples() {
    const auto remove_turn_end = [this] {
        loop_.remove_end_of_turn(turn_end_);
        flush();
    };
    if (!loop_.run_sync(remove_turn_end)) remove_turn_end();
}

void TurnSamples::add(Sample sample) {
    if (held_.empty()) {
        // Allowed while the hand-offs so far are within their rate, with a burst of a few.
        const auto due = rate_clock_ - kHandOffBurst * kMinHandOff;
        if (SteadyClock::now() >= due) {
            loop_.end_turn_with(turn_end_);
        } else {
            timer_ = loop_.at(due, [this] {
                timer_ = 0;
                flush();
            });
        }
    }
    held_.push_back(std::move(sample));
}

void TurnSamples::flush() {
    if (timer_ != 0) loop_.cancel(timer_);
    timer_ = 0;
    if (held_.empty()) return;
    rate_clock_ = std::max(rate_clock_, SteadyClock::now()) + kMinHandOff;
    queue_.push_all(held_);
}

}  // namespace nodebridge
