#pragma once
// The readers of each part of the config (internal to nb_config). Each reads one YAML node
// into the plain structs of config.hpp, reporting every problem through the Context and
// filling what it can, so the caller can go on checking the rest.

#include <string>
#include <vector>

#include "reader.hpp"

namespace nodebridge::config_detail {

// `mqtt:`; {gateway} in client_id and health.topic is expanded with `gateway`.
void read_mqtt(const YAML::Node& node, const Context& ctx, const std::string& gateway,
               MqttConfig& out);

// The TLS and credential keys of `mqtt:` (tls, username, password, password_file,
// password_credential). Reads the password from its file or systemd credential; names
// files, never secrets, in errors. With `tls` and no `port`, the port becomes 8883.
void read_mqtt_security(MapReader& map, MqttConfig& out);

// The --check-config lines on TLS and login: what protects the link and where the password
// comes from, never the password itself.
std::string describe_mqtt_security(const MqttConfig& mqtt);

// `stats:`; {gateway} in the topic is expanded with `gateway`.
void read_stats(const YAML::Node& node, const Context& ctx, const std::string& gateway,
                StatsConfig& out);

// `sparkplug:` (docs/sparkplug.md); edge_node_id defaults to `gateway`. Sets `out` unless
// the section is `false`/null.
void read_sparkplug(const YAML::Node& node, const Context& ctx, const std::string& gateway,
                    std::optional<SparkplugConfig>& out);

// `homeassistant:` (docs/homeassistant.md): a map, empty, or true/false. Sets `out` unless
// it is false; the status topic defaults to "<discovery_prefix>/status".
void read_homeassistant(const YAML::Node& node, const Context& ctx,
                        std::optional<HomeAssistantConfig>& out);

// The checks of what discovery announces, once everything is loaded: device_class and
// state_class of attributes' `homeassistant:` hints against Home Assistant's classes and the
// attribute's unit (always; the hints' own keys are read with the models), and, with
// discovery on, the topics of rules that take part in it.
void check_homeassistant(const Config& config, Diagnostics& diag);

// `sources:` (a list); appends every source that could be read to `out`.
void read_sources(const YAML::Node& node, const Context& ctx, std::vector<SourceConfig>& out);

// The keys of a modbus-tcp or modbus-rtu source besides name and type.
void read_modbus_source(MapReader& map, const std::string& type, ModbusSourceConfig& out);

// The keys of a serial-nodes source besides name and type.
void read_serial_nodes_source(MapReader& map, SerialNodesSourceConfig& out);

// device, baud, parity, data_bits, stop_bits, flow_control.
void read_serial_line(MapReader& map, SerialLine& out);

// `mappings:` (a list); appends every rule that could be read to `out`.
void read_mappings(const YAML::Node& node, const Context& ctx, std::vector<MappingRule>& out);

// Checks that need every file loaded: unique source names, default and unique rule names.
void check_sources_across_files(const std::vector<SourceConfig>& sources, Diagnostics& diag);
void check_mappings_across_files(std::vector<MappingRule>& rules, Diagnostics& diag);
// Node ids that rules feeding Sparkplug make device ids: no '/', '+' or '#'.
void check_sparkplug_devices(const Config& config, Diagnostics& diag);

// Names (source, node, attribute, rule): at most this long, no control characters.
constexpr std::size_t kMaxNameBytes = 128;

// Reports at `where` and returns false when `name` is empty, too long or holds control
// characters.
bool check_name(const std::string& name, std::string_view key, const Position& where,
                const Context& ctx);

// "L:C" when `where` is in `file`, else "FILE:L:C".
std::string place_from(const Position& where, const std::string& file);

// Decodes \r \n \t \0 \\ \" \' \xNN in `text`. Returns nullopt and sets `error` on an unknown
// or truncated escape.
std::optional<std::string> decode_escapes(std::string_view text, std::string& error);

}  // namespace nodebridge::config_detail
