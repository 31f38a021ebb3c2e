#pragma once
// A bounded multi-producer, single-consumer queue between threads.
//
// When full, push() evicts the oldest element to make room: the newest reading is the
// one worth keeping. Every eviction is counted (dropped()) so the loss is visible.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace nodebridge {

template <typename T>
class BoundedQueue {
  public:
    explicit BoundedQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

    // Adds `item`. Returns false when the queue was full and the oldest item was dropped,
    // or when the queue is closed (the item is then discarded and counted as dropped).
    bool push(T item) {
        bool evicted = false;
        {
            std::lock_guard lock(mutex_);
            if (closed_) {
                ++dropped_;
                return false;
            }
            if (items_.size() >= capacity_) {
                items_.pop_front();
                ++dropped_;
                evicted = true;
            }
            items_.push_back(std::move(item));
        }
        ready_.notify_one();
        return !evicted;
    }

    // Adds every item of `items`, in order, under one lock and with one wake-up of the
    // consumer (a producer hands over what it made in one turn together), then clears
    // `items`. When full, the oldest items make room as in push(). Returns how many items
    // were dropped (evicted, or discarded because the queue is closed).
    std::size_t push_all(std::vector<T>& items) {
        if (items.empty()) return 0;
        std::size_t dropped = 0;
        {
            std::lock_guard lock(mutex_);
            if (closed_) {
                dropped = items.size();
            } else {
                for (T& item : items) {
                    if (items_.size() >= capacity_) {
                        items_.pop_front();
                        ++dropped;
                    }
                    items_.push_back(std::move(item));
                }
            }
            dropped_ += dropped;
        }
        items.clear();
        ready_.notify_one();
        return dropped;
    }
    // Waits until an item is available, the deadline passes, or the queue is closed and
    // drained. Returns nullopt in the last two cases.
    std::optional<T> pop_until(std::chrono::steady_clock::time_point deadline) {
        std::unique_lock lock(mutex_);
        ready_.wait_until(lock, deadline, [&] { return !items_.empty() || closed_; });
        if (items_.empty()) return std::nullopt;
        T item = std::move(items_.front());
        items_.pop_front();
        return item;
    }

    // Waits like pop_until(), then moves every queued item, oldest first, to the back of
    // `out` under one lock: a consumer takes a burst in one wake-up, not one per item.
    // Returns how many items it moved (0 when the deadline passed or the queue is closed and
    // drained).
    std::size_t pop_all_until(std::chrono::steady_clock::time_point deadline, std::vector<T>& out) {
        std::unique_lock lock(mutex_);
        ready_.wait_until(lock, deadline, [&] { return !items_.empty() || closed_; });
        const std::size_t count = items_.size();
        for (T& item : items_) out.push_back(std::move(item));
        items_.clear();
        return count;
    }

    std::optional<T> pop_for(std::chrono::milliseconds timeout) {
        return pop_until(std::chrono::steady_clock::now() + timeout);
    }

    // Wakes the consumer; later pushes are discarded. Items already queued can still be popped.
    void close() {
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
        }
        ready_.notify_all();
    }

    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return items_.size();
    }
    std::size_t capacity() const { return capacity_; }
    std::uint64_t dropped() const {
        std::lock_guard lock(mutex_);
        return dropped_;
    }

  private:
    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<T> items_;
    std::uint64_t dropped_ = 0;
    bool closed_ = false;
};

}  // namespace nodebridge
