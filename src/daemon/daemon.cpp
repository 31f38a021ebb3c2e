#include "daemon.hpp"

#include <malloc.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <utility>

#include "discovery.hpp"
#include "node_table.hpp"
#include "nodebridge/command.hpp"
#include "nodebridge/mapping.hpp"
#include "nodebridge/publisher.hpp"
#include "nodebridge/version.hpp"
#include "options.hpp"
#include "pipeline.hpp"
#include "server.hpp"
#include "sparkplug_link.hpp"
#include "stats.hpp"
#include "systemd/notifier.hpp"
#include "write_back.hpp"

namespace nodebridge {

namespace {

// Samples waiting between the sources and the mapping thread. Far more than a healthy
// pipeline ever holds; when sources outrun the mapping the oldest samples are dropped
// and counted (samples_dropped on the stats topic).
constexpr std::size_t kSampleQueueCapacity = 100'000;
constexpr Millis kStatusInterval{5000};
constexpr Millis kShutdownGrace{5000};
// How often the HTTP endpoint's View is renewed (and at least whenever stats are published).
constexpr Millis kHttpViewInterval{1000};

// Hands every sample to each of several observers (Sparkplug, Home Assistant discovery).
class SampleObservers final : public SampleObserver {
  public:
    void add(SampleObserver* observer) { list_.push_back(observer); }
    void observe(const Sample& sample, SteadyClock::time_point now) override {
        for (SampleObserver* observer : list_) observer->observe(sample, now);
    }
    void tick(SteadyClock::time_point now) override {
        for (SampleObserver* observer : list_) observer->tick(now);
    }
    SteadyClock::time_point next_due() const override {
        auto due = SteadyClock::time_point::max();
        for (const SampleObserver* observer : list_) due = std::min(due, observer->next_due());
        return due;
    }

  private:
    std::vector<SampleObserver*> list_;
};

}  // namespace

sigset_t daemon_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

// A running source. The daemon keeps them in the order of config.sources, so sources[i] was
// built from config.sources[i] and a reload can tell whether it changed without a copy of the
// settings (thousands of endpoints' nodes).
struct RunningSource {
    std::unique_ptr<Source> source;
};

struct Daemon::Impl {
    Impl(Config config_in, std::string path, Logger& log_in, LoadOptions load_options_in)
        : config(std::move(config_in)),
          config_path(std::move(path)),
          load_options(std::move(load_options_in)),
          log(log_in),
          discovery(config, log),
          samples(kSampleQueueCapacity),
          write_back(log, [this](Message&& message) { publish(std::move(message)); }),
          commands(std::make_shared<const CommandRouter>(config)),
          publisher(std::make_unique<Publisher>(config.mqtt, log)),
          pipeline(Mapper(config.gateway, config.mappings, StateNames(config)), samples,
                   [this](std::span<Message> batch) { publish(batch); }) {}

    Config config;
    std::string config_path;
    LoadOptions load_options;  // the model dirs, read again on every reload
    Logger& log;
    Discovery discovery;                   // Home Assistant discovery (docs/homeassistant.md)
    bool discovery_fresh_session = false;  // the publisher was replaced: its connects restart
    SampleObservers observers;             // what the pipeline shows every sample to
    SampleQueue samples;
    // Declared before the sources: their pending writes answer through it when they stop.
    WriteBack write_back;
    std::shared_ptr<const CommandRouter> commands;  // the command topics of `config`
    // Replaced by a reload that changes the mqtt section. While the old one stops it is
    // null and messages wait in `held` (bounded like the sample queue), so that nobody
    // waits on the mutex for a stop: the old publisher's own thread may be publishing a
    // command result.
    mutable std::mutex publisher_mutex;
    std::unique_ptr<Publisher> publisher;
    std::vector<Message> held;
    std::uint64_t held_dropped = 0;
    Pipeline pipeline;
    // The one I/O thread of every Modbus TCP source; declared before them, so it outlives them.
    IoLoop modbus_tcp{"modbus-tcp"};
    TurnSamples modbus_tcp_samples{modbus_tcp, samples};  // their samples, one hand-off a turn
    std::vector<RunningSource> sources;
    systemd::Notifier notifier;
    SteadyClock::time_point started = SteadyClock::now();
    std::optional<StatsSnapshot> last_stats;  // totals only (without_sources), for rates
    std::optional<StatsSnapshot> last_status;
    // ---- Sparkplug B edge node (docs/sparkplug.md): null unless `sparkplug:` is set ----
    std::unique_ptr<SparkplugLink> sparkplug = make_sparkplug();

    std::unique_ptr<SparkplugLink> make_sparkplug() {
        if (!config.sparkplug) return nullptr;
        // Its own MQTT session (and Will, the NDEATH), beside the main one's health Will.
        return std::make_unique<SparkplugLink>(
            config, log, [this](WriteCommand&& command) { write_back.submit(std::move(command)); },
            [this] { return sparkplug_metrics(); });
    }

    // The gateway's own metrics in NBIRTH/NDATA; never takes publisher_mutex.
    sparkplug::NodeMetrics sparkplug_metrics() const {
        const CommandStats commands = write_back.stats();
        return {.version = kVersion,
                .counters = {{"samples", pipeline.samples_mapped()},
                             {"messages", pipeline.messages_out()},
                             {"samples_dropped", samples.dropped()},
                             {"commands_written", commands.written},
                             {"commands_rejected", commands.rejected}}};
    }
    // ---- end Sparkplug ----
    int exit_code = 0;  // set when the daemon must stop on its own (mqtt.buffer.required)

    // ---- HTTP endpoint (docs/http.md): null unless `http:` was set at start ----
    // The mapping thread's table of nodes, and the server that shows it with the counters.
    std::unique_ptr<http::NodeTable> node_table =
        config.http ? std::make_unique<http::NodeTable>(config.http->history) : nullptr;
    std::unique_ptr<http::Server> http_server;
    // Each Modbus node's configured poll interval, for /metrics; renewed with the config.
    std::shared_ptr<const http::PollIntervals> poll_intervals = poll_intervals_of(config);

    // Every Modbus node's poll interval, for the HTTP endpoint's lateness figures; none without
    // `http:`, so thousands of nodes cost nothing there.
    static std::shared_ptr<const http::PollIntervals> poll_intervals_of(const Config& config) {
        if (!config.http) return nullptr;
        auto out = std::make_shared<http::PollIntervals>();
        for (const SourceConfig& source : config.sources) {
            if (const auto* modbus = std::get_if<ModbusSourceConfig>(&source.settings)) {
                for (const ModbusNode& node : modbus->nodes) {
                    (*out)[source.name + '\0' + node.id] =
                        std::chrono::duration<double>(node.poll).count();
                }
            }
        }
        return out;
    }

    void start_http() {
        if (!config.http || !node_table) return;
        http::NodeTable* table = node_table.get();
        auto server = std::make_unique<http::Server>(
            *config.http, log, [table](const std::string& source, const std::string& node) {
                return table->history(source, node);
            });
        const std::string error = server->start();
        if (!error.empty()) {
            // The readings go on: the endpoint only shows them. Said loudly, once.
            log.log(LogLevel::error, "http: " + error + "; the status page and /metrics are off",
                    {.event = "http-failed"});
            return;
        }
        log.log(LogLevel::notice,
                "http: listening on " +
                    (config.http->address.find(':') != std::string::npos
                         ? "[" + config.http->address + "]"
                         : config.http->address) +
                    ":" + std::to_string(server->port()),
                {.event = "http"});
        http_server = std::move(server);
    }

    void stop_http() {
        if (http_server) http_server->stop();
        http_server.reset();
    }

    // Hands the endpoint a View made of `snap` and the node table's latest snapshot.
    void publish_view(const StatsSnapshot& snap) {
        if (!http_server) return;
        auto view = std::make_shared<http::View>();
        view->gateway = config.gateway;
        view->stats = snap;
        view->spool_state = spool_state(snap.publisher);
        view->nodes = node_table->snapshot();
        view->polls = poll_intervals;
        http_server->publish(std::move(view));
    }
    // ---- end HTTP ----

    // mqtt.buffer.required: false, after logging why, when the spool is required and the
    // publisher could not open it. Caller holds publisher_mutex or is alone.
    bool spool_as_required(const MqttConfig& mqtt) const {
        if (!mqtt.buffer.required) return true;
        const std::string why = publisher->stats().spool_unavailable;
        if (why.empty()) return true;
        log.log(LogLevel::error,
                "spool: " + why +
                    "; mqtt.buffer.required is true, so nodebridged stops rather than keep "
                    "QoS 1/2 messages in memory only (see docs/operations.md)",
                {.event = "spool-required"});
        return false;
    }

    void publish(Message&& message) { publish(std::span<Message>(&message, 1)); }

    // Hands `batch` to the publisher in one call, or holds it while the publisher is
    // being replaced.
    void publish(std::span<Message> batch) {
        std::lock_guard lock(publisher_mutex);
        if (publisher) {
            publisher->publish(batch);
            return;
        }
        for (Message& message : batch) {
            if (held.size() < kSampleQueueCapacity) {
                held.push_back(std::move(message));
            } else {
                ++held_dropped;
            }
        }
    }

    RunningSource start_source(const SourceConfig& source_config) {
        RunningSource running{make_source(source_config, samples, log, modbus_tcp_samples)};
        running.source->start();
        return running;
    }

    void start_sources() {
        for (const SourceConfig& source_config : config.sources) {
            sources.push_back(start_source(source_config));
        }
        offer_sources_to_write_back();
    }

    void stop_sources() {
        write_back.set_sources({});
        for (auto& running : sources) running.source->stop();
        sources.clear();
    }

    void offer_sources_to_write_back() {
        std::vector<Source*> running;
        for (const auto& source : sources) running.push_back(source.source.get());
        write_back.set_sources(running);
    }

    // The command topics and Home Assistant's status topic (Sparkplug's NCMD, DCMD and
    // STATE are its own session's). Caller holds publisher_mutex.
    void subscribe_commands() {
        std::vector<std::string> topics = commands->topics();
        Publisher::IncomingHandler handler = write_back.handler(commands);
        discovery.wrap(topics, handler);  // Home Assistant's status and config topics
        publisher->set_subscriptions(std::move(topics), std::move(handler));
    }

    // Publishes the discovery messages due now (paced: Discovery::kBatch at a time).
    void publish_discovery() {
        PublisherStats stats;
        {
            std::lock_guard lock(publisher_mutex);
            if (!publisher) return;
            stats = publisher->stats();
        }
        const bool fresh = std::exchange(discovery_fresh_session, false);
        for (Message& message : discovery.due(stats.connected, stats.connects, fresh)) {
            publish(std::move(message));
        }
    }

    // What is kept of a snapshot for the next one's rates: the totals, not the thousands of
    // sources' figures.
    static StatsSnapshot without_sources(StatsSnapshot snap) {
        snap.sources = {};
        return snap;
    }

    StatsSnapshot snapshot() const {
        StatsSnapshot snap;
        snap.taken = SteadyClock::now();
        snap.uptime_seconds = std::chrono::duration<double>(snap.taken - started).count();
        snap.samples = pipeline.samples_mapped();
        snap.messages = pipeline.messages_out();
        snap.samples_dropped = samples.dropped();
        snap.unknown_states = pipeline.unknown_states();
        snap.commands = write_back.stats();
        if (sparkplug) snap.sparkplug = sparkplug->stats();
        snap.queue_depth = samples.size();
        {
            std::lock_guard lock(publisher_mutex);
            if (publisher) snap.publisher = publisher->stats();
        }
        snap.sources.reserve(sources.size());
        for (const auto& running : sources) {
            snap.sources.emplace_back(running.source->name(), running.source->stats());
        }
        return snap;
    }

    void publish_stats(StatsSnapshot snap) {
        publish(Message{config.stats.topic, stats_json(snap, last_stats ? &*last_stats : nullptr),
                        0, true});
        last_stats = without_sources(std::move(snap));
        if (sparkplug) sparkplug->publish_node_data();
    }

    void update_status() {
        StatsSnapshot snap = snapshot();
        notifier.status(status_line(snap, last_status ? &*last_status : nullptr));
        last_status = without_sources(std::move(snap));
    }

    // Pings the watchdog only while the mapping thread is going round its loop.
    void feed_watchdog() {
        const auto interval = notifier.watchdog_interval();
        if (!interval) return;
        if (SteadyClock::now() - pipeline.last_alive() < *interval) notifier.watchdog();
    }

    // SIGHUP: re-reads the config. An invalid one is reported and changes nothing. A valid
    // one is applied in place: only sources whose settings changed are restarted, the
    // rules are swapped only when they changed, and the MQTT session is kept unless the
    // mqtt section changed.
    void reload() {
        notifier.reloading();
        log.log(LogLevel::notice, "SIGHUP: reloading " + config_path, {.event = "reload"});
        LoadResult loaded = load_config(config_path, load_options);
        if (!loaded.errors.empty()) {
            for (const ConfigError& error : loaded.errors) {
                log.log(LogLevel::error, error.to_string(), {.event = "config-error"});
            }
            log.log(LogLevel::error,
                    "reload refused: " + std::to_string(loaded.errors.size()) +
                        " configuration errors; still running the previous configuration",
                    {.event = "reload-failed"});
            notifier.ready();
            return;
        }
        Config next = std::move(*loaded.config);
        malloc_trim(0);  // as at start: return the YAML tree's heap

        const bool mqtt_changed = next.mqtt != config.mqtt;
        auto next_commands = std::make_shared<const CommandRouter>(next);
        const bool commands_changed = next_commands->targets() != commands->targets();
        // Discovery's handler is renewed on every reload while it is (or was) on: it knows
        // the plan's gateway and serial-nodes sources (homeassistant::OwnConfigs).
        const bool discovery_involved =
            next.homeassistant.has_value() || config.homeassistant.has_value();
        discovery.reload(next);
        if (commands_changed) commands = std::move(next_commands);
        if (mqtt_changed) {
            // The old session says goodbye (offline) and closes the spool before the new
            // one opens it and is born (online); messages made meanwhile are held.
            std::unique_ptr<Publisher> old;
            {
                std::lock_guard lock(publisher_mutex);
                old = std::move(publisher);
            }
            if (sparkplug) sparkplug->stop(kShutdownGrace);  // NDEATH; readings are held
            old->stop(kShutdownGrace);
            old.reset();
            auto fresh = std::make_unique<Publisher>(next.mqtt, log);
            std::lock_guard lock(publisher_mutex);
            publisher = std::move(fresh);
            discovery_fresh_session = true;
            if (!spool_as_required(next.mqtt)) {
                exit_code = kExitConfig;
                return;
            }
            subscribe_commands();
            publisher->start();
            if (sparkplug) sparkplug->start(next.mqtt);
            publisher->publish(held);
            held.clear();
            if (held_dropped > 0) {
                log.log(LogLevel::warning,
                        "reload: " + std::to_string(held_dropped) +
                            " messages dropped while the MQTT session was replaced",
                        {.event = "reload"});
                held_dropped = 0;
            }
        } else if (commands_changed || discovery_involved) {
            std::lock_guard lock(publisher_mutex);
            subscribe_commands();
        }

        // Stop what changed or went away first, so a changed source's bus is free again.
        write_back.set_sources({});  // no command reaches a source while they change
        std::vector<RunningSource> previous = std::move(sources);
        sources.clear();
        std::size_t kept = 0;
        std::vector<std::optional<RunningSource>> reused(next.sources.size());
        for (std::size_t i = 0; i < next.sources.size(); ++i) {
            for (std::size_t j = 0; j < previous.size(); ++j) {
                RunningSource& old = previous[j];
                if (old.source && config.sources[j] == next.sources[i]) {
                    reused[i] = std::move(old);
                    ++kept;
                    break;
                }
            }
        }
        for (auto& old : previous) {
            if (old.source) old.source->stop();
        }
        for (std::size_t i = 0; i < next.sources.size(); ++i) {
            sources.push_back(reused[i] ? std::move(*reused[i]) : start_source(next.sources[i]));
        }
        offer_sources_to_write_back();

        StateNames next_states(next);
        const bool rules_changed = next.mappings != config.mappings ||
                                   next.gateway != config.gateway ||
                                   next_states != StateNames(config);
        if (rules_changed) {
            pipeline.replace_mapper(Mapper(next.gateway, next.mappings, std::move(next_states)));
        }

        log.log(LogLevel::notice,
                "reloaded: " + std::to_string(sources.size() - kept) + " sources (re)started, " +
                    std::to_string(kept) + " kept; rules " +
                    (rules_changed ? "replaced" : "unchanged") + "; MQTT session " +
                    (mqtt_changed ? "reconnected" : "kept"),
                {.event = "reload"});
        const bool http_changed = next.http != config.http;
        config = std::move(next);
        poll_intervals = poll_intervals_of(config);
        if (http_changed) {
            stop_http();
            if (config.http && !node_table) {
                log.log(LogLevel::notice,
                        "reload: the http section takes effect at the next restart",
                        {.event = "reload"});
            }
            start_http();
            publish_view(snapshot());  // a new server answers at once, not 503 for a second
        }
        notifier.ready();
    }
};

Daemon::Daemon(Config config, std::string config_path, Logger& log, LoadOptions load_options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(config_path), log,
                                   std::move(load_options))) {}

Daemon::~Daemon() = default;

int Daemon::run() {
    Impl& d = *impl_;
    const sigset_t signals = daemon_signals();

    if (!d.spool_as_required(d.config.mqtt)) return kExitConfig;
    d.subscribe_commands();
    d.publisher->start();
    if (d.sparkplug) d.sparkplug->start(d.config.mqtt);
    // Sparkplug and Home Assistant discovery both look at every sample.
    if (d.sparkplug) d.observers.add(d.sparkplug.get());
    d.observers.add(&d.discovery);
    if (d.node_table) d.observers.add(d.node_table.get());
    d.pipeline.set_observer(&d.observers);
    d.pipeline.start();
    d.modbus_tcp.start();
    d.start_http();
    d.start_sources();
    d.log.log(LogLevel::notice,
              "started: " + std::to_string(d.config.sources.size()) + " sources, " +
                  std::to_string(d.config.mappings.size()) + " rules, broker " +
                  d.config.mqtt.host + ":" + std::to_string(d.config.mqtt.port),
              {.event = "start"});
    d.notifier.ready();

    auto next_status = SteadyClock::now();
    auto next_stats = SteadyClock::now() + std::chrono::seconds(1);
    auto next_view = SteadyClock::now();
    // Wake at least twice per watchdog interval, and every second for status and stats.
    Millis tick{1000};
    if (const auto watchdog = d.notifier.watchdog_interval()) {
        tick = std::clamp(std::chrono::duration_cast<Millis>(*watchdog / 4), Millis(10), tick);
    }
    while (true) {
        const auto now = SteadyClock::now();
        if (now >= next_status) {
            d.update_status();
            next_status = now + kStatusInterval;
        }
        const bool stats_due = d.config.stats.enabled && now >= next_stats;
        const bool view_due = d.http_server != nullptr && (now >= next_view || stats_due);
        if (stats_due || view_due) {
            // One snapshot for both, so /metrics shows what the stats topic says.
            StatsSnapshot snap = d.snapshot();
            if (view_due) {
                d.publish_view(snap);
                next_view = now + kHttpViewInterval;
            }
            if (stats_due) {
                d.publish_stats(std::move(snap));
                next_stats = now + d.config.stats.interval;
            }
        }
        d.feed_watchdog();
        d.publish_discovery();

        // While discovery messages wait, come round every Discovery::kInterval to pace them.
        const Millis wait_for = d.discovery.busy() ? std::min(tick, Discovery::kInterval) : tick;
        timespec wait{wait_for.count() / 1000, (wait_for.count() % 1000) * 1'000'000};
        const int sig = sigtimedwait(&signals, nullptr, &wait);
        if (sig == SIGTERM || sig == SIGINT) {
            d.log.log(LogLevel::notice, sig == SIGTERM ? "SIGTERM: stopping" : "SIGINT: stopping",
                      {.event = "stop"});
            break;
        }
        if (sig == SIGHUP) d.reload();
        if (d.exit_code != 0) break;
    }

    d.notifier.stopping();
    d.stop_http();
    d.stop_sources();
    d.modbus_tcp.stop();
    d.pipeline.stop();
    if (d.sparkplug) d.sparkplug->stop(kShutdownGrace);  // NDEATH, then the health offline
    d.publisher->stop(kShutdownGrace);
    d.log.log(LogLevel::notice, "stopped", {.event = "stop"});
    return d.exit_code;
}

}  // namespace nodebridge
