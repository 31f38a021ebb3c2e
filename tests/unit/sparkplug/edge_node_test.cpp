// The edge node's session rules (docs/sparkplug.md): births, aliases, seq and bdSeq,
// report by exception, DDEATH/DBIRTH on availability, rebirth, DCMD checks, STATE.

#include "edge_node.hpp"

#include <gtest/gtest.h>

#include "codec.hpp"

namespace nodebridge::sparkplug {
namespace {

using namespace std::chrono_literals;

const WallClock::time_point kWall = WallClock::time_point(1764300000000ms);
const SteadyClock::time_point kT0{};

Config make_config(std::string primary = {}) {
    Config config;
    config.gateway = "gw";
    ModbusSourceConfig modbus;
    modbus.link = ModbusTcpEndpoint{.host = "127.0.0.1"};
    ModbusNode node{.id = "pdu-1"};
    node.attributes = ModbusAttributeTable{
        ModbusAttribute{.name = "voltage",
                        .table = ModbusTable::input,
                        .address = 0,
                        .type = ModbusType::float32,
                        .unit = "V"},
        ModbusAttribute{
            .name = "count", .table = ModbusTable::input, .address = 2, .type = ModbusType::uint16},
        ModbusAttribute{.name = "breaker",
                        .table = ModbusTable::coil,
                        .address = 0,
                        .type = ModbusType::boolean,
                        .writable = true},
        ModbusAttribute{.name = "setpoint",
                        .table = ModbusTable::holding,
                        .address = 20,
                        .type = ModbusType::int16,
                        .writable = true,
                        .min = -50,
                        .max = 50},
    };
    modbus.nodes.push_back(node);
    config.sources.push_back(SourceConfig{.name = "bus", .type = "modbus-tcp", .settings = modbus});
    SerialNodesSourceConfig serial;
    config.sources.push_back(
        SourceConfig{.name = "radio", .type = "serial-nodes", .settings = serial});
    config.mappings.push_back(MappingRule{.name = "sp",
                                          .topic = "x/{node}/{attribute}",
                                          .on_change = true,
                                          .deadband = 1.0,
                                          .sparkplug = true});
    config.mappings.push_back(MappingRule{.name = "plain", .topic = "y/{node}"});
    config.sparkplug = SparkplugConfig{
        .group_id = "plant", .edge_node_id = "gw", .primary_host_id = std::move(primary)};
    return config;
}

const NodeMetrics kNode{.version = "1.0", .counters = {{"samples", 10}, {"errors", 0}}};

Payload payload_of(const Message& message) {
    auto payload = decode(message.payload);
    EXPECT_TRUE(payload) << message.topic;
    return payload.value_or(Payload{});
}

const Metric* find(const Payload& payload, std::string_view name) {
    for (const Metric& metric : payload.metrics) {
        if (metric.name == name) return &metric;
    }
    return nullptr;
}

Sample reading(std::vector<Attribute> attributes, std::string node = "pdu-1",
               std::string source = "bus") {
    return Sample{.source = std::move(source),
                  .node = std::move(node),
                  .time = kWall,
                  .attributes = std::move(attributes)};
}

Sample availability(bool online) {
    return Sample{.source = "bus", .node = "pdu-1", .time = kWall, .online = online};
}

TEST(EdgeNode, WillIsNdeathWithBdSeqAdvancingPerConnect) {
    EdgeNode edge(make_config());
    for (int expected : {0, 1, 2}) {
        const Message will = edge.will();
        EXPECT_EQ(will.topic, "spBv1.0/plant/NDEATH/gw");
        EXPECT_EQ(will.qos, 1);
        EXPECT_FALSE(will.retain);
        const Payload p = payload_of(will);
        EXPECT_FALSE(p.seq);
        ASSERT_EQ(p.metrics.size(), 1u);
        EXPECT_EQ(p.metrics[0].name, "bdSeq");
        EXPECT_EQ(p.metrics[0].type, DataType::int64);
        EXPECT_EQ(p.metrics[0].value, MetricValue(std::int64_t(expected)));
    }
    for (int i = 3; i < 256; ++i) edge.will();
    EXPECT_EQ(payload_of(edge.will()).metrics[0].value, MetricValue(std::int64_t(0)));
}

TEST(EdgeNode, BirthsCarryBdSeqRebirthDevicesAliasesTypesAndUnits) {
    EdgeNode edge(make_config());
    edge.will();
    edge.will();  // a second connect attempt: bdSeq 1
    const auto out = edge.connected(kWall, kNode);
    ASSERT_EQ(out.size(), 2u);  // NBIRTH, DBIRTH pdu-1 (the serial device is not heard yet)
    EXPECT_EQ(out[0].topic, "spBv1.0/plant/NBIRTH/gw");
    EXPECT_EQ(out[0].qos, 0);
    EXPECT_FALSE(out[0].retain);
    const Payload nbirth = payload_of(out[0]);
    EXPECT_EQ(nbirth.seq, 0u);
    EXPECT_EQ(nbirth.timestamp, 1764300000000u);
    ASSERT_NE(find(nbirth, "bdSeq"), nullptr);
    EXPECT_EQ(find(nbirth, "bdSeq")->value, MetricValue(std::int64_t(1)));
    const Metric* rebirth = find(nbirth, "Node Control/Rebirth");
    ASSERT_NE(rebirth, nullptr);
    EXPECT_EQ(rebirth->type, DataType::boolean);
    EXPECT_EQ(rebirth->value, MetricValue(false));
    EXPECT_FALSE(rebirth->alias);
    ASSERT_NE(find(nbirth, "Node Info/samples"), nullptr);
    EXPECT_EQ(find(nbirth, "Node Info/samples")->value, MetricValue(std::uint64_t(10)));
    EXPECT_EQ(find(nbirth, "Node Info/Version")->value, MetricValue(std::string("1.0")));
    for (const Metric& m : nbirth.metrics) {
        EXPECT_EQ(m.alias.has_value(), m.name != "Node Control/Rebirth") << m.name;
        EXPECT_TRUE(m.send_datatype) << m.name;
    }

    EXPECT_EQ(out[1].topic, "spBv1.0/plant/DBIRTH/gw/pdu-1");
    const Payload dbirth = payload_of(out[1]);
    EXPECT_EQ(dbirth.seq, 1u);
    ASSERT_EQ(dbirth.metrics.size(), 4u);
    std::set<std::uint64_t> aliases;
    for (const Metric& m : nbirth.metrics) {
        if (m.alias) aliases.insert(*m.alias);
    }
    for (const Metric& m : dbirth.metrics) {
        ASSERT_TRUE(m.alias);
        EXPECT_TRUE(aliases.insert(*m.alias).second) << "alias reused: " << *m.alias;
        EXPECT_TRUE(m.send_datatype);
        EXPECT_EQ(m.value, MetricValue(std::monostate{})) << "not read yet: is_null";
    }
    EXPECT_EQ(find(dbirth, "voltage")->type, DataType::float32);
    EXPECT_EQ(find(dbirth, "count")->type, DataType::uint16);
    EXPECT_EQ(find(dbirth, "breaker")->type, DataType::boolean);
    EXPECT_EQ(find(dbirth, "setpoint")->type, DataType::int16);
    ASSERT_EQ(find(dbirth, "voltage")->properties.size(), 1u);
    EXPECT_EQ(find(dbirth, "voltage")->properties[0],
              (std::pair<std::string, std::string>{"engUnit", "V"}));
}

TEST(EdgeNode, DataByExceptionByAliasWithIncreasingSeq) {
    EdgeNode edge(make_config());
    edge.will();
    const auto births = edge.connected(kWall, kNode);
    const Payload dbirth = payload_of(births[1]);
    const std::uint64_t voltage_alias = *find(dbirth, "voltage")->alias;

    auto out =
        edge.map(reading({{"voltage", 230.0, "V"}, {"count", std::int64_t(1), ""}}), kT0, kWall);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].topic, "spBv1.0/plant/DDATA/gw/pdu-1");
    Payload ddata = payload_of(out[0]);
    EXPECT_EQ(ddata.seq, 2u);
    ASSERT_EQ(ddata.metrics.size(), 2u);
    EXPECT_TRUE(ddata.metrics[0].name.empty()) << "data messages carry the alias only";
    EXPECT_EQ(ddata.metrics[0].alias, voltage_alias);
    EXPECT_FALSE(ddata.metrics[0].send_datatype);
    EXPECT_EQ(ddata.metrics[0].timestamp, 1764300000000u);

    // Within the deadband (1.0) and unchanged: nothing.
    EXPECT_TRUE(edge.map(reading({{"voltage", 230.5, "V"}, {"count", std::int64_t(1), ""}}),
                         kT0 + 1s, kWall)
                    .empty());
    // Only what changed goes out.
    out = edge.map(reading({{"voltage", 230.6, "V"}, {"count", std::int64_t(3), ""}}), kT0 + 2s,
                   kWall);
    ASSERT_EQ(out.size(), 1u);
    ddata = payload_of(out[0]);
    EXPECT_EQ(ddata.seq, 3u);
    ASSERT_EQ(ddata.metrics.size(), 1u);
    EXPECT_EQ(ddata.metrics[0].value, MetricValue(std::uint64_t(3)));
}

TEST(EdgeNode, HeartbeatRepublishesAnUnchangedValueAtItsDeadline) {
    Config config = make_config();
    config.mappings[0].heartbeat = 5s;
    EdgeNode edge(config);
    edge.will();
    edge.connected(kWall, kNode);
    EXPECT_EQ(edge.next_due(), SteadyClock::time_point::max());
    ASSERT_EQ(edge.map(reading({{"count", std::int64_t(4), ""}}), kT0, kWall).size(), 1u);
    EXPECT_TRUE(edge.map(reading({{"count", std::int64_t(4), ""}}), kT0 + 1s, kWall).empty());
    EXPECT_LE(edge.next_due(), kT0 + 5s);
    EXPECT_TRUE(edge.tick(kT0 + 4s, kWall).empty());
    const auto out = edge.tick(kT0 + 5s, kWall);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].topic, "spBv1.0/plant/DDATA/gw/pdu-1");
    const Payload ddata = payload_of(out[0]);
    ASSERT_EQ(ddata.metrics.size(), 1u);
    EXPECT_EQ(ddata.metrics[0].value, MetricValue(std::uint64_t(4)));
    EXPECT_GT(edge.next_due(), kT0 + 5s);
}

TEST(EdgeNode, SeqWrapsAfter255) {
    EdgeNode edge(make_config());
    edge.will();
    edge.connected(kWall, kNode);  // seq 0, 1
    std::uint64_t last = 1;
    for (int i = 0; i < 300; ++i) {
        // Steps of 2: the rule's deadband is 1.
        const auto out =
            edge.map(reading({{"count", std::int64_t(2 * i), ""}}), kT0 + i * 1s, kWall);
        ASSERT_EQ(out.size(), 1u);
        const std::uint64_t seq = *payload_of(out[0]).seq;
        EXPECT_EQ(seq, (last + 1) % 256);
        EXPECT_LE(seq, 255u);
        last = seq;
    }
}

TEST(EdgeNode, DeviceDeathAndRebirthFollowAvailability) {
    EdgeNode edge(make_config());
    edge.will();
    edge.connected(kWall, kNode);
    auto out = edge.map(availability(false), kT0, kWall);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].topic, "spBv1.0/plant/DDEATH/gw/pdu-1");
    EXPECT_EQ(payload_of(out[0]).seq, 2u);
    EXPECT_TRUE(edge.map(availability(false), kT0, kWall).empty()) << "one DDEATH";
    EXPECT_TRUE(edge.map(availability(true), kT0, kWall).empty()) << "DBIRTH waits for values";
    out = edge.map(reading({{"voltage", 231.0, "V"}}), kT0 + 1s, kWall);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].topic, "spBv1.0/plant/DBIRTH/gw/pdu-1");
    const Payload dbirth = payload_of(out[0]);
    EXPECT_EQ(dbirth.seq, 3u);
    EXPECT_EQ(find(dbirth, "voltage")->value, MetricValue(231.0));
}

TEST(EdgeNode, RebirthOnNcmdKeepsBdSeqAndRestartsSeq) {
    EdgeNode edge(make_config());
    edge.will();
    edge.will();
    edge.connected(kWall, kNode);
    edge.map(reading({{"count", std::int64_t(5), ""}}), kT0, kWall);
    const std::string ncmd = encode(Payload{.timestamp = 1,
                                            .metrics = {Metric{.name = "Node Control/Rebirth",
                                                               .type = DataType::boolean,
                                                               .send_datatype = true,
                                                               .value = true}}});
    const Received r = edge.receive("spBv1.0/plant/NCMD/gw", ncmd, false, kWall, kNode);
    EXPECT_TRUE(r.refusals.empty());
    ASSERT_EQ(r.publish.size(), 2u);
    const Payload nbirth = payload_of(r.publish[0]);
    EXPECT_EQ(nbirth.seq, 0u);
    EXPECT_EQ(find(nbirth, "bdSeq")->value, MetricValue(std::int64_t(1)));
    const Payload dbirth = payload_of(r.publish[1]);
    EXPECT_EQ(dbirth.seq, 1u);
    EXPECT_EQ(find(dbirth, "count")->value, MetricValue(std::uint64_t(5)));
    EXPECT_EQ(edge.stats().rebirths, 1u);

    // Rebirth = false, other NCMD metrics, garbage and retained commands are refused.
    const std::string wrong = encode(Payload{
        .metrics = {
            Metric{.name = "Node Control/Rebirth", .type = DataType::boolean, .value = false},
            Metric{.name = "Other", .type = DataType::boolean, .value = true}}});
    EXPECT_EQ(edge.receive("spBv1.0/plant/NCMD/gw", wrong, false, kWall, kNode).refusals.size(),
              2u);
    EXPECT_EQ(
        edge.receive("spBv1.0/plant/NCMD/gw", "\xff\xff", false, kWall, kNode).refusals.size(), 1u);
    EXPECT_TRUE(edge.receive("spBv1.0/plant/NCMD/gw", ncmd, true, kWall, kNode).publish.empty());
    EXPECT_EQ(edge.stats().rebirths, 1u);
}

TEST(EdgeNode, DcmdWritesPassTheWriteBackChecks) {
    EdgeNode edge(make_config());
    edge.will();
    const auto births = edge.connected(kWall, kNode);
    const Payload dbirth = payload_of(births[1]);
    const std::uint64_t setpoint = *find(dbirth, "setpoint")->alias;
    const std::string topic = "spBv1.0/plant/DCMD/gw/pdu-1";

    // By alias, the host's int_value without datatype (Int16 -20 as two's complement).
    const std::string ok = encode(Payload{
        .metrics = {Metric{.alias = setpoint, .type = DataType::int16, .value = std::int64_t(-20)},
                    Metric{.name = "breaker",
                           .type = DataType::boolean,
                           .send_datatype = true,
                           .value = true}}});
    Received r = edge.receive(topic, ok, false, kWall, kNode);
    EXPECT_TRUE(r.refusals.empty()) << r.refusals.front();
    ASSERT_EQ(r.writes.size(), 2u);
    EXPECT_EQ(r.writes[0].source, "bus");
    EXPECT_EQ(r.writes[0].node, "pdu-1");
    EXPECT_EQ(r.writes[0].attribute, "setpoint");
    EXPECT_EQ(r.writes[0].value, Value(-20.0));
    EXPECT_EQ(r.writes[1].value, Value(true));

    const std::string bad = encode(Payload{
        .metrics = {
            Metric{.alias = setpoint,
                   .type = DataType::int16,
                   .send_datatype = true,
                   .value = std::int64_t(60)},                                   // above max 50
            Metric{.name = "voltage", .type = DataType::float32, .value = 1.0},  // not writable
            Metric{.name = "nope", .type = DataType::boolean, .value = true},    // unknown
            Metric{.name = "breaker", .type = DataType::float64, .value = 1.0},  // wrong type
        }});
    r = edge.receive(topic, bad, false, kWall, kNode);
    EXPECT_TRUE(r.writes.empty());
    EXPECT_EQ(r.refusals.size(), 4u);
    EXPECT_TRUE(
        edge.receive("spBv1.0/plant/DCMD/gw/ghost", ok, false, kWall, kNode).writes.empty());
    EXPECT_TRUE(edge.receive(topic, ok, true, kWall, kNode).writes.empty()) << "retained";
    EXPECT_EQ(edge.stats().writes, 2u);
    EXPECT_EQ(edge.stats().refused, 6u);
}

TEST(EdgeNode, HeldDataIsReplayedAsHistoricalAfterFreshBirths) {
    EdgeNode edge(make_config());
    edge.will();
    edge.connected(kWall, kNode);
    edge.disconnected();
    EXPECT_TRUE(edge.map(reading({{"count", std::int64_t(7), ""}}), kT0, kWall).empty());
    const Message will = edge.will();
    EXPECT_EQ(payload_of(will).metrics[0].value, MetricValue(std::int64_t(1)));
    const auto out = edge.connected(kWall + 5s, kNode);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].topic, "spBv1.0/plant/NBIRTH/gw");
    EXPECT_EQ(find(payload_of(out[0]), "bdSeq")->value, MetricValue(std::int64_t(1)));
    EXPECT_EQ(out[1].topic, "spBv1.0/plant/DBIRTH/gw/pdu-1");
    EXPECT_EQ(out[2].topic, "spBv1.0/plant/DDATA/gw/pdu-1");
    const Payload history = payload_of(out[2]);
    EXPECT_EQ(history.seq, 2u);
    ASSERT_EQ(history.metrics.size(), 1u);
    EXPECT_TRUE(history.metrics[0].is_historical);
    EXPECT_EQ(history.metrics[0].value, MetricValue(std::uint64_t(7)));
    EXPECT_EQ(edge.stats().historical, 1u);
}

TEST(EdgeNode, LearnedDevicesAreBornWhenHeardAndRebornWhenTheyGrow) {
    EdgeNode edge(make_config());
    edge.will();
    edge.connected(kWall, kNode);
    auto out = edge.map(reading({{"temp", 21.5, "°C"}}, "n7", "radio"), kT0, kWall);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].topic, "spBv1.0/plant/DBIRTH/gw/n7");
    EXPECT_EQ(find(payload_of(out[0]), "temp")->type, DataType::float64);
    out = edge.map(reading({{"temp", 25.0, "°C"}, {"rssi", std::int64_t(-70), ""}}, "n7", "radio"),
                   kT0 + 1s, kWall);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].topic, "spBv1.0/plant/DBIRTH/gw/n7");
    EXPECT_EQ(find(payload_of(out[0]), "rssi")->type, DataType::int64);
}

TEST(EdgeNode, PrimaryHostStateGatesBirthsAndOfflineEndsTheSession) {
    EdgeNode edge(make_config("scada"));
    const auto topics = edge.topics();
    EXPECT_NE(std::find(topics.begin(), topics.end(), "spBv1.0/STATE/scada"), topics.end());
    edge.will();
    EXPECT_TRUE(edge.connected(kWall, kNode).empty());
    EXPECT_TRUE(edge.map(reading({{"count", std::int64_t(1), ""}}), kT0, kWall).empty());
    const std::string state_topic = "spBv1.0/STATE/scada";
    Received r =
        edge.receive(state_topic, R"({"online":true,"timestamp":100})", true, kWall, kNode);
    ASSERT_GE(r.publish.size(), 2u);
    EXPECT_EQ(r.publish[0].topic, "spBv1.0/plant/NBIRTH/gw");
    EXPECT_TRUE(edge.born());
    // An older offline STATE is ignored; a newer one ends the session.
    EXPECT_FALSE(
        edge.receive(state_topic, R"({"online":false,"timestamp":99})", false, kWall, kNode)
            .disconnect);
    EXPECT_TRUE(
        edge.receive(state_topic, R"({"online":false,"timestamp":101})", false, kWall, kNode)
            .disconnect);
    EXPECT_EQ(edge.receive(state_topic, "online", false, kWall, kNode).refusals.size(), 1u);
}

// The offline STATE ends the session at once, before the disconnect is done: what maps
// afterwards is held (never DDATA of a dead session), an online STATE before the next
// connection births nothing, and a connection greeted by offline counts as failed.
TEST(EdgeNode, OfflineStateEndsTheSessionAtOnceAndHoldsWhatFollows) {
    EdgeNode edge(make_config("scada"));
    const std::string state_topic = "spBv1.0/STATE/scada";
    edge.will();
    edge.connected(kWall, kNode);
    ASSERT_FALSE(edge.receive(state_topic, R"({"online":true,"timestamp":100})", true, kWall, kNode)
                     .publish.empty());
    ASSERT_FALSE(edge.map(reading({{"count", std::int64_t(1), ""}}), kT0, kWall).empty());
    Received r =
        edge.receive(state_topic, R"({"online":false,"timestamp":101})", false, kWall, kNode);
    EXPECT_TRUE(r.disconnect);
    EXPECT_TRUE(r.was_born);
    EXPECT_FALSE(edge.born());
    EXPECT_TRUE(edge.map(reading({{"count", std::int64_t(5), ""}}), kT0 + 1s, kWall).empty());
    EXPECT_TRUE(edge.receive(state_topic, R"({"online":true,"timestamp":102})", false, kWall, kNode)
                    .publish.empty());
    edge.disconnected();
    // The next connection: the host is offline again (its retained STATE).
    edge.will();
    EXPECT_TRUE(edge.connected(kWall, kNode).empty());
    r = edge.receive(state_topic, R"({"online":false,"timestamp":103})", true, kWall, kNode);
    EXPECT_TRUE(r.disconnect);
    EXPECT_FALSE(r.was_born);
    edge.disconnected();
    // And the one after: online; NBIRTH first, the held reading as historical after.
    edge.will();
    EXPECT_TRUE(edge.connected(kWall, kNode).empty());
    r = edge.receive(state_topic, R"({"online":true,"timestamp":104})", true, kWall, kNode);
    ASSERT_EQ(r.publish.size(), 3u);
    EXPECT_EQ(r.publish[0].topic, "spBv1.0/plant/NBIRTH/gw");
    EXPECT_EQ(r.publish[1].topic, "spBv1.0/plant/DBIRTH/gw/pdu-1");
    const Payload history = payload_of(r.publish[2]);
    ASSERT_EQ(history.metrics.size(), 1u);
    EXPECT_TRUE(history.metrics[0].is_historical);
    EXPECT_EQ(history.metrics[0].value, MetricValue(std::uint64_t(5)));
}

TEST(EdgeNode, NodeDataCarriesOnlyChangedCountersByAlias) {
    EdgeNode edge(make_config());
    edge.will();
    EXPECT_TRUE(edge.node_data(kNode, kWall).empty()) << "no session yet";
    const auto births = edge.connected(kWall, kNode);
    const std::uint64_t samples_alias = *find(payload_of(births[0]), "Node Info/samples")->alias;
    EXPECT_TRUE(edge.node_data(kNode, kWall).empty()) << "nothing changed";
    NodeMetrics changed = kNode;
    changed.counters[0].second = 11;
    const auto out = edge.node_data(changed, kWall);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].topic, "spBv1.0/plant/NDATA/gw");
    const Payload ndata = payload_of(out[0]);
    EXPECT_EQ(ndata.seq, 2u);
    ASSERT_EQ(ndata.metrics.size(), 1u);
    EXPECT_TRUE(ndata.metrics[0].name.empty());
    EXPECT_EQ(ndata.metrics[0].alias, samples_alias);
    EXPECT_EQ(ndata.metrics[0].value, MetricValue(std::uint64_t(11)));
}

TEST(State, ParsesOnlyTheSpecifiedShape) {
    auto s = parse_state(R"( {"online": true, "timestamp": 1764300000000} )");
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->online);
    EXPECT_EQ(s->timestamp, 1764300000000u);
    EXPECT_TRUE(parse_state(R"({"timestamp":5,"online":false})"));
    for (const char* bad :
         {"", "{}", R"({"online":true})", R"({"online":1,"timestamp":5})",
          R"({"online":true,"timestamp":-5})", R"({"online":true,"timestamp":5,"x":1})",
          R"({"online":true,"timestamp":5} x)", R"({"online":true,"online":true,"timestamp":5})",
          R"({"online":true,"timestamp":99999999999999999999})"}) {
        EXPECT_FALSE(parse_state(bad)) << bad;
    }
}

TEST(Summary, CountsConfiguredDevicesAndMetrics) {
    const SparkplugSummary summary = summarize(make_config());
    EXPECT_EQ(summary.devices, 1u);
    EXPECT_EQ(summary.metrics, 4u);
}

}  // namespace
}  // namespace nodebridge::sparkplug
