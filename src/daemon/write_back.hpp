#pragma once
// Write-back in the daemon: each message on a command topic is checked by the
// CommandRouter, handed to the thread of the source that owns the device, and answered on
// its result topic with "ok" or "error: <reason>". Every command is counted and logged
// (rate-limited per topic). docs/write-back.md is the user's reference.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "nodebridge/command.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/message.hpp"
#include "nodebridge/publisher.hpp"
#include "nodebridge/source.hpp"

namespace nodebridge {

struct CommandStats {
    std::uint64_t received = 0;  // messages on command topics
    std::uint64_t written = 0;   // commands the device took
    std::uint64_t rejected = 0;  // refused before the device: invalid, not writable, retained
    std::uint64_t failed = 0;    // valid, but the write failed (timeout, exception, queue full)

    friend bool operator==(const CommandStats&, const CommandStats&) = default;
};

class WriteBack {
  public:
    using Publish = std::function<void(Message&&)>;

    // `publish` sends the results; it and `log` must outlive the WriteBack.
    WriteBack(Logger& log, Publish publish);

    // The handler to give Publisher::set_subscriptions together with router->topics().
    // Thread-safe: it may run on the publisher's network thread while the sources change.
    Publisher::IncomingHandler handler(std::shared_ptr<const CommandRouter> router);

    // The sources commands are handed to, by name. The pointers must stay valid until the
    // next call; once it returns, no command reaches a source that is no longer listed.
    void set_sources(const std::vector<Source*>& sources);

    CommandStats stats() const;

    // Hands an already checked command (a Sparkplug DCMD write) to its source and logs and
    // counts the outcome like a command topic's; it has no result topic.
    void submit(WriteCommand command);

  private:
    void receive(const CommandRouter& router, std::string_view topic, std::string_view payload,
                 bool retained);
    void submit(WriteCommand command, const std::string& topic);
    void answer(const std::string& reply_topic, const std::string& rule, std::string payload);

    Logger& log_;
    Publish publish_;
    mutable std::mutex sources_mutex_;
    std::map<std::string, Source*, std::less<>> sources_;
    std::atomic<std::uint64_t> received_{0};
    std::atomic<std::uint64_t> written_{0};
    std::atomic<std::uint64_t> rejected_{0};
    std::atomic<std::uint64_t> failed_{0};
};

}  // namespace nodebridge
