#pragma once
// What the mapping hands the publisher: one MQTT publish.

#include <string>

namespace nodebridge {

struct Message {
    std::string topic;
    std::string payload;
    int qos = 0;  // 0, 1 or 2
    bool retain = false;
    std::string rule;  // the mapping rule that made it; empty for the daemon's own messages

    friend bool operator==(const Message&, const Message&) = default;
};

}  // namespace nodebridge
