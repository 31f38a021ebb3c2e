#include "nodebridge/io_loop.hpp"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <system_error>

namespace nodebridge {

IoLoop::IoLoop(std::string thread_name) : thread_name_(std::move(thread_name)) {}

IoLoop::~IoLoop() {
    stop();
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void IoLoop::start() {
    std::lock_guard lock(posted_mutex_);
    if (running_) return;
    if (epoll_fd_ < 0) {
        epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
        if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
        wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = 0;  // registration id 0 is the wake descriptor
        if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) != 0) {
            throw std::system_error(errno, std::generic_category(), "epoll_ctl");
        }
    }
    running_ = true;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
    pthread_setname_np(thread_.native_handle(), thread_name_.substr(0, 15).c_str());
}

void IoLoop::stop() {
    {
        std::lock_guard lock(posted_mutex_);
        if (!running_) return;
        stopping_ = true;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(wake_fd_, &one, sizeof one);
    thread_.join();
    std::lock_guard lock(posted_mutex_);
    running_ = false;
    posted_.clear();
}

bool IoLoop::post(Task task) {
    {
        std::lock_guard lock(posted_mutex_);
        if (!running_ || stopping_) return false;
        posted_.push_back(std::move(task));
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(wake_fd_, &one, sizeof one);
    return true;
}

bool IoLoop::run_sync(const Task& task) {
    if (in_loop()) {
        task();
        return true;
    }
    std::mutex mutex;
    std::condition_variable done_signal;
    bool done = false;
    const bool posted = post([&] {
        task();
        std::lock_guard lock(mutex);
        done = true;
        done_signal.notify_one();
    });
    if (!posted) return false;
    std::unique_lock lock(mutex);
    done_signal.wait(lock, [&] { return done; });
    return true;
}

bool IoLoop::in_loop() const { return std::this_thread::get_id() == loop_thread_.load(); }

bool IoLoop::watch(int fd, std::uint32_t events, Handler handler) {
    unwatch(fd);
    const std::uint64_t id = next_watch_id_++;
    epoll_event event{};
    event.events = events;
    event.data.u64 = id;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return false;
    watches_.emplace(id, Watch{fd, std::make_shared<Handler>(std::move(handler))});
    watch_ids_.emplace(fd, id);
    return true;
}

bool IoLoop::modify(int fd, std::uint32_t events) {
    const auto found = watch_ids_.find(fd);
    if (found == watch_ids_.end()) return false;
    epoll_event event{};
    event.events = events;
    event.data.u64 = found->second;
    return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) == 0;
}

void IoLoop::unwatch(int fd) {
    const auto found = watch_ids_.find(fd);
    if (found == watch_ids_.end()) return;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    watches_.erase(found->second);
    watch_ids_.erase(found);
}

IoLoop::TimerId IoLoop::at(TimePoint when, Task task) {
    const TimerId id = next_timer_id_++;
    timers_.emplace(std::pair{when, id}, std::move(task));
    timer_times_.emplace(id, when);
    return id;
}

void IoLoop::cancel(TimerId id) {
    const auto found = timer_times_.find(id);
    if (found == timer_times_.end()) return;
    timers_.erase(std::pair{found->second, id});
    timer_times_.erase(found);
}

IoLoop::TimerId IoLoop::at_end_of_turn(Task task) {
    const TimerId id = next_timer_id_++;
    turn_ends_.emplace(id, TurnEnd{std::move(task)});
    return id;
}

void IoLoop::end_turn_with(TimerId id) {
    const auto found = turn_ends_.find(id);
    if (found == turn_ends_.end() || found->second.asked) return;
    found->second.asked = true;
    asked_turn_ends_.push_back(id);
}

void IoLoop::remove_end_of_turn(TimerId id) { turn_ends_.erase(id); }

SteadyClock::duration IoLoop::wait_time() const {
    if (timers_.empty()) return SteadyClock::duration(-1);
    const auto due = timers_.begin()->first.first.time_since_epoch();
    const auto slots = (due + kTimerSlot - SteadyClock::duration(1)) / kTimerSlot;  // rounded up
    const SteadyClock::time_point slot_end(
        std::chrono::duration_cast<SteadyClock::duration>(slots * kTimerSlot));
    const auto wait = slot_end - SteadyClock::now();
    return std::clamp<SteadyClock::duration>(wait, SteadyClock::duration::zero(),
                                             std::chrono::seconds(60));
}

void IoLoop::run_posted() {
    std::vector<Task> tasks;
    {
        std::lock_guard lock(posted_mutex_);
        tasks.swap(posted_);
    }
    for (Task& task : tasks) task();
}

void IoLoop::run_due_timers() {
    // Only what is due now: a timer a task sets for the past runs in the next turn, so a
    // task that re-arms itself cannot keep the loop here.
    const auto now = SteadyClock::now();
    std::vector<Task> due;
    while (!timers_.empty() && timers_.begin()->first.first <= now) {
        auto first = timers_.begin();
        timer_times_.erase(first->first.second);
        due.push_back(std::move(first->second));
        timers_.erase(first);
    }
    for (Task& task : due) task();
}

void IoLoop::run_asked_turn_ends() {
    std::vector<TimerId> asked;
    asked.swap(asked_turn_ends_);
    for (const TimerId id : asked) {
        const auto found = turn_ends_.find(id);  // removed meanwhile: nothing to run
        if (found == turn_ends_.end()) continue;
        found->second.asked = false;
        found->second.task();
    }
}

void IoLoop::run() {
    loop_thread_ = std::this_thread::get_id();
    std::array<epoll_event, 64> events{};
    for (;;) {
        const auto wait = wait_time();
        const auto seconds = std::chrono::floor<std::chrono::seconds>(wait);
        const timespec timeout{static_cast<time_t>(seconds.count()),
                               static_cast<long>((wait - seconds).count())};
        int ready = epoll_pwait2(epoll_fd_, events.data(), static_cast<int>(events.size()),
                                 wait.count() < 0 ? nullptr : &timeout, nullptr);
        if (ready < 0 && errno == ENOSYS) {  // a kernel before 5.11: whole milliseconds
            const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
            ready = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                               wait.count() < 0 ? -1 : static_cast<int>(ms));
        }
        bool woken = false;
        for (int i = 0; i < ready; ++i) {
            const std::uint64_t id = events[i].data.u64;
            if (id == 0) {
                std::uint64_t count = 0;
                [[maybe_unused]] const auto read = ::read(wake_fd_, &count, sizeof count);
                woken = true;
                continue;
            }
            const auto found = watches_.find(id);
            if (found == watches_.end()) continue;  // unwatched earlier in this turn
            // Kept alive while it runs: the handler may unwatch its own descriptor.
            const std::shared_ptr<Handler> handler = found->second.handler;
            (*handler)(events[i].events);
        }
        if (woken) {
            run_posted();
            std::lock_guard lock(posted_mutex_);
            if (stopping_ && posted_.empty()) break;
        }
        run_due_timers();
        run_asked_turn_ends();
    }
    loop_thread_ = std::thread::id{};
}

}  // namespace nodebridge
