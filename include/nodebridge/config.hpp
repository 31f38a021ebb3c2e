#pragma once
// The configuration as plain structs, and the loader that builds them from YAML.
//
// load_config() reads the file and everything it includes, validates it completely and
// returns either a Config that every component can trust, or every error found, each
// positioned "FILE:LINE:COL: message". Nothing is opened or started by loading.
// docs/configuration.md is the user's reference for every key and default below.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "nodebridge/number_text.hpp"

namespace nodebridge {

using Millis = std::chrono::milliseconds;

// Where a value was written: file path as given, 1-based line and column.
struct Position {
    std::string file;
    int line = 0;
    int column = 0;

    // Where a setting is written is not part of what it means: a reload that only moves
    // lines changes nothing. Compare the fields themselves where the place matters.
    friend bool operator==(const Position&, const Position&) { return true; }
};

struct ConfigError {
    Position where;
    std::string message;

    // "FILE:LINE:COL: message"
    std::string to_string() const;
};

// ---- sources -------------------------------------------------------------------------

enum class ModbusTable { coil, discrete, input, holding };
enum class ModbusType { boolean, int16, uint16, int32, uint32, int64, uint64, float32, float64, string };
enum class WordOrder { big, little };

// The names the config file uses: "holding", "float32", "bool", ...
std::string to_string(ModbusTable table);
std::string to_string(ModbusType type);
// True for int16, uint16, int32, uint32, int64 and uint64.
bool is_integer(ModbusType type);
// number_text(): nodebridge/number_text.hpp, the one formatter for numbers in messages and
// payloads.

// ---- what a reading is (models, dashboards, discovery) ------------------------------------

// The kinds of physical quantity an attribute may declare with `quantity:` ("voltage",
// "current", "power", "apparent_power", "reactive_power", "energy", "reactive_energy",
// "apparent_energy", "power_factor", "frequency", "temperature", "humidity", ...), in the
// order docs/models.md lists them. Home Assistant discovery and Sparkplug derive their
// classes from it; the loader refuses any other name.
const std::vector<std::string_view>& known_quantities();

// `homeassistant:` on an attribute: overrides of what discovery derives. Empty strings and
// an unset `enabled` mean "derive it" (docs/homeassistant.md).
struct HomeAssistantHints {
    std::string name;                 // entity name; default the attribute name
    std::string device_class;         // default from quantity or unit
    std::string state_class;          // default from quantity/counter: measurement, total_increasing
    std::string icon;                 // e.g. "mdi:flash"
    std::string entity_category;      // "diagnostic" or "config"; empty = a primary entity
    std::optional<bool> enabled;      // false: announced disabled by default
    Position where;
    Position entity_category_where;   // the entity_category value, for the checks

    friend bool operator==(const HomeAssistantHints&, const HomeAssistantHints&) = default;
};

// What describes a reading beyond its value; shared by Modbus and received attributes.
struct AttributeMeaning {
    std::string quantity;             // empty = none; else one of known_quantities()
    bool counter = false;             // `counter: true`: an ever-increasing total (an energy
                                      // meter's register); it only falls when the device resets
    bool net = false;                 // `counter: net`: a running total that also falls (a
                                      // signed net energy register); never with `counter`
    // `states: {0: normal, 1: battery}`: the reading is a code, published as the code's name
    // (docs/models.md); in file order, codes and names each unique. Empty: a measurement.
    std::vector<std::pair<std::int64_t, std::string>> states;
    std::optional<HomeAssistantHints> homeassistant;

    friend bool operator==(const AttributeMeaning&, const AttributeMeaning&) = default;
};

struct ModbusAttribute {
    std::string name;                 // the key under `attributes:`
    ModbusTable table = ModbusTable::holding;
    std::uint16_t address = 0;        // zero-based, as on the wire
    ModbusType type = ModbusType::uint16;
    std::uint16_t length = 0;         // registers, for `string` only (required there)
    WordOrder word_order = WordOrder::big;  // order of 16-bit words in multi-register types
    bool byte_swap = false;           // swap the two bytes inside each register
    double scale = 1.0;               // value = raw * scale + offset
    double offset = 0.0;
    std::optional<int> round;         // decimals to round to after scaling
    std::string unit;                 // e.g. "V"; empty for none
    AttributeMeaning meaning;         // quantity, counter, Home Assistant overrides
    // `bit: 0..15`: the attribute is that one bit (0 = least significant) of the register at
    // `address` of an input or holding table, read as a bool. Unset: the whole value.
    std::optional<std::uint8_t> bit;
    // `function: 3|4`: reads with this function code (3 = holding, 4 = input registers)
    // whatever `table` says, for devices that map one table onto the other. 0: by table.
    std::uint8_t function = 0;
    // `poll:` how often this attribute is read, overriding its node's poll interval (e.g.
    // energy counters every 60s beside power every 1s). Unset: the node's. Attributes read at
    // one interval are coalesced into requests together; see read_interval().
    std::optional<Millis> poll;

    // Write-back (docs/write-back.md). Off unless `writable: true`, which only coils and
    // holding registers of a non-string type may set. Limits are in published units (after
    // scale and offset) and are checked before anything is written.
    bool writable = false;
    std::optional<double> min;        // required for writable numbers; unset for booleans
    std::optional<double> max;        // required for writable numbers; min <= max
    std::vector<double> allowed;      // optional: the only values accepted; empty = any in range
    Position where;

    // Registers (or bits, for coil/discrete) this attribute occupies.
    std::uint16_t width() const;

    friend bool operator==(const ModbusAttribute&, const ModbusAttribute&) = default;
};

// Optional per-source schema for a received key (`attributes:` of a serial-nodes source).
struct ReceivedAttribute {
    std::string key;                  // the key as received, e.g. "temp"
    std::string name;                 // published attribute name; defaults to `key`
    double scale = 1.0;
    double offset = 0.0;
    std::optional<int> round;
    std::string unit;
    AttributeMeaning meaning;         // quantity, counter, Home Assistant overrides
    bool ignore = false;              // drop this key
    Position where;

    friend bool operator==(const ReceivedAttribute&, const ReceivedAttribute&) = default;
};

// A node's attributes: an immutable list shared by every node that has the same one (all the
// nodes of a model without overrides share their model's), copied only when changed. Reads
// like a const std::vector; the non-const accessors copy first when the list is shared.
class ModbusAttributeTable {
  public:
    using const_iterator = std::vector<ModbusAttribute>::const_iterator;

    ModbusAttributeTable() = default;
    ModbusAttributeTable(std::vector<ModbusAttribute> attributes);  // NOLINT: a list is a table
    ModbusAttributeTable(std::initializer_list<ModbusAttribute> attributes);

    const_iterator begin() const { return list().begin(); }
    const_iterator end() const { return list().end(); }
    std::size_t size() const { return items_ ? items_->size() : 0; }
    bool empty() const { return size() == 0; }
    const ModbusAttribute& operator[](std::size_t i) const { return list()[i]; }
    const ModbusAttribute& at(std::size_t i) const { return list().at(i); }
    const ModbusAttribute& front() const { return list().front(); }
    const ModbusAttribute& back() const { return list().back(); }
    const std::vector<ModbusAttribute>& list() const;

    // Copy-on-write access: copies the list first when another table shares it.
    ModbusAttribute& operator[](std::size_t i) { return edit()[i]; }
    ModbusAttribute& back() { return edit().back(); }
    void push_back(ModbusAttribute attribute) { edit().push_back(std::move(attribute)); }
    std::vector<ModbusAttribute>& edit();

    // True when both tables are the very same shared list (not merely equal).
    bool shares_with(const ModbusAttributeTable& other) const { return items_ == other.items_; }

    friend bool operator==(const ModbusAttributeTable& a, const ModbusAttributeTable& b) {
        return a.items_ == b.items_ || a.list() == b.list();
    }

  private:
    std::shared_ptr<const std::vector<ModbusAttribute>> items_;
};

// A device model's document: where its register map was taken from.
struct Datasheet {
    std::string title;                // e.g. "SDM630-Modbus V2 user manual"
    std::string version;              // the document's version or date
    std::string url;

    friend bool operator==(const Datasheet&, const Datasheet&) = default;
};

// One register of a model's `identify: registers:` list: a value only this device holds
// there (a maker's product code register). It is read alone (one request of its own width),
// as some devices answer such registers only so.
struct IdentifyRegister {
    ModbusTable table = ModbusTable::holding;  // input or holding
    std::uint16_t address = 0;                 // zero-based, as on the wire
    ModbusType type = ModbusType::uint16;      // an integer type (int16 .. uint64)
    WordOrder word_order = WordOrder::big;
    // The values that identify the device: `values:` each as [v, v], or `min:`/`max:` as
    // one range (an absent bound is the type's own). Never empty once loaded.
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
    Position where;

    // Whether `value` is one of the identifying values.
    bool accepts(std::int64_t value) const;

    friend bool operator==(const IdentifyRegister&, const IdentifyRegister&) = default;
};

// `identify:` of a model (docs/models.md, "Recognising a device"): how `nodebridge scan`
// tells this device from others. The device is this model when every given check holds:
// the Read Device Identification (function 43 / MEI 14) objects equal the given strings
// (`revision` as a prefix of the device's), and every register holds one of its values.
struct ModelIdentity {
    std::string vendor;        // VendorName (object 0x00); empty = not checked
    std::string product_code;  // ProductCode (object 0x01); empty = not checked
    std::string revision;      // MajorMinorRevision (object 0x02), a prefix; empty = any
    std::vector<IdentifyRegister> registers;
    Position where;            // the `identify:` key

    // True when it names no check at all (a model without `identify:`).
    bool empty() const { return vendor.empty() && product_code.empty() && registers.empty(); }

    friend bool operator==(const ModelIdentity&, const ModelIdentity&) = default;
};

// `models:` (docs/models.md): a named register map with what describes the device. Nodes
// built from a model share its attribute table.
struct DeviceModel {
    std::string name;                 // the key under `models:`, e.g. "eastron-sdm630"
    std::string manufacturer;         // e.g. "Eastron"
    std::string model;                // the device, e.g. "SDM630-Modbus V2"
    std::string description;
    Datasheet datasheet;
    // Source-level hints the device needs (unset = the source's own setting).
    std::optional<std::uint16_t> max_registers;  // largest registers per read request
    std::optional<std::uint16_t> max_gap;        // unmapped registers one request may span
    std::optional<Millis> request_gap;           // pause the device needs between requests
    ModbusAttributeTable attributes;  // for Modbus nodes; may be empty for a receiver's model
    std::vector<ReceivedAttribute> received;       // schema for serial-nodes sources
    ModelIdentity identify;           // `identify:`; empty when the model has none
    Position where;                   // the model's key in its file
    std::vector<Position> replaced;   // earlier definitions of the same name it overrides

    friend bool operator==(const DeviceModel&, const DeviceModel&) = default;
};

// A shared, immutable DeviceModel that compares by value (a reload that reads the same model
// again changes nothing).
class ModelRef {
  public:
    ModelRef() = default;
    explicit ModelRef(std::shared_ptr<const DeviceModel> model) : model_(std::move(model)) {}
    explicit operator bool() const { return model_ != nullptr; }
    const DeviceModel& operator*() const { return *model_; }
    const DeviceModel* operator->() const { return model_.get(); }
    const std::shared_ptr<const DeviceModel>& shared() const { return model_; }

    friend bool operator==(const ModelRef& a, const ModelRef& b) {
        return a.model_ == b.model_ || (a.model_ && b.model_ && *a.model_ == *b.model_);
    }

  private:
    std::shared_ptr<const DeviceModel> model_;
};

struct ModbusNode {
    std::string id;                   // node id used in topics, e.g. "pdu-1"
    int unit = 1;                     // Modbus unit (slave) id, 0..247 (255 allowed for TCP)
    Millis poll{1000};                // poll interval of the attributes without a `poll:`
    // Overrides the source's; longer than fastest_interval().
    std::optional<Millis> offline_after;
    ModbusAttributeTable attributes;  // the model's (shared) plus the node's own, less `without`
    ModelRef model;                   // `model:`; unset when the node names none
    std::optional<Millis> request_gap;  // overrides the model's and the source's request_gap
    std::optional<int> retries;       // overrides the source's retries
    bool from_range = false;          // expanded from a `units:` range entry at `where`
    Position where;

    friend bool operator==(const ModbusNode&, const ModbusNode&) = default;
};

// How often `attribute` of `node` is read: its own `poll:`, else the node's.
Millis read_interval(const ModbusNode& node, const ModbusAttribute& attribute);
// The shortest interval at which any of `node`'s attributes is read (the node's poll when it
// has none): what its availability (offline_after) is measured against.
Millis fastest_interval(const ModbusNode& node);

// How requests and replies travel on a modbus-tcp connection.
enum class TcpFraming {
    mbap,  // Modbus TCP: the MBAP header, replies matched by transaction id
    rtu,   // Modbus RTU frames with their CRC, to a serial device server: one at a time
};

struct ModbusTcpEndpoint {
    std::string host;                 // required
    int port = 502;
    int max_in_flight = 1;            // requests outstanding on the connection at once (1..64)
    TcpFraming framing = TcpFraming::mbap;

    friend bool operator==(const ModbusTcpEndpoint&, const ModbusTcpEndpoint&) = default;
};

enum class Parity { none, even, odd };
enum class FlowControl { none, rtscts, xonxoff };

struct SerialLine {
    std::string device;               // required, e.g. /dev/ttyUSB0
    int baud = 9600;
    Parity parity = Parity::none;
    int data_bits = 8;                // 5..8
    int stop_bits = 1;                // 1 or 2
    FlowControl flow_control = FlowControl::none;

    friend bool operator==(const SerialLine&, const SerialLine&) = default;
};

struct ModbusSourceConfig {
    std::variant<ModbusTcpEndpoint, SerialLine> link;  // modbus-tcp or modbus-rtu
    Millis timeout{1000};             // response timeout per request
    std::uint16_t max_gap = 0;        // unmapped registers/bits one request may span
    // A node that returned no reading for this long is offline; unset (and not set on the
    // node): max(3x the node's fastest_interval(), 30 s).
    std::optional<Millis> offline_after;
    // Wire behaviour (docs/configuration.md, "Modbus on a real line").
    std::uint16_t max_registers = 125;  // registers per read request at most (1..125);
                                        // a node's model may lower it
    Millis request_gap{0};            // extra pause before every request, beyond RTU's t3.5
    int retries = 0;                  // repeats of a request that got no valid reply (0..10)
    int dead_after = 3;               // failed polls in a row before a unit is dead (0: never)
    Millis dead_poll{30000};          // poll interval of a dead unit until it answers
    std::vector<ModbusNode> nodes;

    friend bool operator==(const ModbusSourceConfig&, const ModbusSourceConfig&) = default;
};

// How a `serial-nodes` receiver's line becomes node id + attributes.
enum class LineFormat { kv, json, csv, regex };


// A polled receiver: `send` is written on the line every `every`.
struct LinePoll {
    std::string send;                 // escape sequences (\r \n \t \xNN) decoded at load
    Millis every{0};

    friend bool operator==(const LinePoll&, const LinePoll&) = default;
};

// One entry of a serial-nodes source's `models:`: nodes whose id matches `nodes` take this
// schema instead of the source's `attributes` (docs/models.md).
struct NodeSchema {
    std::string nodes;                // glob over node ids, e.g. "env-*"
    ModelRef model;                   // the model whose `received:` schema this is
    std::vector<ReceivedAttribute> attributes;  // the model's schema, then the source's own
                                                // `attributes:` replacing the same keys
    Position where;

    friend bool operator==(const NodeSchema&, const NodeSchema&) = default;
};

struct SerialNodesSourceConfig {
    SerialLine line;
    std::size_t max_line = 1024;      // longer lines are dropped and counted
    LineFormat format = LineFormat::kv;
    std::vector<std::string> columns; // csv: column names, one must be the node key
    std::string pattern;              // regex: PCRE2 with named groups, (?<node>...) required
    std::string node_key;             // empty = "node", then "id"
    std::string time_key;             // empty = receive time; else epoch seconds or ISO 8601
    // The schema of every node: the `model:`'s `received:` entries, then the source's own
    // `attributes:` (a key given in both: the source's).
    std::vector<ReceivedAttribute> attributes;
    ModelRef model;                   // `model:`; unset when the source names none
    std::vector<NodeSchema> node_models;  // `models:`; the first whose glob matches a node's
                                          // id gives its schema instead of `attributes`
    std::optional<LinePoll> poll;
    std::optional<Millis> offline_after;  // default: 3x observed interval, at least 30 s

    friend bool operator==(const SerialNodesSourceConfig&, const SerialNodesSourceConfig&) = default;
};

struct SourceConfig {
    std::string name;                 // unique among sources
    std::string type;                 // "modbus-tcp", "modbus-rtu", "serial-nodes"
    std::variant<ModbusSourceConfig, SerialNodesSourceConfig> settings;
    Position where;

    friend bool operator==(const SourceConfig&, const SourceConfig&) = default;
};

// ---- mappings ------------------------------------------------------------------------

enum class PayloadForm { value, json };

struct MappingRule {
    std::string name;                 // unique among rules; defaults to "rule-N" (1-based)
    std::string match_source = "*";   // glob over source names
    std::string match_node = "*";     // glob over node ids
    std::vector<std::string> attributes;  // names or globs; empty selects all
    std::string topic;                // template: {gateway} {source} {node} {attribute} {unit}
    PayloadForm payload = PayloadForm::json;
    int qos = 0;
    bool retain = false;
    bool on_change = false;           // publish only when the value changed
    double deadband = 0.0;            // with on_change: numbers must move more than this
    Millis heartbeat{0};              // 0 = none; republish unchanged values at least this often
    Millis min_interval{0};           // 0 = none; at most one message per this, latest wins
    std::string availability_topic;   // template: {gateway} {source} {node}; empty = none.
                                      // Gets "online"/"offline" (retained, QoS 1) when a
                                      // matching node comes online or goes offline
    std::string command_topic;        // template: the above plus {topic} (this rule's topic for
                                      // the attribute); empty = none. Commands for the rule's
                                      // attributes of Modbus nodes arrive there; only
                                      // `writable` attributes accept them. Results go to
                                      // "<command topic>/result"
    bool sparkplug = false;           // `sparkplug: true`: the rule feeds the Sparkplug edge
                                      // node (docs/sparkplug.md); see SparkplugConfig::all_rules
    bool homeassistant = true;        // `homeassistant: false`: Home Assistant discovery
                                      // announces nothing of this rule's readings
    Position where;

    // True when the topic template holds {attribute}: one message per attribute.
    bool per_attribute() const;

    friend bool operator==(const MappingRule&, const MappingRule&) = default;
};

// ---- mqtt ----------------------------------------------------------------------------

struct HealthConfig {
    std::string topic;                // default "nodebridge/{gateway}/status", expanded at load
    std::string online = "online";
    std::string offline = "offline";
    std::string degraded;  // sent instead of `online` while the configured spool
                           // (mqtt.buffer.dir) cannot be used; "" = send `online`
    int qos = 1;
    bool retain = true;

    friend bool operator==(const HealthConfig&, const HealthConfig&) = default;
};

// ---- mqtt: store-and-forward and failover (docs/operations.md) ----------------------------

// What the disk spool does when a new QoS 1/2 message would take it past max_bytes.
enum class SpoolOnFull {
    drop_oldest,  // delete the oldest segment file (its unsent messages are counted as dropped)
    drop_newest,  // refuse the new message (counted as dropped)
};

// `mqtt.buffer`: where QoS 1/2 messages wait for the broker's acknowledgement.
struct BufferConfig {
    std::string dir = "/var/lib/nodebridge/spool";  // the disk spool; empty = memory only
    std::uint64_t max_bytes = 256ull << 20;  // spool size bound (all segment files), 256 MiB
    Millis max_age{0};                        // 0 = none; older messages are dropped unsent
    SpoolOnFull on_full = SpoolOnFull::drop_oldest;
    bool required = false;  // true: the daemon refuses to start (exit 78), or a reload to
                            // apply, when the spool cannot be used, rather than run without

    friend bool operator==(const BufferConfig&, const BufferConfig&) = default;
};

// One broker of `mqtt.hosts`.
struct BrokerAddress {
    std::string host;
    int port = 1883;

    friend bool operator==(const BrokerAddress&, const BrokerAddress&) = default;
};

// ---- mqtt: TLS and credentials (docs/security.md) ------------------------------------------

// `mqtt.tls`: TLS to the broker. The broker's certificate is verified unless `insecure`.
struct TlsConfig {
    std::string ca_file;              // PEM file of the CAs trusted to sign the broker's
                                      // certificate; with ca_path empty too, the system's CAs
    std::string ca_path;              // or a directory of hashed CA certificates (c_rehash)
    std::string cert_file;            // client certificate (PEM) for mutual TLS; needs key_file
    std::string key_file;             // its private key (PEM, not encrypted)
    std::string min_version = "1.2";  // oldest TLS version offered: "1.2" or "1.3"
    std::string ciphers;              // OpenSSL cipher list (TLS 1.2); empty = OpenSSL's default
    bool verify_hostname = true;      // the certificate must name the host connected to
    bool insecure = false;            // true: no certificate check at all (warned at each connect)

    friend bool operator==(const TlsConfig&, const TlsConfig&) = default;
};

// Where MqttConfig::password came from, so summaries can say so without showing it.
enum class PasswordSource { none, inline_text, file, credential };

struct MqttConfig {
    std::string host = "localhost";
    int port = 1883;
    std::string client_id;            // default "nodebridge-{gateway}", expanded at load
    Millis keepalive{60000};
    int protocol = 4;                 // 4 = MQTT 3.1.1, 5 = MQTT 5 (written "3.1.1" / "5")
    std::string username;             // empty = no authentication
    std::string password;             // the secret itself, whatever its source; never printed
    HealthConfig health;

    // TLS and credentials: `tls`, `password_file`, `password_credential`.
    std::optional<TlsConfig> tls;     // absent = plain TCP; set: `port` defaults to 8883
    PasswordSource password_source = PasswordSource::none;
    std::string password_file;        // `password_file`, resolved against the config's directory
    std::string password_credential;  // `password_credential`: a name in $CREDENTIALS_DIRECTORY

    // Store-and-forward and failover.
    BufferConfig buffer;
    std::vector<BrokerAddress> hosts;  // brokers tried in turn; empty = the one host/port above
    Millis reconnect_max{30000};       // reconnect backoff ceiling (it starts at 500 ms)

    friend bool operator==(const MqttConfig&, const MqttConfig&) = default;
};

// The retained stats topic for dashboards (docs/topics.md lists its fields).
struct StatsConfig {
    std::string topic;                // default "nodebridge/{gateway}/stats", expanded at load
    Millis interval{10000};           // how often it is published
    bool enabled = true;              // false: no stats topic

    friend bool operator==(const StatsConfig&, const StatsConfig&) = default;
};

// ---- http (docs/http.md) --------------------------------------------------------------------
// The top-level `http:` section: the read-only status page, JSON API and Prometheus /metrics.
struct HttpConfig {
    std::string address = "127.0.0.1";  // listen: the address to bind (IPv4 or [IPv6])
    int port = 9108;                    // listen: the TCP port
    int max_connections = 64;           // connections open at once; more are refused
    Millis timeout{10000};              // a connection idle this long is closed (slow clients)
    bool metrics_readings = false;      // metrics.readings: each attribute's last value
    std::string static_dir = "/usr/share/nodebridge/http";  // the status page's files
    std::size_t history = 120;          // recent readings kept per attribute for the chart
    // Basic authentication: every request needs `username` and `password` when a password is
    // set. The password comes from password_file or password_credential (never inline), is
    // read at load and is never shown anywhere.
    std::string username;
    std::string password;
    std::string password_file;        // where it came from (for --check-config)
    std::string password_credential;
    // tls: HTTPS with this certificate chain and private key (PEM files), read at start.
    std::string tls_cert_file;
    std::string tls_key_file;

    friend bool operator==(const HttpConfig&, const HttpConfig&) = default;
};

// ---- sparkplug (docs/sparkplug.md) ---------------------------------------------------------
// The top-level `sparkplug:` section: a Sparkplug B 3.0 edge node beside the rules' topics.
struct SparkplugConfig {
    std::string group_id;             // required; no '/', '+', '#'
    std::string edge_node_id;         // default the gateway name; no '/', '+', '#'
    std::string primary_host_id;      // empty = none; else wait for its STATE before births
    bool all_rules = false;           // `rules: all`: every rule feeds it; default only the
                                      // rules with `sparkplug: true`
    Position where;                   // the `sparkplug:` key
    friend bool operator==(const SparkplugConfig&, const SparkplugConfig&) = default;
};

// ---- homeassistant (docs/homeassistant.md) ------------------------------------------------

// How discovery messages are laid out for Home Assistant.
enum class DiscoveryMode {
    device,  // one retained message per device: <prefix>/device/<id>/config (HA 2024.12+)
    entity,  // one per entity: <prefix>/<component>/<device id>/<object id>/config (older HA,
             // openHAB's Home Assistant binding)
};

// The top-level `homeassistant:` section: MQTT discovery, off unless the section is present.
struct HomeAssistantConfig {
    std::string discovery_prefix = "homeassistant";  // Home Assistant's discovery prefix
    std::string status_topic;         // Home Assistant's birth topic; default
                                      // "<discovery_prefix>/status", filled in at load.
                                      // "online" there makes the bridge announce again
    DiscoveryMode mode = DiscoveryMode::device;
    Position where;                   // the section's key

    friend bool operator==(const HomeAssistantConfig&, const HomeAssistantConfig&) = default;
};

// ---- the whole file ------------------------------------------------------------------

struct Config {
    std::string gateway;              // required; used in topics and the client id
    MqttConfig mqtt;
    StatsConfig stats;
    std::vector<SourceConfig> sources;
    std::vector<MappingRule> mappings;
    std::optional<SparkplugConfig> sparkplug;  // absent = no Sparkplug
    std::optional<HomeAssistantConfig> homeassistant;  // unset: no discovery
    std::optional<HttpConfig> http;   // unset: no HTTP endpoint (docs/http.md)
    // Every model known after precedence (library dir, site dir, then `models:` in config
    // files; a later one of the same name replaces an earlier one), sorted by name.
    std::vector<ModelRef> models;
    std::vector<std::string> files;   // the main file, every included file and every model
                                      // file read, in load order
};

// Where models come from besides the config's own `models:`.
// A key the loader knows in one of the maps it read.
struct ConfigKey {
    std::string map;  // the map, as messages name it: "mqtt", "modbus-tcp source 'pdu-bus'"
    std::string key;  // "keepalive"
};

struct LoadOptions {
    // Directories whose *.yaml files (each a `models:` map) are read, in this order, before
    // the config; a later definition of a name replaces an earlier one. Empty: none (what
    // tests use); nodebridged passes default_model_dirs() unless given --model-dir.
    std::vector<std::string> model_dirs;
    // When set, every key the loader looks up in a map it reads (whether the file has it or
    // not, i.e. every key that map accepts) is added here. Null: nothing is recorded. For the
    // test that every accepted key is documented (tests/docs/documented_test.cpp).
    std::vector<ConfigKey>* known_keys = nullptr;
};

// The shipped library then the site's own: {"<datadir>/nodebridge/models",
// "/etc/nodebridge/models"}, datadir being the install prefix's (e.g. /usr/share).
std::vector<std::string> default_model_dirs();

struct LoadResult {
    std::optional<Config> config;     // set when errors is empty
    std::vector<ConfigError> errors;  // every error found, in file order
    std::vector<ConfigError> warnings;  // accepted but unwise (e.g. an inline password)
};

// Reads the model files of `options`, then `path` and its includes, and validates
// everything. Never throws.
LoadResult load_config(const std::string& path, const LoadOptions& options = {});

// Reads only the model files of `options` (no config file): a Config whose `models` and
// `files` are set, or the errors. For --list-models without a config. Never throws.
LoadResult load_models(const LoadOptions& options);

// Parses "250ms", "1s", "5m", "1h" (a positive whole number and a unit).
std::optional<Millis> parse_duration(std::string_view text);

// The human summary --check-config prints for a valid config: sources, nodes,
// attributes, rules, and each rule's topic pattern.
std::string describe(const Config& config);

// --list-models: one line per model (name, manufacturer, device, Modbus attributes or
// received keys, the file it came from), under a header line.
std::string list_models(const std::vector<ModelRef>& models);

// --show-model: the model as a `models:` YAML map that loads back as the same model, after
// comment lines naming its file and the definitions it replaced.
std::string show_model(const DeviceModel& model);

}  // namespace nodebridge
