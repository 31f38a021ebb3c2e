#pragma once
// The publisher's outbox: messages accepted by publish() and not yet handed to the broker,
// oldest first, bounded. Not thread-safe; the Publisher guards it with its lock.
//
// Kept behind this small interface so a disk-backed spool (store-and-forward) can take its
// place without touching the session logic.

#include <cstddef>
#include <deque>
#include <optional>

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

    // Puts back a message taken by pop_front() that could not be handed over, ahead of all
    // others. When full, that message is the oldest and is the one dropped. Returns how many
    // messages were dropped (0 or 1).
    std::size_t push_front(Message message) {
        if (items_.size() >= capacity_) return 1;
        items_.push_front(std::move(message));
        return 0;
    }

    // Takes the oldest message; nullopt when empty.
    std::optional<Message> pop_front() {
        if (items_.empty()) return std::nullopt;
        Message message = std::move(items_.front());
        items_.pop_front();
        return message;
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
