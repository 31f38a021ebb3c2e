#include "nodebridge/publisher.hpp"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <thread>
#include <unordered_map>
#include <utility>

#include "outbox.hpp"
#include "spool.hpp"
#include "tls.hpp"

// Design notes.
//
// The network thread is ours, not libmosquitto's (mosquitto_loop_start): it polls the
// client's socket together with an eventfd that publish() and stop() use to wake it, and
// drives mosquitto_loop_read/write/misc itself. That makes it the only thread that ever
// calls into the client, so:
//  - the race between a connection drop (on_disconnect) and a publish from another thread
//    cannot happen: the connection state we test before mosquitto_publish() is the state the
//    library is in;
//  - message ids are registered before any acknowledgement for them can be processed;
//  - new messages are handed over only after libmosquitto has finished handling a CONNACK,
//    which includes retransmitting the QoS>0 messages that were in flight when the previous
//    connection dropped, so queued messages never overtake those;
//  - reconnection (backoff with jitter, connect timeout) is ours, and does not end on the
//    errors that make mosquitto_loop_forever() return for good (e.g. a failed DNS lookup).
//
// libmosquitto keeps every QoS>0 message it accepted until acknowledged, across reconnects,
// even when mosquitto_publish() returned an error after queueing it (e.g. MOSQ_ERR_NO_CONN).
// Such a message is therefore never put back in our outbox: that would send it twice. A QoS
// 0 message that the library did not take is put back at the front of the outbox.
//
// With the spool, every QoS>0 message is appended to it by publish() and read back, oldest
// first, by the network thread when the in-flight window has room; the in-flight map keeps
// the record's sequence number, and the record is acknowledged in the spool on
// PUBACK/PUBCOMP only. The session is clean (clean_session = true): what the broker had not
// acknowledged when the connection dropped is resent by libmosquitto on the next connection
// (whichever broker of mqtt.hosts answers), and after a restart by the spool.
//
// A message the broker refuses (MQTT 5 reason >= 0x80 in PUBACK/PUBREC, e.g. 0x87 when its
// ACL denies the topic) is final: it is counted per rule, logged and leaves the spool like an
// acknowledged one, so one denied topic never blocks the others or retries forever.
//
// Subscriptions (write-back commands) are clean-session too: the network thread subscribes
// every wanted topic after each CONNACK and keeps the broker's set equal to the wanted one
// when set_subscriptions() changes it.

namespace nodebridge {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// mosquitto_lib_init()/cleanup() keep a reference count without locking; serialize them so
// several Publishers can be built and destroyed from different threads.
class LibraryReference {
  public:
    LibraryReference() {
        std::lock_guard lock(mutex());
        mosquitto_lib_init();
    }
    ~LibraryReference() {
        std::lock_guard lock(mutex());
        mosquitto_lib_cleanup();
    }
    LibraryReference(const LibraryReference&) = delete;
    LibraryReference& operator=(const LibraryReference&) = delete;

  private:
    static std::mutex& mutex() {
        static std::mutex library_mutex;
        return library_mutex;
    }
};

// Over MQTT 3.1.1 DISCONNECT waits at most this long for the PUBACK of the Will published
// before it (disconnect_leaving_will()).
constexpr milliseconds kLeaveTimeout{2000};

// Errors on which mosquitto_publish() refused the message itself before queueing it:
// retrying cannot help.
bool is_refusal(int rc) {
    switch (rc) {
        case MOSQ_ERR_INVAL:
        case MOSQ_ERR_MALFORMED_UTF8:
        case MOSQ_ERR_PAYLOAD_SIZE:
        case MOSQ_ERR_OVERSIZE_PACKET:
        case MOSQ_ERR_QOS_NOT_SUPPORTED:
        case MOSQ_ERR_RETAIN_NOT_SUPPORTED:
        case MOSQ_ERR_NOT_SUPPORTED:
        case MOSQ_ERR_PROTOCOL:
        case MOSQ_ERR_DUPLICATE_PROPERTY:
            return true;
        default:
            return false;
    }
}

// The largest payload MQTT can carry (remaining length limit, less a little for the header).
constexpr std::size_t kMaxPayload = 268'435'455 - 65'535 - 8;

std::int64_t wall_ms() {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Holds the messages of one drain back in the kernel until the drain ends (TCP_CORK, tcp(7)),
// so what one wake-up takes leaves in as few segments as fit rather than one segment per
// message (TCP_NODELAY is on): the broker and every subscriber then read a burst at once
// instead of a segment each. Corked once more than one message is known to go, so a wake-up
// with one message costs no extra system call; uncorked when the drain ends, which sends what
// is held at once.
class DrainCork {
  public:
    explicit DrainCork(mosquitto* mosq) : mosq_(mosq), fd_(mosquitto_socket(mosq)) {}
    ~DrainCork() {
        // Not when the client closed its socket meanwhile: the number may be another's now.
        if (corked_ && mosquitto_socket(mosq_) == fd_) set(0);
    }
    DrainCork(const DrainCork&) = delete;
    DrainCork& operator=(const DrainCork&) = delete;

    // Call before each message is handed to the client, with whether more are already
    // waiting behind it.
    void before_message(bool more_follow) {
        if (!corked_ && fd_ >= 0 && (more_follow || ++messages_ == 2)) corked_ = set(1);
    }

  private:
    bool set(int on) const { return setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &on, sizeof on) == 0; }

    mosquitto* mosq_;
    int fd_;
    int messages_ = 0;
    bool corked_ = false;
};

std::vector<BrokerAddress> brokers_of(const MqttConfig& config) {
    if (!config.hosts.empty()) return config.hosts;
    return {BrokerAddress{.host = config.host, .port = config.port}};
}

std::string endpoint_text(const BrokerAddress& broker) {
    return broker.host + ":" + std::to_string(broker.port);
}

int keepalive_seconds(Millis keepalive) {
    const auto seconds = (keepalive.count() + 999) / 1000;
    return static_cast<int>(std::clamp<long long>(seconds, 5, 65'535));
}

// Text for a libmosquitto error code; `saved_errno` is errno as it was right after the call.
std::string error_text(int rc, int saved_errno) {
    if (rc == MOSQ_ERR_ERRNO) return std::strerror(saved_errno);
    // libmosquitto 2.0.11 has no text for this one.
    if (rc == MOSQ_ERR_KEEPALIVE) return "no answer from the broker within the keepalive interval";
    std::string text = mosquitto_strerror(rc);
    if (text.rfind("Unknown", 0) == 0) text += " (libmosquitto error " + std::to_string(rc) + ")";
    return text;
}

}  // namespace

struct Publisher::Impl {
    Impl(const MqttConfig& config, Logger& log, std::size_t capacity);
    ~Impl();

    // ---- any thread -------------------------------------------------------------------
    void start();
    void publish(std::span<Message> messages);
    void stop(milliseconds grace);
    PublisherStats stats() const;
    void set_subscriptions(std::vector<std::string> topics, IncomingHandler handler);
    void set_session_hooks(SessionHooks hooks);
    void end_session(bool failed_attempt);
    void wake();

    // ---- network thread ---------------------------------------------------------------
    enum class Link { idle, connecting, connected };
    struct InFlight {
        bool health = false;                          // birth/offline: not counted in the stats
        std::optional<std::uint64_t> spool_sequence;  // the spool record, if from the spool
        std::string topic;                            // for the log line if the broker refuses it
        std::string rule;
    };

    void run();
    void start_attempt(Clock::time_point now);
    void link_down(std::string reason);
    void note_state(bool connected, const std::string& reason);
    milliseconds next_retry_delay();
    void drain();
    std::optional<Message> take_next(std::optional<std::uint64_t>& spool_sequence);
    void spool_upkeep(Clock::time_point now);
    void spool_problem_changed(std::string problem);
    const std::string& health_payload() const;
    void publish_health(const std::string& payload);
    int publish_first(const Message& message);
    void disconnect_leaving_will();
    void poll_once(milliseconds timeout);
    void close_session();
    void drop_session_queue();
    void sync_subscriptions();
    void note_refused(const InFlight& message, int reason);
    std::string reason_text(int code) const;

    static void on_connect(mosquitto*, void* self, int rc, int flags, const mosquitto_property*);
    static void on_disconnect(mosquitto*, void* self, int rc, const mosquitto_property*);
    static void on_publish(mosquitto*, void* self, int mid, int reason, const mosquitto_property*);
    static void on_message(mosquitto*, void* self, const mosquitto_message* message,
                           const mosquitto_property*);
    static void on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted,
                             const mosquitto_property*);

    // Immutable after construction.
    const MqttConfig config_;
    Logger& log_;
    const std::vector<BrokerAddress> brokers_;  // tried in turn; at least one
    LibraryReference library_;
    std::unique_ptr<Spool> spool_;  // null: QoS 1/2 messages wait in the outbox too
    mosquitto* mosq_ = nullptr;
    int wake_fd_ = -1;

    // Guarded by mutex_.
    mutable std::mutex mutex_;
    Outbox outbox_;
    PublisherStats stats_;  // dropped/queued/spool fields are filled in by stats()
    bool accepting_ = true;
    bool stop_requested_ = false;
    Clock::time_point stop_deadline_{};
    // set_subscriptions() leaves the new set here for the network thread.
    std::optional<std::pair<std::vector<std::string>, IncomingHandler>> new_subscriptions_;

    std::atomic<bool> wake_pending_{false};
    std::atomic<bool> end_session_requested_{false};
    std::atomic<bool> end_session_failed_{false};     // end_session(true): a failed attempt
    std::atomic<bool> subscriptions_changed_{false};  // new_subscriptions_ is set

    // start()/stop() serialization.
    std::mutex lifecycle_mutex_;
    std::thread thread_;
    bool started_ = false;
    bool stopped_ = false;
    SessionHooks hooks_;  // set before start(), then read by the network thread only

    // Network thread only.
    Link link_ = Link::idle;
    bool closing_ = false;         // our own DISCONNECT is under way
    bool birth_pending_ = false;   // CONNACK accepted, birth not yet published
    bool session_up_ = false;      // a connection was accepted and has not ended yet
    std::optional<Message> will_;  // the hooks' Will of the current connection
    std::string pending_reason_;   // why the current attempt failed, when known before the drop
    Clock::time_point next_attempt_{};
    Clock::time_point connect_deadline_{};
    unsigned failed_attempts_ = 0;
    unsigned attempts_before_connect_ = 0;  // failed_attempts_ when the last CONNACK came
    bool ending_as_failed_ = false;         // the end_session(true) under way
    std::unordered_map<int, InFlight> in_flight_;
    std::uint64_t data_in_flight_ = 0;  // in_flight_ entries that are not health messages
    std::minstd_rand jitter_{std::random_device{}()};
    std::size_t broker_index_ = 0;  // brokers_[broker_index_] is tried next / connected
    std::string endpoint_;          // its "host:port", for log lines
    bool prefer_spool_ = false;     // drain() alternates between the outbox and the spool
    // Messages taken from the outbox in one go (one lock for up to kTakeBatch), oldest first,
    // not yet handed to the client; their count is published for stats().
    std::deque<Message> taken_;
    std::atomic<std::size_t> taken_count_{0};
    Clock::time_point next_sync_{};
    std::string spool_problem_;  // the spool's problem() as last seen (network thread)
    Clock::time_point next_expire_{};
    bool logged_connected_ = false;
    std::optional<std::string> logged_reason_;
    std::vector<std::string> wanted_topics_;            // what set_subscriptions() asked for
    IncomingHandler handler_;                           // called for messages on them
    std::set<std::string> subscribed_;                  // what this connection subscribed
    bool subscriptions_stale_ = false;                  // subscribed_ may differ from wanted
    std::unordered_map<int, std::string> subscribing_;  // SUBSCRIBE mid -> topic, until SUBACK
};

// ---- construction ------------------------------------------------------------------------

Publisher::Impl::Impl(const MqttConfig& config, Logger& log, std::size_t capacity)
    : config_(config),
      log_(log),
      brokers_(brokers_of(config)),
      outbox_(capacity),
      endpoint_(endpoint_text(brokers_.front())) {
    if (!config_.buffer.dir.empty()) {
        spool_ = Spool::open(SpoolOptions{.dir = config_.buffer.dir,
                                          .max_bytes = config_.buffer.max_bytes,
                                          .max_age = config_.buffer.max_age,
                                          .on_full = config_.buffer.on_full},
                             log_, &stats_.spool_unavailable);
    }
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
        log_.log(LogLevel::error,
                 std::string("MQTT: cannot create eventfd: ") + std::strerror(errno));
    }
    const char* id = config_.client_id.empty() ? nullptr : config_.client_id.c_str();
    mosq_ = mosquitto_new(id, /*clean_session=*/true, this);
    if (mosq_ == nullptr) {
        log_.log(LogLevel::error,
                 std::string("MQTT: cannot create client: ") + std::strerror(errno));
        return;
    }
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION,
                         config_.protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
    mosquitto_max_inflight_messages_set(mosq_, static_cast<unsigned>(kMaxInFlight));
    // Readings are small and wanted at once: send each without waiting for the previous
    // segment's ACK (Nagle). MOSQ_OPT_TCP_NODELAY, mosquitto_int_option() in mosquitto.h of
    // libmosquitto 2.0.11 (Debian 12).
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
    if (!config_.username.empty()) {
        const char* password = config_.password.empty() ? nullptr : config_.password.c_str();
        mosquitto_username_pw_set(mosq_, config_.username.c_str(), password);
    }
    if (!configure_tls(mosq_, config_.tls, log_)) {  // logged; never fall back to plain TCP
        mosquitto_destroy(mosq_);
        mosq_ = nullptr;
        return;
    }
    const HealthConfig& health = config_.health;
    if (!health.topic.empty()) {
        const int rc =
            mosquitto_will_set(mosq_, health.topic.c_str(), static_cast<int>(health.offline.size()),
                               health.offline.data(), health.qos, health.retain);
        if (rc != MOSQ_ERR_SUCCESS) {
            log_.log(LogLevel::error, "MQTT: cannot set the Last Will on '" + health.topic +
                                          "': " + mosquitto_strerror(rc));
        }
    }
    mosquitto_connect_v5_callback_set(mosq_, &Impl::on_connect);
    mosquitto_disconnect_v5_callback_set(mosq_, &Impl::on_disconnect);
    mosquitto_publish_v5_callback_set(mosq_, &Impl::on_publish);
    mosquitto_message_v5_callback_set(mosq_, &Impl::on_message);
    mosquitto_subscribe_v5_callback_set(mosq_, &Impl::on_subscribe);
}

Publisher::Impl::~Impl() {
    if (mosq_ != nullptr) mosquitto_destroy(mosq_);
    if (wake_fd_ >= 0) close(wake_fd_);
}

// ---- any thread --------------------------------------------------------------------------

void Publisher::Impl::start() {
    std::lock_guard lifecycle(lifecycle_mutex_);
    if (started_ || stopped_ || mosq_ == nullptr || wake_fd_ < 0) return;
    started_ = true;
    thread_ = std::thread([this] { run(); });
    pthread_setname_np(thread_.native_handle(), "mqtt");
}

void Publisher::Impl::publish(std::span<Message> messages) {
    bool accepting = false;
    {
        std::lock_guard lock(mutex_);
        accepting = accepting_;
    }
    // Checked and spooled one by one, then queued under one lock with one wake-up.
    std::size_t rejected = 0;
    std::size_t spooled = 0;
    std::size_t kept = 0;  // messages[0, kept) go to the outbox
    for (Message& message : messages) {
        const bool valid_qos = message.qos >= 0 && message.qos <= 2;
        const bool valid_topic =
            !message.topic.empty() &&
            mosquitto_pub_topic_check2(message.topic.data(), message.topic.size()) ==
                MOSQ_ERR_SUCCESS &&
            mosquitto_validate_utf8(message.topic.data(), static_cast<int>(message.topic.size())) ==
                MOSQ_ERR_SUCCESS;
        const bool valid_size =
            message.payload.size() <= kMaxPayload && message.topic.size() < 65'536;
        if (!valid_qos || !valid_topic || !valid_size) {
            ++rejected;
            log_.log_limited("mqtt-invalid-message", LogLevel::warning,
                             !valid_qos    ? "MQTT: message refused: QoS must be 0, 1 or 2"
                             : !valid_size ? "MQTT: message refused: topic or payload too long"
                                           : "MQTT: message refused: invalid topic",
                             {.topic = message.topic, .event = "mqtt-invalid-message"});
            continue;
        }
        if (accepting && message.qos > 0 && spool_) {
            // The spool has its own lock: appends from several threads stay in call order.
            const Spool::Append appended = spool_->append(message, wall_ms());
            if (appended == Spool::Append::stored) {
                ++spooled;
                continue;
            }
            if (appended == Spool::Append::refused) {  // full with drop_newest: counted
                log_.log_limited("spool-full", LogLevel::warning,
                                 "spool: full (max_bytes); new messages are dropped",
                                 {.topic = message.topic, .event = "spool-full"});
                continue;
            }
            // Append::failed: logged and counted by the spool; keep it in memory instead.
        }
        if (&messages[kept] != &message) messages[kept] = std::move(message);
        ++kept;
    }
    {
        std::lock_guard lock(mutex_);
        stats_.rejected += rejected;
        if (!accepting) {
            stats_.dropped_at_stop += kept;
            return;
        }
        for (std::size_t i = 0; i < kept; ++i) {
            stats_.dropped_queue_full += outbox_.push_back(std::move(messages[i]));
        }
    }
    if (spooled > 0 || kept > 0) wake();
}

void Publisher::Impl::wake() {
    // One write per wake-up, not per message: the network thread clears the flag before it
    // looks at the outbox, so a message pushed after that look always causes a new write.
    if (!wake_pending_.exchange(true) && wake_fd_ >= 0) {
        const std::uint64_t one = 1;
        if (write(wake_fd_, &one, sizeof one) < 0) {
            // EAGAIN means the counter is saturated, i.e. a wake-up is pending anyway.
        }
    }
}

void Publisher::Impl::stop(milliseconds grace) {
    std::lock_guard lifecycle(lifecycle_mutex_);
    if (stopped_) return;
    stopped_ = true;
    {
        std::lock_guard lock(mutex_);
        accepting_ = false;
        stop_requested_ = true;
        stop_deadline_ = Clock::now() + std::max(grace, milliseconds(0));
    }
    if (started_) {
        wake_pending_ = false;  // make sure this wake-up is written
        wake();
        thread_.join();
    } else {
        std::lock_guard lock(mutex_);
        stats_.dropped_at_stop += outbox_.clear();
    }
    if (spool_) spool_->sync();
}

void Publisher::Impl::set_session_hooks(SessionHooks hooks) {
    std::lock_guard lifecycle(lifecycle_mutex_);
    if (started_ || stopped_) return;
    hooks_ = std::move(hooks);
}

void Publisher::Impl::end_session(bool failed_attempt) {
    if (failed_attempt) end_session_failed_ = true;
    end_session_requested_ = true;
    wake();
}

void Publisher::Impl::set_subscriptions(std::vector<std::string> topics, IncomingHandler handler) {
    {
        std::lock_guard lock(mutex_);
        new_subscriptions_.emplace(std::move(topics), std::move(handler));
    }
    subscriptions_changed_ = true;
    wake();
}

PublisherStats Publisher::Impl::stats() const {
    std::lock_guard lock(mutex_);
    PublisherStats copy = stats_;
    copy.queued = outbox_.size() + taken_count_.load(std::memory_order_relaxed);
    if (spool_) {
        const SpoolCounters spool = spool_->counters();
        copy.spooling = true;
        copy.queued += spool.unsent;
        copy.spooled_records = spool.records;
        copy.spooled_bytes = spool.bytes;
        copy.dropped_spool_full = spool.dropped_full;
        copy.dropped_expired = spool.dropped_expired;
        copy.spool_recovered = spool.recovered;
        copy.spool_lost = spool.lost;
        copy.spool_write_errors = spool.write_errors;
    }
    copy.dropped = copy.dropped_queue_full + copy.dropped_spool_full + copy.dropped_expired +
                   copy.dropped_at_stop + copy.dropped_session_end;
    return copy;
}

// ---- callbacks (network thread, inside mosquitto_loop_read/write/misc) ------------------

std::string Publisher::Impl::reason_text(int code) const {
    if (config_.protocol == 5) return mosquitto_reason_string(code);
    return mosquitto_connack_string(code);
}

void Publisher::Impl::on_connect(mosquitto*, void* self, int rc, int, const mosquitto_property*) {
    auto& impl = *static_cast<Impl*>(self);
    if (rc != 0) {
        // Refused (bad credentials, client id, protocol): the drop that follows says only
        // "connection refused", so keep the broker's reason for the log line.
        impl.pending_reason_ = "refused by the broker: " + impl.reason_text(rc);
        return;
    }
    impl.link_ = Link::connected;
    impl.session_up_ = true;
    impl.attempts_before_connect_ = impl.failed_attempts_;
    impl.failed_attempts_ = 0;
    // An end_session() asked of the previous connection does not end this one.
    impl.end_session_requested_ = false;
    impl.end_session_failed_ = false;
    impl.birth_pending_ = true;
    impl.subscriptions_stale_ = true;
    impl.pending_reason_.clear();
    {
        std::lock_guard lock(impl.mutex_);
        impl.stats_.connected = true;
        impl.stats_.broker = impl.endpoint_;
        ++impl.stats_.connects;
    }
    impl.note_state(true, "");
}

void Publisher::Impl::on_disconnect(mosquitto*, void* self, int rc, const mosquitto_property*) {
    const int saved_errno = errno;
    auto& impl = *static_cast<Impl*>(self);
    std::string reason = impl.pending_reason_;
    if (reason.empty()) {
        if (rc >= 0x80) {
            reason = std::string("broker sent DISCONNECT: ") + mosquitto_reason_string(rc);
        } else if (rc == MOSQ_ERR_KEEPALIVE && impl.link_ == Link::connecting) {
            reason = "no CONNACK within the keepalive interval";
        } else if (rc == MOSQ_ERR_SUCCESS) {
            reason = "connection closed";
        } else {
            reason = error_text(rc, saved_errno);
        }
    }
    impl.link_down(std::move(reason));
}

void Publisher::Impl::on_publish(mosquitto*, void* self, int mid, int reason,
                                 const mosquitto_property*) {
    auto& impl = *static_cast<Impl*>(self);
    const auto it = impl.in_flight_.find(mid);
    if (it == impl.in_flight_.end()) return;  // a QoS 0 message written to the socket
    const bool health = it->second.health;
    const auto spool_sequence = it->second.spool_sequence;
    if (health) {
        impl.in_flight_.erase(it);
        return;
    }
    // Acknowledged (or refused for good): the record may leave the spool.
    if (spool_sequence) impl.spool_->acknowledge(*spool_sequence);
    --impl.data_in_flight_;
    // MQTT 5: a PUBACK/PUBREC reason >= 0x80 means the broker refused the message (e.g.
    // not authorized). 0x92 (packet id not found) answers a PUBREL resent after a reconnect
    // to a clean session: the message itself had been received.
    const bool refused = reason >= 0x80 && reason != 0x92;
    if (refused) impl.note_refused(it->second, reason);
    impl.in_flight_.erase(it);
    std::lock_guard lock(impl.mutex_);
    impl.stats_.in_flight = impl.data_in_flight_;
    if (!refused) ++impl.stats_.delivered;
}

void Publisher::Impl::note_refused(const InFlight& message, int reason) {
    {
        std::lock_guard lock(mutex_);
        ++stats_.refused;
        ++stats_.refused_by_rule[message.rule];
    }
    char code[8];
    std::snprintf(code, sizeof code, "0x%02X", static_cast<unsigned>(reason));
    const std::string rule = message.rule.empty() ? "" : " (rule " + message.rule + ")";
    // Rate-limited per rule: one denied topic must not flood the journal, nor hide another.
    log_.log_limited("mqtt-refused:" + message.rule, LogLevel::warning,
                     "MQTT: the broker refused the message on '" + message.topic + "'" + rule +
                         ": " + mosquitto_reason_string(reason) + " (" + code +
                         "); dropped, not retried",
                     {.topic = message.topic, .event = "mqtt-refused"});
}

void Publisher::Impl::on_message(mosquitto*, void* self, const mosquitto_message* message,
                                 const mosquitto_property*) {
    auto& impl = *static_cast<Impl*>(self);
    if (!impl.handler_ || message->topic == nullptr) return;
    const auto* bytes = static_cast<const char*>(message->payload);
    impl.handler_(
        message->topic,
        std::string_view(bytes == nullptr ? "" : bytes,
                         bytes == nullptr ? 0 : static_cast<std::size_t>(message->payloadlen)),
        message->retain);
}

void Publisher::Impl::on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted,
                                   const mosquitto_property*) {
    auto& impl = *static_cast<Impl*>(self);
    const auto it = impl.subscribing_.find(mid);
    if (it == impl.subscribing_.end()) return;
    const std::string topic = std::move(it->second);
    impl.subscribing_.erase(it);
    if (count >= 1 && granted != nullptr && granted[0] >= 0x80) {
        // Rate-limited per topic: a refused discovery filter must not hide a refused command
        // topic.
        impl.log_.log_limited(
            "mqtt-subscribe:" + topic, LogLevel::warning,
            "MQTT: the broker refused the subscription to '" + topic + "' (" +
                (impl.config_.protocol == 5 ? mosquitto_reason_string(granted[0]) : "failure") +
                "); what is published there does not reach this gateway",
            {.topic = topic, .event = "mqtt-subscribe"});
    }
}

// ---- connection state --------------------------------------------------------------------

void Publisher::Impl::link_down(std::string reason) {
    link_ = Link::idle;
    if (session_up_) {
        session_up_ = false;
        if (hooks_.disconnected) hooks_.disconnected();
        drop_session_queue();
    }
    birth_pending_ = false;
    subscribed_.clear();  // a clean session: the next connection subscribes afresh
    subscribing_.clear();
    pending_reason_.clear();
    {
        std::lock_guard lock(mutex_);
        stats_.connected = false;
    }
    if (closing_) return;
    // A connection ended by end_session(true) was a failed attempt: the backoff goes on.
    if (std::exchange(ending_as_failed_, false)) failed_attempts_ = attempts_before_connect_;
    next_attempt_ = Clock::now() + next_retry_delay();
    ++failed_attempts_;
    note_state(false, reason);
    // Fail over: the next attempt goes to the next broker of mqtt.hosts, in order.
    if (brokers_.size() > 1) {
        broker_index_ = (broker_index_ + 1) % brokers_.size();
        endpoint_ = endpoint_text(brokers_[broker_index_]);
    }
}

milliseconds Publisher::Impl::next_retry_delay() {
    const unsigned doublings = std::min(failed_attempts_, 16u);
    const auto ceiling = std::min<milliseconds>(std::max(config_.reconnect_max, kFirstRetryDelay),
                                                kFirstRetryDelay * (1L << doublings));
    // Equal jitter: somewhere in the upper half, so a fleet of gateways does not reconnect
    // in lockstep after a broker restart.
    std::uniform_int_distribution<milliseconds::rep> pick(ceiling.count() / 2, ceiling.count());
    return milliseconds(pick(jitter_));
}

void Publisher::Impl::note_state(bool connected, const std::string& reason) {
    const LogContext context{.event = "mqtt-connection"};
    if (connected) {
        if (!logged_connected_) {
            log_.log_limited("mqtt-connection", LogLevel::notice,
                             "MQTT: connected to " + endpoint_ + " as '" + config_.client_id + "'",
                             context);
        }
        logged_connected_ = true;
        logged_reason_.reset();
        return;
    }
    if (logged_connected_) {
        log_.log_limited(
            "mqtt-connection", LogLevel::warning,
            "MQTT: connection to " + endpoint_ + " lost: " + reason + "; reconnecting with backoff",
            context);
    } else if (logged_reason_ != reason) {
        log_.log_limited(
            "mqtt-connection", LogLevel::warning,
            "MQTT: cannot connect to " + endpoint_ + ": " + reason + "; retrying with backoff",
            context);
    }
    logged_connected_ = false;
    logged_reason_ = reason;
}

void Publisher::Impl::start_attempt(Clock::time_point now) {
    pending_reason_.clear();
    if (hooks_.will) {
        will_ = hooks_.will();
        const int rc =
            mosquitto_will_set(mosq_, will_->topic.c_str(), static_cast<int>(will_->payload.size()),
                               will_->payload.data(), will_->qos, will_->retain);
        if (rc != MOSQ_ERR_SUCCESS) {
            log_.log_limited("mqtt-will", LogLevel::error,
                             "MQTT: cannot set the Last Will on '" + will_->topic +
                                 "': " + mosquitto_strerror(rc),
                             {.topic = will_->topic, .event = "mqtt-will"});
        }
    }
    const BrokerAddress& broker = brokers_[broker_index_];
    const int rc = mosquitto_connect_async(mosq_, broker.host.c_str(), broker.port,
                                           keepalive_seconds(config_.keepalive));
    const int saved_errno = errno;
    if (rc == MOSQ_ERR_SUCCESS) {
        link_ = Link::connecting;
        connect_deadline_ = now + kConnectTimeout;
        return;
    }
    link_down(error_text(rc, saved_errno));
}

// ---- handing messages over ---------------------------------------------------------------

void Publisher::Impl::publish_health(const std::string& payload) {
    const HealthConfig& health = config_.health;
    if (health.topic.empty()) return;
    int mid = 0;
    const int rc =
        mosquitto_publish(mosq_, &mid, health.topic.c_str(), static_cast<int>(payload.size()),
                          payload.data(), health.qos, health.retain);
    if (health.qos > 0 && !is_refusal(rc)) {
        in_flight_[mid] = InFlight{.health = true};
    } else if (rc != MOSQ_ERR_SUCCESS) {
        log_.log_limited("mqtt-health", LogLevel::warning,
                         "MQTT: cannot publish health message on '" + health.topic +
                             "': " + mosquitto_strerror(rc),
                         {.topic = health.topic, .event = "mqtt-health"});
    }
}

int Publisher::Impl::publish_first(const Message& message) {
    int mid = 0;
    const int rc = mosquitto_publish(mosq_, &mid, message.topic.c_str(),
                                     static_cast<int>(message.payload.size()),
                                     message.payload.data(), message.qos, message.retain);
    if (message.qos > 0 && !is_refusal(rc)) {
        in_flight_[mid] = InFlight{.health = true};
    } else if (rc != MOSQ_ERR_SUCCESS) {
        log_.log_limited(
            "mqtt-session", LogLevel::warning,
            "MQTT: cannot publish on '" + message.topic + "': " + mosquitto_strerror(rc),
            {.topic = message.topic, .event = "mqtt-session"});
        return 0;
    }
    std::lock_guard lock(mutex_);
    ++stats_.published;
    return mid;
}

void Publisher::Impl::disconnect_leaving_will() {
    if (will_) {
        if (config_.protocol == 5) {
            // MQTT 5: reason 0x04 "Disconnect with Will Message": the broker sends the Will.
            mosquitto_disconnect_v5(mosq_, 0x04, nullptr);
            return;
        }
        // MQTT 3.1.1: the Will, published (QoS 1) before DISCONNECT. DISCONNECT waits for its
        // PUBACK: a PUBACK arriving after DISCONNECT makes the close a reset, and a broker
        // that reads the reset before the DISCONNECT sends the Will a second time; and an
        // unacknowledged Will would be sent again by libmosquitto on the next connection.
        const int mid = publish_first(*will_);
        const auto deadline = Clock::now() + kLeaveTimeout;
        while (in_flight_.contains(mid) && link_ == Link::connected && Clock::now() < deadline) {
            poll_once(milliseconds(50));
        }
        if (link_ != Link::connected) return;
    }
    mosquitto_disconnect(mosq_);
}

std::optional<Message> Publisher::Impl::take_next(std::optional<std::uint64_t>& spool_sequence) {
    // Alternate between the two sources so neither starves the other; within each, oldest
    // first.
    for (int turn = 0; turn < 2; ++turn) {
        const bool from_spool = prefer_spool_ != (turn == 1);
        if (from_spool) {
            if (!spool_) continue;
            if (auto record = spool_->next(wall_ms())) {
                prefer_spool_ = false;
                spool_sequence = record->sequence;
                return std::move(record->message);
            }
        } else {
            if (taken_.empty()) {
                std::lock_guard lock(mutex_);
                outbox_.take(kTakeBatch, taken_);
            }
            if (!taken_.empty()) {
                Message message = std::move(taken_.front());
                taken_.pop_front();
                taken_count_.store(taken_.size(), std::memory_order_relaxed);
                prefer_spool_ = true;
                return message;
            }
        }
    }
    return std::nullopt;
}

void Publisher::Impl::drain() {
    DrainCork cork(mosq_);
    while (link_ == Link::connected && in_flight_.size() < kMaxInFlight) {
        // Unsent bytes pending in the client mean the socket is full: wait for POLLOUT
        // rather than pile messages up inside libmosquitto.
        if (mosquitto_want_write(mosq_)) return;
        std::optional<std::uint64_t> spool_sequence;
        std::optional<Message> message = take_next(spool_sequence);
        if (!message) return;
        cork.before_message(!taken_.empty());
        int mid = 0;
        const int rc = mosquitto_publish(mosq_, &mid, message->topic.c_str(),
                                         static_cast<int>(message->payload.size()),
                                         message->payload.data(), message->qos, message->retain);
        const int saved_errno = errno;
        if (is_refusal(rc)) {
            if (spool_sequence) spool_->acknowledge(*spool_sequence);  // it never will pass
            {
                std::lock_guard lock(mutex_);
                ++stats_.rejected;
            }
            log_.log_limited("mqtt-refused", LogLevel::warning,
                             std::string("MQTT: message refused by the client library: ") +
                                 mosquitto_strerror(rc),
                             {.topic = message->topic, .event = "mqtt-refused"});
            continue;
        }
        if (message->qos > 0) {
            // Accepted by libmosquitto, which resends it after a reconnect if need be, even
            // when rc reports the connection gone.
            in_flight_[mid] = InFlight{.spool_sequence = spool_sequence,
                                       .topic = std::move(message->topic),
                                       .rule = std::move(message->rule)};
            ++data_in_flight_;
            std::lock_guard lock(mutex_);
            ++stats_.published;
            stats_.in_flight = data_in_flight_;
            continue;
        }
        if (rc == MOSQ_ERR_SUCCESS) {
            std::lock_guard lock(mutex_);
            ++stats_.published;
            continue;
        }
        // A QoS 0 message the library could not send: keep it for the next connection.
        taken_.push_front(std::move(*message));
        taken_count_.store(taken_.size(), std::memory_order_relaxed);
        log_.log_limited("mqtt-send", LogLevel::info,
                         "MQTT: send failed: " + error_text(rc, saved_errno),
                         {.event = "mqtt-send"});
        return;
    }
}

void Publisher::Impl::sync_subscriptions() {
    if (subscriptions_changed_.exchange(false)) {
        std::lock_guard lock(mutex_);
        if (new_subscriptions_) {
            wanted_topics_ = std::move(new_subscriptions_->first);
            handler_ = std::move(new_subscriptions_->second);
            new_subscriptions_.reset();
            subscriptions_stale_ = true;
        }
    }
    if (!subscriptions_stale_) return;
    subscriptions_stale_ = false;
    const std::set<std::string> wanted(wanted_topics_.begin(), wanted_topics_.end());
    for (auto it = subscribed_.begin(); it != subscribed_.end();) {
        if (wanted.contains(*it)) {
            ++it;
            continue;
        }
        mosquitto_unsubscribe(mosq_, nullptr, it->c_str());
        it = subscribed_.erase(it);
    }
    for (const std::string& topic : wanted) {
        if (subscribed_.contains(topic)) continue;
        int mid = 0;
        // MQTT 5's "retain as published" (3.8.3.1 of the MQTT 5.0 standard) keeps the retain
        // flag a message was published with, so a retained command is told apart even when it
        // arrives live; MQTT 3.1.1 clears the flag on live delivery (3.3.1.3) and has no such
        // option.
        const int options = config_.protocol == 5 ? MQTT_SUB_OPT_RETAIN_AS_PUBLISHED : 0;
        const int rc = mosquitto_subscribe_v5(mosq_, &mid, topic.c_str(), 1, options, nullptr);
        if (rc == MOSQ_ERR_SUCCESS) {
            subscribing_[mid] = topic;
        } else {
            log_.log_limited("mqtt-subscribe", LogLevel::warning,
                             "MQTT: cannot subscribe to '" + topic + "': " + mosquitto_strerror(rc),
                             {.topic = topic, .event = "mqtt-subscribe"});
        }
        // Marked either way: a topic the client library refuses would be refused again.
        subscribed_.insert(topic);
    }
}

void Publisher::Impl::spool_upkeep(Clock::time_point now) {
    if (!spool_) return;
    if (now >= next_sync_) {
        if (spool_->needs_sync()) spool_->sync();
        next_sync_ = now + kSpoolSyncInterval;
        if (std::string problem = spool_->problem(); problem != spool_problem_) {
            spool_problem_changed(std::move(problem));
        }
    }
    if (now >= next_expire_) {
        spool_->expire(wall_ms());
        next_expire_ = now + milliseconds(1000);
    }
}

// A spool directory that stops (or starts again) taking writes while running is said as
// loudly as one unusable at start: an error line with the remedy, the stats, the health topic.
void Publisher::Impl::spool_problem_changed(std::string problem) {
    const bool was_degraded = !spool_problem_.empty();
    spool_problem_ = std::move(problem);
    {
        std::lock_guard lock(mutex_);
        stats_.spool_problem = spool_problem_;
    }
    const bool degraded = !spool_problem_.empty();
    if (degraded == was_degraded) return;  // only the reason changed
    if (degraded) {
        log_.log(LogLevel::error,
                 "spool: " + spool_problem_ +
                     ". QoS 1/2 messages go on into the open segment until it is full, then are "
                     "kept in memory only and lost if the daemon stops; acknowledgements are not "
                     "recorded, so a restart may send messages again. Fix: " +
                     spool_remedy(config_.buffer.dir) + "; the spool is used again by itself",
                 {.event = "spool-degraded"});
    } else {
        log_.log(LogLevel::notice,
                 "spool: '" + config_.buffer.dir +
                     "' can be written again; QoS 1/2 messages are kept on disk again",
                 {.event = "spool-recovered"});
    }
    if (link_ == Link::connected && !birth_pending_ && !config_.health.degraded.empty()) {
        publish_health(health_payload());
    }
}

// What the health topic says while connected: `degraded` (when set) while a configured spool
// cannot be used or written, else `online`.
const std::string& Publisher::Impl::health_payload() const {
    const bool spool_failing =
        (spool_ == nullptr && !config_.buffer.dir.empty()) || !spool_problem_.empty();
    return spool_failing && !config_.health.degraded.empty() ? config_.health.degraded
                                                             : config_.health.online;
}

// ---- the loop ----------------------------------------------------------------------------

void Publisher::Impl::poll_once(milliseconds timeout) {
    pollfd fds[2] = {{.fd = wake_fd_, .events = POLLIN, .revents = 0}, {}};
    nfds_t count = 1;
    const int sock = mosquitto_socket(mosq_);
    if (sock >= 0) {
        const short events = POLLIN | (mosquitto_want_write(mosq_) ? POLLOUT : 0);
        fds[1] = {.fd = sock, .events = events, .revents = 0};
        count = 2;
    }
    const int ready = poll(fds, count, static_cast<int>(std::max<long long>(timeout.count(), 0)));
    if (ready > 0 && (fds[0].revents & POLLIN)) {
        std::uint64_t ignored = 0;
        if (read(wake_fd_, &ignored, sizeof ignored) < 0) {
            // EAGAIN: another read already consumed it.
        }
        wake_pending_ = false;
    }
    if (ready > 0 && count == 2) {
        if (fds[1].revents & (POLLIN | POLLERR | POLLHUP)) {
            mosquitto_loop_read(mosq_, 1);
        }
        if ((fds[1].revents & POLLOUT) && mosquitto_socket(mosq_) >= 0) {
            mosquitto_loop_write(mosq_, 1);
        }
    }
    if (mosquitto_socket(mosq_) >= 0) mosquitto_loop_misc(mosq_);  // keepalive
}

void Publisher::Impl::run() {
    bool stopping = false;
    bool offline_sent = false;
    Clock::time_point deadline{};
    for (;;) {
        const auto now = Clock::now();
        if (!stopping) {
            std::lock_guard lock(mutex_);
            if (stop_requested_) {
                stopping = true;
                deadline = stop_deadline_;
            }
        }
        // Safety net: a socket closed without a disconnect callback.
        if (link_ != Link::idle && mosquitto_socket(mosq_) < 0) {
            link_down(pending_reason_.empty() ? "connection closed" : pending_reason_);
        }
        if (link_ == Link::connected) {
            if (birth_pending_) {
                birth_pending_ = false;
                drop_session_queue();  // anything queued before this connection is not its own
                if (!stopping && hooks_.connected) {
                    for (const Message& message : hooks_.connected()) publish_first(message);
                }
                if (!stopping) publish_health(health_payload());
            }
            if (end_session_requested_.exchange(false) && !stopping) {
                ending_as_failed_ = end_session_failed_.exchange(false);
                log_.log(LogLevel::notice, "MQTT: ending the session with " + endpoint_,
                         {.event = "mqtt-connection"});
                drain();  // what was published during this connection leaves before its Will
                disconnect_leaving_will();
            }
            if (!stopping) sync_subscriptions();
            drain();
        }
        spool_upkeep(now);
        if (stopping) {
            bool outbox_empty = taken_.empty();
            {
                std::lock_guard lock(mutex_);
                outbox_empty = outbox_empty && outbox_.empty();
            }
            if (spool_ && spool_->counters().unsent > 0) outbox_empty = false;
            if (link_ == Link::connected && !offline_sent && (outbox_empty || now >= deadline)) {
                publish_health(config_.health.offline);
                offline_sent = true;
            }
            const bool written = link_ != Link::connected || !mosquitto_want_write(mosq_);
            const bool settled = in_flight_.empty() && written;
            // Done when the offline message went out and everything was acknowledged, or when
            // there is no connection and nothing left to deliver (the broker has already sent
            // the Will for a connection that dropped), or when the grace is spent.
            if (settled && (offline_sent || (link_ != Link::connected && outbox_empty))) break;
            if (now >= deadline) break;
        }
        if (link_ == Link::idle && now >= next_attempt_) {
            start_attempt(now);
        } else if (link_ == Link::connecting && now >= connect_deadline_) {
            pending_reason_ =
                "no CONNACK within " + std::to_string(kConnectTimeout.count() / 1000) + " s";
            shutdown(mosquitto_socket(mosq_), SHUT_RDWR);  // the read that follows fails
        }
        auto timeout = milliseconds(1000);
        const auto until = [&](Clock::time_point when) {
            timeout = std::min(timeout, std::chrono::ceil<milliseconds>(when - Clock::now()));
        };
        if (link_ == Link::idle) until(next_attempt_);
        if (link_ == Link::connecting) until(connect_deadline_);
        if (stopping) until(deadline);
        if (spool_) until(next_sync_);
        poll_once(timeout);
    }
    close_session();
}

void Publisher::Impl::drop_session_queue() {
    if (!hooks_.session_scoped) return;
    std::size_t dropped = taken_.size();
    taken_.clear();
    taken_count_.store(0, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    dropped += outbox_.clear();
    stats_.dropped_session_end += dropped;
}

void Publisher::Impl::close_session() {
    closing_ = true;
    if (link_ == Link::connected) {
        // A normal DISCONNECT: the broker discards the Will (unless the hooks' Will is to be
        // delivered). Anything queued in the client, such as the offline message, is
        // written before it.
        disconnect_leaving_will();
        const auto flush_deadline = Clock::now() + milliseconds(1000);
        while (mosquitto_socket(mosq_) >= 0 && Clock::now() < flush_deadline) {
            poll_once(milliseconds(50));
        }
        log_.log(LogLevel::notice, "MQTT: disconnected from " + endpoint_,
                 {.event = "mqtt-connection"});
    }
    link_ = Link::idle;
    std::size_t left = taken_.size();
    taken_.clear();
    taken_count_.store(0, std::memory_order_relaxed);
    {
        std::lock_guard lock(mutex_);
        left += outbox_.clear();
        stats_.dropped_at_stop += left;
        stats_.connected = false;
    }
    if (spool_) {
        spool_->sync();
        const auto kept = spool_->counters().records;
        if (kept > 0) {
            log_.log(LogLevel::notice,
                     "MQTT: " + std::to_string(kept) +
                         " unacknowledged QoS 1/2 messages stay in the spool " + spool_->dir() +
                         " for the next start",
                     {.event = "mqtt-undelivered"});
        }
        if (left > 0) {
            log_.log(LogLevel::warning,
                     "MQTT: stopping with " + std::to_string(left) +
                         " queued QoS 0 messages not delivered",
                     {.event = "mqtt-undelivered"});
        }
    } else if (left > 0 || data_in_flight_ > 0) {
        log_.log(LogLevel::warning,
                 "MQTT: stopping with " + std::to_string(left) + " queued and " +
                     std::to_string(data_in_flight_) + " unacknowledged messages not delivered",
                 {.event = "mqtt-undelivered"});
    }
}

// ---- Publisher ---------------------------------------------------------------------------

Publisher::Publisher(const MqttConfig& config, Logger& log, std::size_t queue_capacity)
    : impl_(std::make_unique<Impl>(config, log, queue_capacity)) {}

Publisher::~Publisher() { impl_->stop(kDestructorGrace); }

void Publisher::start() { impl_->start(); }

void Publisher::publish(Message message) { impl_->publish(std::span<Message>(&message, 1)); }

void Publisher::publish(std::span<Message> messages) { impl_->publish(messages); }

void Publisher::stop(std::chrono::milliseconds grace) { impl_->stop(grace); }

PublisherStats Publisher::stats() const { return impl_->stats(); }

void Publisher::set_subscriptions(std::vector<std::string> topics, IncomingHandler handler) {
    impl_->set_subscriptions(std::move(topics), std::move(handler));
}

void Publisher::set_session_hooks(SessionHooks hooks) {
    impl_->set_session_hooks(std::move(hooks));
}

void Publisher::end_session(bool failed_attempt) { impl_->end_session(failed_attempt); }

}  // namespace nodebridge
