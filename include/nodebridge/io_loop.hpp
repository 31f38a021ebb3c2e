#pragma once
// One thread that waits on sockets and timers (epoll) and runs what falls due: the event loop
// every Modbus TCP source of the daemon shares. Nothing protocol-specific lives here: a user
// watches its file descriptors, sets timers and posts tasks; the loop calls them back, one at
// a time, on its own thread, so what they touch needs no lock.
//
// A turn waits (epoll_pwait2) until a watched descriptor is ready, a posted task arrives or the
// earliest timer is due, then runs the ready descriptors' handlers, the posted tasks and the
// timers that are due, in that order. Handlers and tasks must not block: they run between
// everyone else's.
//
// Why our own loop over epoll rather than libevent, libuv or Boost.Asio (all in Debian): what
// the Modbus TCP sources need is descriptors, one-shot timers, posted tasks and an end-of-turn
// hook, about 200 lines over epoll_pwait2 and an eventfd; a library would add a dependency and
// its own callback and buffer types to every user, and none of them slots timers as below.
//
// Timers run in slots of kTimerSlot on the steady clock: a timer runs once the slot that holds
// its time has ended, in one turn with every other timer of that slot. So thousands of polls
// spread evenly over a second wake the loop at most once a slot, each at most one slot late,
// never early (the hand-off to the mapping and MQTT threads is paced further: TurnSamples).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "nodebridge/sample.hpp"

namespace nodebridge {

// The timers' slot: what every timer may be late by, and the most wake-ups a second (1,000).
inline constexpr std::chrono::microseconds kTimerSlot{1000};

class IoLoop {
  public:
    using TimePoint = SteadyClock::time_point;
    using Task = std::function<void()>;
    // Called with the epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, ...) that are ready.
    using Handler = std::function<void(std::uint32_t events)>;
    using TimerId = std::uint64_t;

    // `thread_name` names the thread for top -H, perf and the journal (at most 15 bytes are
    // kept). Nothing runs until start().
    explicit IoLoop(std::string thread_name);
    // Stops the thread if it runs.
    ~IoLoop();
    IoLoop(const IoLoop&) = delete;
    IoLoop& operator=(const IoLoop&) = delete;

    // Starts the thread; a second call does nothing. Throws std::system_error when the
    // epoll or eventfd descriptor cannot be made.
    void start();
    // Runs what is already posted, then ends the thread and joins it. Tasks posted later are
    // not run. Safe to call more than once; not from the loop's own thread.
    void stop();

    // Runs `task` on the loop's thread at its next turn. Thread-safe. Returns false (and
    // drops the task) when the loop is not running.
    bool post(Task task);
    // Runs `task` on the loop's thread and waits until it has run; from the loop's own thread
    // it runs at once. Returns false when the loop is not running (the task did not run).
    bool run_sync(const Task& task);
    // True on the loop's own thread.
    bool in_loop() const;

    // ---- from the loop's own thread only ----

    // Watches `fd` for `events` with `handler`, replacing an earlier watch of it. Returns
    // false with errno set when epoll refuses the descriptor.
    bool watch(int fd, std::uint32_t events, Handler handler);
    // Changes the events watched on `fd`.
    bool modify(int fd, std::uint32_t events);
    // Stops watching `fd`; call it before closing the descriptor. Events already collected
    // for it in this turn are not delivered.
    void unwatch(int fd);

    // Runs `task` once at `when` (at the next turn when that has passed). The id cancels it.
    TimerId at(TimePoint when, Task task);
    // Cancels a timer that has not run yet; unknown ids are ignored.
    void cancel(TimerId id);

    // Keeps `task` to run at the end of the turns that ask for it (end_turn_with()), after
    // their handlers, posted tasks and timers: where work collected during a turn is handed on
    // at once (a Modbus TCP source pushes the turn's samples to the mapping thread in one go).
    // Only the tasks asked for run, so a thousand idle sources cost a turn nothing.
    TimerId at_end_of_turn(Task task);
    // Runs end-of-turn task `id` at the end of this turn, once however often it is asked.
    void end_turn_with(TimerId id);
    void remove_end_of_turn(TimerId id);

    // Watched descriptors and pending timers, for tests and the memory bound.
    std::size_t watched() const { return watches_.size(); }
    std::size_t timers() const { return timers_.size(); }

  private:
    struct Watch {
        int fd;
        std::shared_ptr<Handler> handler;
    };

    void run();
    void run_posted();
    void run_due_timers();
    void run_asked_turn_ends();
    // How long the next wait may last: until the end of the earliest timer's slot; -1: no timer.
    SteadyClock::duration wait_time() const;

    const std::string thread_name_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;  // an eventfd: post() and stop() write to it
    std::thread thread_;
    std::atomic<std::thread::id> loop_thread_{};  // set by the thread, read by in_loop()

    std::mutex posted_mutex_;
    std::vector<Task> posted_;  // guarded by posted_mutex_
    bool running_ = false;      // guarded by posted_mutex_
    bool stopping_ = false;     // guarded by posted_mutex_

    // Loop-thread state.
    std::unordered_map<std::uint64_t, Watch> watches_;  // by registration id
    std::unordered_map<int, std::uint64_t> watch_ids_;  // fd -> registration id
    std::uint64_t next_watch_id_ = 1;
    std::map<std::pair<TimePoint, TimerId>, Task> timers_;
    std::unordered_map<TimerId, TimePoint> timer_times_;
    TimerId next_timer_id_ = 1;
    struct TurnEnd {
        Task task;
        bool asked = false;  // end_turn_with() this turn
    };
    std::unordered_map<TimerId, TurnEnd> turn_ends_;  // at_end_of_turn()
    std::vector<TimerId> asked_turn_ends_;            // in the order they were asked
};

}  // namespace nodebridge
