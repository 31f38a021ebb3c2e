#pragma once
// The readers of each part of the config (internal to nb_config). Each reads one YAML node
// into the plain structs of config.hpp, reporting every problem through the Context and
// filling what it can, so the caller can go on checking the rest.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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

// ---- secrets and files, shared by mqtt: and http: (mqtt_security.cpp) ----
// `path` as written, or joined to the directory of the config file that names it.
std::string resolve(const std::string& path, const Context& ctx);
// Reports at `where` and returns false unless `path` is a readable regular file (or, with
// `directory`, a searchable directory).
bool check_readable(const std::string& path, bool directory, std::string_view key,
                    const Position& where, const Context& ctx);
// The secret in `path` without its final line break, or nullopt after reporting why not;
// with `private_only`, a file group or others may read is refused. Messages name the file,
// never its content.
std::optional<std::string> read_secret(const std::string& path, bool private_only,
                                       std::string_view key, const Position& where,
                                       const Context& ctx);
// The secret in systemd credential `name` (password_credential, reported at `where`): read
// from $CREDENTIALS_DIRECTORY, or nullopt after reporting why not (a name that is no plain
// file name, no such directory set, or a file that cannot be read).
std::optional<std::string> read_credential(const std::string& name, const Position& where,
                                           const Context& ctx);

// `http:` (docs/http.md): a map, empty, or true/false. Sets `out` unless it is false.
// Warns when `listen` is not a loopback address.
void read_http(const YAML::Node& node, const Context& ctx, std::optional<HttpConfig>& out);

// True for 127.0.0.0/8 and ::1 (literals only).
bool is_loopback_address(const std::string& address);

// `sources:` (a list); appends every source that could be read to `out`.
void read_sources(const YAML::Node& node, const Context& ctx, std::vector<SourceConfig>& out);

// The keys of a modbus-tcp or modbus-rtu source besides name and type.
// With `hosts:` (modbus-tcp), `hosts` gets every endpoint the entry stands for, in order, and
// `out.link` the first.
void read_modbus_source(MapReader& map, const std::string& type, ModbusSourceConfig& out,
                        std::vector<ModbusTcpEndpoint>* hosts = nullptr);

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

// A per-node JSON message starts with the keys "node" and "ts" (docs/mapping.md); an
// attribute published under either name would repeat that key. Reports at `where` and
// returns false for those two names.
bool check_attribute_name_free(const std::string& name, std::string_view key, const Position& where,
                               const Context& ctx);

// "L:C" when `where` is in `file`, else "FILE:L:C".
std::string place_from(const Position& where, const std::string& file);

// ---- attributes shared by nodes and models ----------------------------------------------

// One key of a Modbus `attributes:` map (of a node or a model); nullopt after reporting.
std::optional<ModbusAttribute> read_modbus_attribute(const MapReader::Item& item,
                                                     const Context& ctx);

// Reports, at the later of the two, every pair of attributes sharing a register (or bit) of
// the same table. `owner` names them in messages: "node 'pdu-1'", "model 'sdm630'".
void check_overlaps(const std::vector<ModbusAttribute>& attributes, const std::string& owner,
                    const Context& ctx);

// A received-attribute schema map (a serial-nodes source's `attributes:`, a model's
// `received:`): appends every entry that could be read to `out`, and reports two keys that
// publish under one name. `what` names the map in messages.
void read_received_attributes(const YAML::Node& node, const Context& ctx, const std::string& what,
                              std::vector<ReceivedAttribute>& out);

// ---- models and unit ranges (model_reader.cpp, docs/models.md) ----------------------------

// `quantity`, `counter` and `homeassistant` of an attribute (Modbus or received).
void read_meaning(MapReader& map, AttributeMeaning& out);

// The models read so far, by name, in precedence order: add() them in load order (model
// dirs in order, each dir's files sorted, then the config files), freeze() once, then find().
class ModelRegistry {
  public:
    // Adds `model`; an earlier one of the same name is replaced and its place (with the
    // places it replaced) recorded in model.replaced.
    void add(DeviceModel model);
    // Makes every model a shared, immutable ModelRef. Call once, after the last add().
    void freeze();

    // The frozen model called `name`, or an unset ModelRef.
    ModelRef find(std::string_view name) const;
    // Every frozen model, sorted by name.
    std::vector<ModelRef> all() const;
    // Every name, for did-you-mean.
    std::vector<std::string> names() const;

  private:
    std::map<std::string, DeviceModel, std::less<>> pending_;
    std::map<std::string, ModelRef, std::less<>> frozen_;
};

// `models:` of a config or model file: a map of name -> model; adds each to `registry`.
void read_models(const YAML::Node& node, const Context& ctx, ModelRegistry& registry);

// `model:` of a node entry or serial-nodes source: the model named (looked up in
// ctx.models), or an unset ref after reporting an unknown name with a did-you-mean.
ModelRef read_model_name(MapReader& map);

// A Modbus node's attribute table from its model, its own `attributes:` (added, or replacing
// the model's of the same name) and `without:` (names of the model's to drop). A node that
// changes nothing shares the model's table. Reports unknown `without` names and overlaps,
// pointing at the node and naming the model's file.
ModbusAttributeTable merge_model_attributes(MapReader& node_map, const ModelRef& model,
                                            std::vector<ModbusAttribute> own,
                                            const std::string& label);

// `units:` of a node entry: `1-48`, `7` or `[1, 3, 10-20]`, each unit with where it was
// written; nullopt when absent or after reporting a malformed one.
struct UnitList {
    std::vector<int> units;  // in the order written, no duplicates
    Position where;          // the `units:` value
};
std::optional<UnitList> read_units(MapReader& map, bool tcp);

// The id template of a range entry with `unit` filled in: "{unit}" and "{unit:0N}" (padded
// to N digits). nullopt, with `error` set, when the template lacks one or is malformed.
std::optional<std::string> expand_unit_id(std::string_view pattern, int unit, std::string& error);

// A serial-nodes source's `model:` and `models:` (per node-id glob) with its own
// `attributes:` (already in out.attributes): merges the schemas.
void read_serial_models(MapReader& map, SerialNodesSourceConfig& out);

// Decodes \r \n \t \0 \\ \" \' \xNN in `text`. Returns nullopt and sets `error` on an unknown
// or truncated escape.
std::optional<std::string> decode_escapes(std::string_view text, std::string& error);

}  // namespace nodebridge::config_detail
