#include "source_book.hpp"

#include <algorithm>
#include <tuple>

#include "decode.hpp"

namespace nodebridge::modbus {

Millis request_gap_for(const ModbusSourceConfig& source, const ModbusNode& node) {
    if (node.request_gap) return *node.request_gap;
    if (node.model && node.model->request_gap) return *node.model->request_gap;
    return source.request_gap;
}

std::uint16_t max_registers_for(const ModbusSourceConfig& source, const ModbusNode& node) {
    std::uint16_t limit = source.max_registers;
    if (node.model && node.model->max_registers) {
        limit = std::min(limit, *node.model->max_registers);
    }
    return std::clamp<std::uint16_t>(limit, 1, kMaxReadRegisters);
}

std::uint16_t max_gap_for(const ModbusSourceConfig& source, const ModbusNode& node) {
    if (node.model && node.model->max_gap) return *node.model->max_gap;
    return source.max_gap;
}

Millis offline_after_for(const ModbusSourceConfig& source, const ModbusNode& node) {
    if (node.offline_after) return *node.offline_after;
    if (source.offline_after) return *source.offline_after;
    return std::max(fastest_interval(node) * 3, kMinimumOfflineAfter);
}

std::vector<std::vector<Millis>> group_intervals(const SourceBook& book) {
    std::vector<std::vector<Millis>> intervals;
    intervals.reserve(book.nodes.size());
    for (const NodeState& node : book.nodes) {
        std::vector<Millis>& own = intervals.emplace_back();
        for (const PollGroup& group : node.groups()) own.push_back(group.interval);
    }
    return intervals;
}

namespace {

std::string describe_link(const ModbusSourceConfig& config) {
    if (const auto* tcp = std::get_if<ModbusTcpEndpoint>(&config.link)) {
        return tcp->host + ":" + std::to_string(tcp->port);
    }
    return std::get<SerialLine>(config.link).device;
}

// A command's value as the log shows it: "42.5", "-3", "true".
std::string describe_value(const Value& value) {
    if (const double* number = std::get_if<double>(&value)) return number_text(*number);
    if (const auto* integer = std::get_if<std::int64_t>(&value)) return std::to_string(*integer);
    if (const bool* flag = std::get_if<bool>(&value)) return *flag ? "true" : "false";
    return "\"" + sanitize_text(std::get<std::string>(value)) + "\"";
}

}  // namespace

SourceBook::SourceBook(std::string name_, const ModbusSourceConfig& config_, SampleQueue& queue,
                       Logger& log)
    : name(std::move(name_)),
      config(config_),
      link(describe_link(config_)),
      queue_(queue),
      log_(log) {
    // Nodes with the same attribute list (shared, not equal: one parse) and limits share a plan.
    struct PlanKey {
        const ModbusAttribute* attributes;
        std::size_t count;
        Millis poll;
        std::uint16_t max_gap;
        std::uint16_t max_registers;
        bool operator<(const PlanKey& other) const {
            return std::tie(attributes, count, poll, max_gap, max_registers) <
                   std::tie(other.attributes, other.count, other.poll, other.max_gap,
                            other.max_registers);
        }
    };
    std::map<PlanKey, std::shared_ptr<std::vector<PollGroup>>> plans;
    nodes.reserve(config.nodes.size());
    for (const ModbusNode& node : config.nodes) {
        NodeState state;
        state.config = &node;
        const std::vector<ModbusAttribute>& attributes = node.attributes.list();
        const PlanKey key{attributes.data(), attributes.size(), node.poll,
                          max_gap_for(config, node), max_registers_for(config, node)};
        auto& plan = plans[key];
        if (!plan) {
            plan = std::make_shared<std::vector<PollGroup>>(
                plan_groups(attributes, node.poll, key.max_gap, key.max_registers));
        }
        state.plan = plan;
        state.health = UnitHealth(config.dead_after, config.dead_poll);
        state.request_gap = request_gap_for(config, node);
        state.retries = node.retries.value_or(config.retries);
        state.offline_after = offline_after_for(config, node);
        nodes.push_back(std::move(state));
    }
    stats_.nodes_total = static_cast<int>(nodes.size());
}

SourceStats SourceBook::stats() const {
    std::lock_guard lock(stats_mutex_);
    return stats_;
}

std::map<std::string, std::map<std::string, std::uint64_t>> SourceBook::node_errors() const {
    std::lock_guard lock(stats_mutex_);
    return node_errors_;
}

void SourceBook::count_request() {
    std::lock_guard lock(stats_mutex_);
    ++stats_.polls;
}

void SourceBook::count_error(const NodeState* node, std::string_view kind,
                             const std::string& message) {
    const std::string node_id = node != nullptr ? node->config->id : std::string();
    std::lock_guard lock(stats_mutex_);
    ++stats_.errors[std::string(kind)];
    stats_.last_error = node != nullptr ? node_id + ": " + message : message;
    if (node != nullptr) ++node_errors_[node_id][std::string(kind)];
}

void SourceBook::record_error(const NodeState* node, std::string_view kind,
                              const std::string& message) {
    count_error(node, kind, message);
    const std::string node_id = node != nullptr ? node->config->id : std::string();
    const std::string text = node != nullptr ? node_id + ": " + message : message;
    const std::string cause = std::string(kind) + ":" + name + "/" + node_id;
    const std::string event = "modbus-" + std::string(kind);
    log_.log_limited(cause, LogLevel::warning, text,
                     LogContext{.source = name, .node = node_id, .event = event});
}

void SourceBook::set_last_error(std::string text) {
    std::lock_guard lock(stats_mutex_);
    stats_.last_error = std::move(text);
}

void SourceBook::started(SteadyClock::time_point start) {
    for (NodeState& node : nodes) {
        node.last_reading = start;  // a node that never answers is offline after its allowance
        for (const PollGroup& group : node.groups()) {
            for (std::size_t index : group.plan.rejected) {
                record_error(&node, "decode",
                             "attribute " + node.config->attributes[index].name +
                                 " cannot be read in one request; it is skipped");
            }
        }
    }
}

void SourceBook::hand_over(Sample sample) {
    if (turn_ != nullptr) {
        turn_->add(std::move(sample));
    } else {
        queue_.push(std::move(sample));
    }
}

void SourceBook::flush_samples() {
    if (turn_ != nullptr) turn_->flush();
}

void SourceBook::push_availability(const NodeState& node, bool online) {
    Sample sample;
    sample.source = name;
    sample.node = node.config->id;
    sample.time = WallClock::now();
    sample.online = online;
    std::vector<std::pair<std::string, bool>> available;
    for (const NodeState& each : nodes) {
        if (each.available) available.emplace_back(each.config->id, *each.available);
    }
    {
        // Before the sample, so a consumer that sees it sees matching stats.
        std::lock_guard lock(stats_mutex_);
        stats_.nodes = std::move(available);
    }
    hand_over(std::move(sample));
}

SteadyClock::time_point SourceBook::check_availability(SteadyClock::time_point now) {
    auto next = SteadyClock::time_point::max();
    for (NodeState& node : nodes) {
        if (node.available == false) continue;
        const auto deadline = node.last_reading + node.offline_after;
        if (now < deadline) {
            next = std::min(next, deadline);
            continue;
        }
        node.available = false;
        log_.log(LogLevel::notice,
                 node.config->id + ": offline (no reading for " +
                     std::to_string(node.offline_after.count()) + " ms)",
                 LogContext{.source = name, .node = node.config->id, .event = "node-offline"});
        push_availability(node, false);
    }
    return next;
}

void SourceBook::set_online(NodeState& node, bool online) {
    if (node.online == online) return;
    node.online = online;
    online_count_ += online ? 1 : -1;
    std::lock_guard lock(stats_mutex_);
    stats_.nodes_online = online_count_;
}

void SourceBook::link_lost() {
    for (NodeState& node : nodes) set_online(node, false);
}

Millis SourceBook::finish_poll(NodeState& node, PollOutcome outcome, bool connected) {
    const ModbusNode& config_node = *node.config;
    if (outcome.complete && !node.online && node.ever_polled) {
        log_.log_limited(
            "recovered:" + name + "/" + config_node.id, LogLevel::notice,
            config_node.id + ": answering again",
            LogContext{.source = name, .node = config_node.id, .event = "modbus-recovered"});
    }
    set_online(node, outcome.complete);  // before the sample, so a consumer sees matching stats
    node.ever_polled = true;
    if (connected) note_health(node, outcome.answered);

    Sample sample;
    sample.source = name;
    sample.node = config_node.id;
    for (std::size_t i = 0; i < outcome.values.size(); ++i) {
        if (!outcome.values[i]) continue;
        const ModbusAttribute& attribute = config_node.attributes[i];
        sample.attributes.push_back(Attribute{.name = attribute.name,
                                              .value = std::move(*outcome.values[i]),
                                              .unit = attribute.unit});
    }
    if (!sample.attributes.empty() && outcome.reply_time) {
        node.last_reading = SteadyClock::now();
        if (node.available != true) {
            node.available = true;
            log_.log(LogLevel::info, config_node.id + ": online",
                     LogContext{.source = name, .node = config_node.id, .event = "node-online"});
            push_availability(node, true);  // before the reading it announces
        }
        sample.time = *outcome.reply_time;
        {
            std::lock_guard lock(stats_mutex_);
            ++stats_.samples;
        }
        hand_over(std::move(sample));
    }
    return node.health.dead() ? config.dead_poll : Millis::zero();
}

// Feeds one poll's outcome to the dead-unit rule; logs and takes the node offline once when
// it dies, and logs once when it answers again.
void SourceBook::note_health(NodeState& node, bool answered) {
    const ModbusNode& config_node = *node.config;
    switch (node.health.record_poll(answered)) {
        case UnitHealth::Change::none:
            return;
        case UnitHealth::Change::died:
            log_.log(LogLevel::warning,
                     config_node.id + ": unit " + std::to_string(config_node.unit) +
                         " did not answer " + std::to_string(config.dead_after) +
                         " polls in a row; polling it every " +
                         std::to_string(config.dead_poll.count()) + " ms until it answers",
                     LogContext{.source = name, .node = config_node.id, .event = "modbus-dead"});
            if (node.available != false) {
                node.available = false;
                push_availability(node, false);
            }
            return;
        case UnitHealth::Change::revived:
            log_.log(LogLevel::notice,
                     config_node.id + ": unit " + std::to_string(config_node.unit) +
                         " answers again; back to its poll interval",
                     LogContext{.source = name, .node = config_node.id, .event = "modbus-revived"});
            return;
    }
}

std::variant<PendingWrite, std::string> SourceBook::prepare_write(WriteCommand command,
                                                                  Source::WriteDone done) const {
    if (command.source != name) {
        return "the command is for source " + command.source + ", not " + name;
    }
    // The configuration is immutable while the source runs, so looking it up here is safe.
    const auto& config_nodes = config.nodes;
    const auto node = std::find_if(config_nodes.begin(), config_nodes.end(),
                                   [&](const ModbusNode& each) { return each.id == command.node; });
    if (node == config_nodes.end()) return "no node " + command.node + " on source " + name;
    const auto attribute =
        std::find_if(node->attributes.begin(), node->attributes.end(),
                     [&](const ModbusAttribute& each) { return each.name == command.attribute; });
    if (attribute == node->attributes.end()) {
        return "node " + command.node + " has no attribute " + command.attribute;
    }
    // Defence in depth: the CommandRouter checks these too.
    if (!attribute->writable) return command.attribute + " is not writable";
    if (const double* number = std::get_if<double>(&command.value)) {
        if (attribute->min && *number < *attribute->min) {
            return "value " + number_text(*number) + " is below min " +
                   number_text(*attribute->min);
        }
        if (attribute->max && *number > *attribute->max) {
            return "value " + number_text(*number) + " is above max " +
                   number_text(*attribute->max);
        }
    }
    auto encoded = encode_value(*attribute, command.value);
    if (auto* error = std::get_if<std::string>(&encoded)) return std::move(*error);

    PendingWrite pending;
    pending.node = static_cast<std::size_t>(node - config_nodes.begin());
    pending.attribute = static_cast<std::size_t>(attribute - node->attributes.begin());
    pending.data = std::move(std::get<WriteData>(encoded));
    pending.command = std::move(command);
    pending.done = std::move(done);
    return pending;
}

void SourceBook::refuse_write(const WriteCommand& command, const Source::WriteDone& done,
                              const std::string& reason) {
    log_.log_limited(
        "write-refused:" + name + "/" + command.node, LogLevel::warning,
        command.node + ": not writing " + command.attribute + ": " + reason,
        LogContext{.source = name, .node = command.node, .event = "modbus-write-error"});
    finish_write(done, reason);
}

void SourceBook::finish_write(const Source::WriteDone& done, const std::string& error) {
    {
        std::lock_guard lock(stats_mutex_);
        ++(error.empty() ? stats_.writes : stats_.write_errors);
    }
    done(error);
}

std::string SourceBook::describe_write(const PendingWrite& write) const {
    const ModbusNode& config_node = *nodes[write.node].config;
    const ModbusAttribute& attribute = config_node.attributes[write.attribute];
    return config_node.id + ": writing " + attribute.name + " = " +
           describe_value(write.command.value) + " (" +
           (attribute.table == ModbusTable::coil ? "coil " : "holding ") +
           std::to_string(attribute.address) + " of unit " + std::to_string(config_node.unit) + ")";
}

}  // namespace nodebridge::modbus
