#pragma once
// The publisher's outbox: messages accepted by publish() and not yet taken by the network
// thread, oldest first, bounded. Not thread-safe; the Publisher guards it with its lock.
//
// Kept behind this small interface so a disk-backed spool (store-and-forward) can take its
// place without touching the session logic.

#include <algorithm>
#include <cstddef>
#include <deque>

#include "nodebridge/message.hpp"

namespace nodebridge {

class Outbox {
  public:
    // `capacity` of 0 is taken as 1.
    explicit Outbox(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

    // Appends `message`. When full, drops the oldest message first. Returns how many
    // messages were dropped (0 or 1).
    std::size_t push_back(Message message) {
        std::size_t dropped = 0;
        if (items_.size() >= capacity_) {
            items_.pop_front();
            dropped = 1;
        }
        items_.push_back(std::move(message));
        return dropped;
    }

    // Moves up to `max` of the oldest messages to the back of `into`, oldest first, so a
    // consumer takes a batch under one lock. Returns how many were moved.
    std::size_t take(std::size_t max, std::deque<Message>& into) {
        const std::size_t count = std::min(max, items_.size());
        for (std::size_t i = 0; i < count; ++i) {
            into.push_back(std::move(items_.front()));
            items_.pop_front();
        }
        return count;
    }

    // Removes everything; returns how many messages were removed.
    std::size_t clear() {
        const std::size_t count = items_.size();
        items_.clear();
        return count;
    }

    std::size_t size() const { return items_.size(); }
    bool empty() const { return items_.empty(); }
    std::size_t capacity() const { return capacity_; }

  private:
    const std::size_t capacity_;
    std::deque<Message> items_;
};

}  // namespace nodebridge
