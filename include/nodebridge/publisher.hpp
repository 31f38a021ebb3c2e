#pragma once
// The Publisher owns the MQTT session: connect with the Last Will, publish the birth
// message, reconnect by itself, and hand messages to the broker in the order they came.
//
// Threading: one network thread per Publisher (started by start()) is the only thread that
// touches the libmosquitto client; publish() and stats() may be called from any thread and
// only take a short lock. Messages wait in a bounded in-memory outbox until the network
// thread hands them to the broker; at most kMaxInFlight QoS>0 messages are unacknowledged
// at a time, so neither the outbox nor libmosquitto's own queue grows without bound.
//
// Store-and-forward: with `mqtt.buffer.dir` set (the default) QoS 1/2 messages are written
// to a disk spool instead of the memory outbox, and leave it only once the broker
// acknowledged them (PUBACK/PUBCOMP), so they survive outages and restarts; the backlog is
// sent oldest first. QoS 0 messages stay in the bounded memory outbox. docs/operations.md
// describes the behaviour and its counters.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nodebridge/config.hpp"
#include "nodebridge/log.hpp"
#include "nodebridge/message.hpp"

namespace nodebridge {

// Counters since construction. Health messages (birth, offline) are not counted.
struct PublisherStats {
    bool connected = false;
    std::string broker;           // "host:port" of the broker last connected to; "" before
    std::uint64_t published = 0;  // messages handed to the broker
    std::uint64_t delivered = 0;  // QoS>0 messages acknowledged by the broker
    std::uint64_t dropped = 0;    // messages given up on: the sum of the dropped_* below
    std::uint64_t rejected = 0;   // messages refused as invalid (bad topic, qos, oversize)
    // Messages the broker refused (MQTT 5 PUBACK/PUBREC reason >= 0x80, e.g. 0x87 Not
    // authorized by its ACL): dropped, never retried. By rule name; "" for the daemon's own.
    std::uint64_t refused = 0;
    std::map<std::string, std::uint64_t> refused_by_rule;
    std::uint64_t queued = 0;     // messages waiting in the outbox for the broker
    std::uint64_t in_flight = 0;  // QoS>0 messages handed over, not yet acknowledged
    std::uint64_t connects = 0;   // successful connections (CONNACK accepted) since start

    // Why messages were dropped (each also counted in `dropped`).
    std::uint64_t dropped_queue_full = 0;  // memory queue full (QoS 0; all QoS without spool)
    std::uint64_t dropped_spool_full = 0;  // spool at mqtt.buffer.max_bytes (on_full policy)
    std::uint64_t dropped_expired = 0;     // older than mqtt.buffer.max_age, never sent
    std::uint64_t dropped_at_stop = 0;     // in memory at stop(), or published after it
    // With SessionHooks::session_scoped: queued when a connection ended, never sent.
    std::uint64_t dropped_session_end = 0;

    // The disk spool (mqtt.buffer) that keeps QoS 1/2 messages until acknowledged.
    bool spooling = false;                 // false: no spool dir or unusable; memory only
    // Why the configured spool directory could not be used, e.g. "cannot write in
    // '/var/lib/nodebridge/spool': Permission denied"; "" when it is used or none is
    // configured. Set at construction: the spool is not retried until a restart or reload.
    std::string spool_unavailable;
    // Why the spool directory, used so far, cannot be written now (Spool::problem()), e.g.
    // "cannot create a segment in '/var/lib/nodebridge/spool': Permission denied"; "" while it
    // can. Meanwhile new messages fill the open segment, then stay in memory only.
    std::string spool_problem;
    std::uint64_t spooled_records = 0;     // messages in the spool, not yet acknowledged
    std::uint64_t spooled_bytes = 0;       // size of the spool's segment files
    std::uint64_t spool_recovered = 0;     // unacknowledged messages found at start
    std::uint64_t spool_lost = 0;          // messages lost to damaged spool files at start
    std::uint64_t spool_write_errors = 0;  // appends that failed (the message stayed in memory)
};

class Publisher {
  public:
    static constexpr std::size_t kDefaultQueueCapacity = 100'000;
    // QoS>0 messages handed to the broker and not yet acknowledged, at most.
    static constexpr std::size_t kMaxInFlight = 100;
    // The network thread takes up to this many messages off the outbox under one lock; they
    // count as queued (and can exceed the outbox's capacity by this much) until handed over.
    static constexpr std::size_t kTakeBatch = 256;
    // Reconnect delays grow from the first up to `mqtt.reconnect_max`, doubling, with jitter.
    static constexpr std::chrono::milliseconds kFirstRetryDelay{500};
    // The spool's writes are made durable (fdatasync) at least this often.
    static constexpr std::chrono::milliseconds kSpoolSyncInterval{100};
    // A connection attempt without CONNACK within this time is abandoned and retried.
    static constexpr std::chrono::milliseconds kConnectTimeout{10'000};

    // Builds the client from `config` (client id already expanded) and opens the spool
    // directory `config.buffer.dir`, recovering what a previous run left there; when that
    // directory cannot be used it logs why (error, with the remedy), says so in
    // stats().spool_unavailable, sends `mqtt.health.degraded` instead of `online` as the
    // birth message when that is set, and keeps every message in memory. A spool directory
    // that can no longer be written while running is said the same way (an error line with
    // the remedy, stats().spool_problem, `degraded` on the health topic when set) and again
    // once it can be written (a notice, `online`). Connects to nothing yet. `queue_capacity` bounds the memory outbox (0 is taken as 1). `log` must
    // outlive the Publisher.
    Publisher(const MqttConfig& config, Logger& log,
              std::size_t queue_capacity = kDefaultQueueCapacity);
    // Stops with a short grace (kDestructorGrace) when stop() was not called.
    ~Publisher();
    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;

    static constexpr std::chrono::milliseconds kDestructorGrace{500};

    // Starts the network thread, which connects in the background and reconnects by itself
    // with backoff; returns at once. Calling it twice, or after stop(), does nothing.
    void start();

    // Queues `message` for the broker. Thread-safe; never blocks on the network. Messages of
    // one QoS class leave in the order publish() was called. A QoS 1/2 message is accepted
    // once written to the spool (full spool: the on_full policy, counted); without a spool,
    // and for QoS 0, messages wait in the bounded memory outbox (when full the oldest is
    // dropped and counted). A message with an invalid topic or QoS is refused and counted
    // in `rejected`; after stop() messages are counted as dropped.
    void publish(Message message);

    // publish() for each of `messages` in order (moving from them), queued under one lock
    // with one wake-up of the network thread: what a producer with several messages at
    // once (the mapping thread after a wake-up) should call.
    void publish(std::span<Message> messages);

    // Hands the outbox to the broker while `grace` lasts, then publishes the offline health
    // message, waits for QoS>0 messages in flight to be acknowledged (until `grace` is
    // spent), disconnects cleanly (so the broker does not send the Will) and joins the
    // network thread. What is still in the memory outbox afterwards is counted as dropped;
    // what is in the spool stays there, synced, for the next start. Idempotent.
    void stop(std::chrono::milliseconds grace);

    // A consistent snapshot of the counters. Thread-safe.
    PublisherStats stats() const;

    // A message that arrived on a subscribed topic; `retained` is set when it was published
    // retained. Under MQTT 5 that holds for live messages too (the subscriptions ask for
    // "retain as published"); under MQTT 3.1.1 the broker clears the flag on a live message,
    // so there it is set only for what the broker sent from its store at subscription.
    using IncomingHandler =
        std::function<void(std::string_view topic, std::string_view payload, bool retained)>;

    // Subscribes to `topics` (QoS 1) on this and every later connection, and hands each
    // message received on them to `handler`, on the network thread: it must return quickly
    // and never call stop(). Replaces the previous set: topics no longer listed are
    // unsubscribed. Thread-safe; an empty list subscribes to nothing. A topic the broker
    // refuses to subscribe is logged (rate-limited) and not retried until the next connect.
    void set_subscriptions(std::vector<std::string> topics, IncomingHandler handler);

    // Hooks for a protocol that owns its session's Will and first messages (Sparkplug B:
    // docs/sparkplug.md). Each runs on the network thread and must return quickly; none may
    // call stop() or set_session_hooks(). Unset hooks do nothing.
    struct SessionHooks {
        // Before every connection attempt: the Last Will of that CONNECT. It replaces the
        // health topic's Will (the health online/offline messages are still published).
        std::function<Message()> will;
        // Once the broker accepted a connection, before the health birth and before anything
        // queued: the messages to publish first, in this order.
        std::function<std::vector<Message>()> connected;
        // When an accepted connection has ended (lost, or closed by stop() or end_session()).
        std::function<void()> disconnected;
        // True: what is published belongs to the connection it was published during (QoS 0
        // only; Sparkplug's seq numbers). What is still queued when a connection ends, or
        // when the next one is accepted, is dropped and counted (dropped_session_end), never
        // sent on another connection: its first messages are always `connected`'s.
        bool session_scoped = false;
    };

    // Sets the hooks; call it before start() (later calls are ignored). With a `will` hook,
    // stop() and end_session() leave so that the Will is delivered: MQTT 5 disconnects with
    // reason 0x04 (Disconnect with Will Message), MQTT 3.1.1 publishes the Will itself and
    // sends DISCONNECT once the broker acknowledged it (waiting up to 2 s), so it is
    // delivered once.
    void set_session_hooks(SessionHooks hooks);

    // Ends the current connection as stop() would (delivering the Will as above), after
    // handing it what is queued, and reconnects with backoff, to the next broker of
    // mqtt.hosts. With `failed_attempt` the connection counts as a failed connection
    // attempt: the backoff goes on growing from where it was before that connection (up to
    // mqtt.reconnect_max) instead of starting over, so a broker where every new connection
    // is ended at once sees no more connects than the backoff allows. Thread-safe; does
    // nothing while not connected.
    void end_session(bool failed_attempt = false);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nodebridge
