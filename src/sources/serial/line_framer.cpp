#include "sources/serial/line_framer.hpp"

namespace nodebridge::serial {

LineFramer::LineFramer(std::size_t max_line) : max_line_(max_line == 0 ? 1 : max_line) {
    // One spare byte holds a '\r' that may turn out to precede the '\n'.
    partial_.reserve(max_line_ + 1);
}

void LineFramer::reset() {
    partial_.clear();
    discarding_ = false;
}

void LineFramer::append(std::string_view piece) {
    if (discarding_ || piece.empty()) return;
    // A line of exactly max_line bytes followed by "\r\n" still fits: allow one extra byte,
    // which can only be a '\r' if the line is to be kept (checked when the line ends).
    const std::size_t limit = max_line_ + 1;
    if (partial_.size() + piece.size() > limit) {
        partial_.clear();
        discarding_ = true;
        return;
    }
    partial_.append(piece);
}

}  // namespace nodebridge::serial
