#pragma once
// Line framing for a receiver's byte stream: bytes in, complete lines out.
//
// '\n' ends a line and a '\r' just before it is stripped, so both "\n" and "\r\n" receivers
// work. A line longer than `max_line` bytes is dropped whole (up to its next '\n') and
// counted; memory stays bounded by `max_line` whatever the input.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nodebridge::serial {

class LineFramer {
  public:
    // `max_line` is the longest line kept, without its terminator; 0 is treated as 1.
    explicit LineFramer(std::size_t max_line);

    // Feeds `bytes` and calls `on_line(std::string_view)` for each complete line, in order.
    // The view is valid only during the call. Partial lines are kept for the next feed().
    template <typename OnLine>
    void feed(std::string_view bytes, OnLine&& on_line) {
        while (!bytes.empty()) {
            const std::size_t newline = bytes.find('\n');
            const std::string_view piece = bytes.substr(0, newline);
            append(piece);
            if (newline == std::string_view::npos) return;
            bytes.remove_prefix(newline + 1);
            std::string_view line = partial_;
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (discarding_ || line.size() > max_line_) {
                ++dropped_long_lines_;
            } else {
                on_line(line);
            }
            discarding_ = false;
            partial_.clear();
        }
    }

    // Forgets a partial line (after the port was closed and reopened). Not counted.
    void reset();

    // Lines dropped because they were longer than max_line.
    std::uint64_t dropped_long_lines() const { return dropped_long_lines_; }
    std::size_t max_line() const { return max_line_; }

  private:
    void append(std::string_view piece);

    std::size_t max_line_;
    std::string partial_;
    bool discarding_ = false;
    std::uint64_t dropped_long_lines_ = 0;
};

}  // namespace nodebridge::serial
