#include "pipeline.hpp"

#include <pthread.h>

#include <algorithm>
#include <vector>

namespace nodebridge {

namespace {
// The loop comes round at least this often, so last_alive() stays fresh while idle.
constexpr Millis kMaxIdle{1000};
}  // namespace

Pipeline::Pipeline(Mapper mapper, SampleQueue& samples, Deliver deliver)
    : mapper_(std::move(mapper)), queue_(samples), deliver_(std::move(deliver)) {
    alive_ = SteadyClock::now().time_since_epoch().count();
}

Pipeline::~Pipeline() { stop(); }

void Pipeline::start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { run(); });
    pthread_setname_np(thread_.native_handle(), "mapping");
}

void Pipeline::stop() {
    stopping_ = true;
    queue_.close();
    if (thread_.joinable()) thread_.join();
}

void Pipeline::replace_mapper(Mapper mapper) {
    std::lock_guard lock(mapper_mutex_);
    mapper.adopt_state(std::move(mapper_));
    mapper_ = std::move(mapper);
}

SteadyClock::time_point Pipeline::last_alive() const {
    return SteadyClock::time_point(SteadyClock::duration(alive_.load(std::memory_order_relaxed)));
}

void Pipeline::run() {
    std::vector<Sample> samples;
    std::vector<Message> out;
    while (true) {
        SteadyClock::time_point deadline;
        {
            std::lock_guard lock(mapper_mutex_);
            deadline = std::min(mapper_.next_due(), SteadyClock::now() + kMaxIdle);
        }
        if (observer_ != nullptr) deadline = std::min(deadline, observer_->next_due());
        const std::size_t taken = queue_.pop_all_until(deadline, samples);
        const auto now = SteadyClock::now();
        alive_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
        {
            std::lock_guard lock(mapper_mutex_);
            for (const Sample& sample : samples) mapper_.map(sample, now, out);
            mapper_.tick(now, out);
            unknown_states_.store(mapper_.unknown_states(), std::memory_order_relaxed);
        }
        samples_.fetch_add(taken, std::memory_order_relaxed);
        messages_.fetch_add(out.size(), std::memory_order_relaxed);
        if (!out.empty()) deliver_(out);
        out.clear();
        if (observer_ != nullptr) {
            for (const Sample& sample : samples) observer_->observe(sample, now);
            observer_->tick(now);
        }
        samples.clear();
        if (taken == 0 && stopping_ && queue_.size() == 0) break;
    }
}

}  // namespace nodebridge
