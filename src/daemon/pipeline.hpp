#pragma once
// The mapping thread: takes Samples off the sources' queue, turns them into Messages by the
// rules, and hands them to the publisher. Each wake-up takes every sample queued by then and
// delivers all the messages they make in one batch. It also wakes for heartbeat and
// min_interval deadlines when no sample arrives.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <thread>

#include "nodebridge/mapping.hpp"
#include "nodebridge/source.hpp"

namespace nodebridge {

// A consumer of the samples besides the Mapper (the Sparkplug edge node). Called on the
// mapping thread after the Mapper, in sample order; it publishes what it makes itself.
class SampleObserver {
  public:
    virtual ~SampleObserver() = default;
    virtual void observe(const Sample& sample, SteadyClock::time_point now) = 0;
    // Called every time round the loop; next_due() is when it next has something to do.
    virtual void tick(SteadyClock::time_point now) = 0;
    virtual SteadyClock::time_point next_due() const = 0;
};

class Pipeline {
  public:
    // Takes (moves from) the messages of one wake-up, in order; called on the mapping thread
    // and never with an empty batch.
    using Deliver = std::function<void(std::span<Message>)>;

    // `samples` and whatever `deliver` calls must outlive the pipeline.
    Pipeline(Mapper mapper, SampleQueue& samples, Deliver deliver);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    void start();

    // Adds `observer` (null: none), which must outlive the pipeline. Call before start().
    void set_observer(SampleObserver* observer) { observer_ = observer; }

    // Closes the sample queue, maps every sample already in it, and joins the thread.
    void stop();

    // Swaps in new rules (a reload). `mapper` adopts the per-rule state of every unchanged
    // rule from the current one (Mapper::adopt_state), so those rules carry on as if no
    // reload happened; changed and new rules start afresh. Safe while the thread runs.
    void replace_mapper(Mapper mapper);

    std::uint64_t samples_mapped() const { return samples_.load(std::memory_order_relaxed); }
    std::uint64_t messages_out() const { return messages_.load(std::memory_order_relaxed); }
    // Readings of coded attributes whose value was none of their codes (Mapper::unknown_states).
    std::uint64_t unknown_states() const { return unknown_states_.load(std::memory_order_relaxed); }

    // When the thread last went round its loop: the watchdog pings only while this is fresh,
    // so a wedged mapping thread lets systemd restart the daemon.
    SteadyClock::time_point last_alive() const;

  private:
    void run();

    std::mutex mapper_mutex_;
    Mapper mapper_;
    SampleQueue& queue_;
    Deliver deliver_;
    SampleObserver* observer_ = nullptr;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::uint64_t> samples_{0};
    std::atomic<std::uint64_t> messages_{0};
    std::atomic<std::uint64_t> unknown_states_{0};
    std::atomic<SteadyClock::rep> alive_{0};
};

}  // namespace nodebridge
