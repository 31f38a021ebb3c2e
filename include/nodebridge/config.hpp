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
#include <optional>
#include <string>
#include <variant>
#include <vector>

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
// The shortest text that reads back as `value` ("0.1", "70000", "-1e+39"), for messages
// about configured values and commands.
std::string number_text(double value);

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

struct ModbusNode {
    std::string id;                   // node id used in topics, e.g. "pdu-1"
    int unit = 1;                     // Modbus unit (slave) id, 0..247 (255 allowed for TCP)
    Millis poll{1000};                // poll interval
    std::optional<Millis> offline_after;  // overrides the source's; longer than `poll`
    std::vector<ModbusAttribute> attributes;
    Position where;

    friend bool operator==(const ModbusNode&, const ModbusNode&) = default;
};

struct ModbusTcpEndpoint {
    std::string host;                 // required
    int port = 502;

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
    // node): max(3x the node's poll, 30 s).
    std::optional<Millis> offline_after;
    std::vector<ModbusNode> nodes;

    friend bool operator==(const ModbusSourceConfig&, const ModbusSourceConfig&) = default;
};

// How a `serial-nodes` receiver's line becomes node id + attributes.
enum class LineFormat { kv, json, csv, regex };

// Optional per-source schema for a received key (`attributes:` of a serial-nodes source).
struct ReceivedAttribute {
    std::string key;                  // the key as received, e.g. "temp"
    std::string name;                 // published attribute name; defaults to `key`
    double scale = 1.0;
    double offset = 0.0;
    std::optional<int> round;
    std::string unit;
    bool ignore = false;              // drop this key
    Position where;

    friend bool operator==(const ReceivedAttribute&, const ReceivedAttribute&) = default;
};

// A polled receiver: `send` is written on the line every `every`.
struct LinePoll {
    std::string send;                 // escape sequences (\r \n \t \xNN) decoded at load
    Millis every{0};

    friend bool operator==(const LinePoll&, const LinePoll&) = default;
};

struct SerialNodesSourceConfig {
    SerialLine line;
    std::size_t max_line = 1024;      // longer lines are dropped and counted
    LineFormat format = LineFormat::kv;
    std::vector<std::string> columns; // csv: column names, one must be the node key
    std::string pattern;              // regex: PCRE2 with named groups, (?<node>...) required
    std::string node_key;             // empty = "node", then "id"
    std::string time_key;             // empty = receive time; else epoch seconds or ISO 8601
    std::vector<ReceivedAttribute> attributes;
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

// ---- the whole file ------------------------------------------------------------------

struct Config {
    std::string gateway;              // required; used in topics and the client id
    MqttConfig mqtt;
    StatsConfig stats;
    std::vector<SourceConfig> sources;
    std::vector<MappingRule> mappings;
    std::vector<std::string> files;   // the main file and every included file, in load order
};

struct LoadResult {
    std::optional<Config> config;     // set when errors is empty
    std::vector<ConfigError> errors;  // every error found, in file order
    std::vector<ConfigError> warnings;  // accepted but unwise (e.g. an inline password)
};

// Reads `path` and its includes and validates everything. Never throws.
LoadResult load_config(const std::string& path);

// Parses "250ms", "1s", "5m", "1h" (a positive whole number and a unit).
std::optional<Millis> parse_duration(std::string_view text);

// The human summary --check-config prints for a valid config: sources, nodes,
// attributes, rules, and each rule's topic pattern.
std::string describe(const Config& config);

}  // namespace nodebridge
