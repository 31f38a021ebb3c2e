#pragma once
// Sparkplug B payloads in plain C++ types, and their protobuf encoding (sparkplug_b.proto,
// the Sparkplug 3.0.0 specification's schema, chapter 6, "Google Protocol Buffer Schema"). Pure: no I/O. Only the parts
// of the schema an edge node of nodebridge sends or accepts have a C++ form here: scalar
// metrics (the basic types Int8..Text of chapter 6, "Data Types") with string properties. Decoding keeps every
// metric, marking values of other kinds (DataSet, Template, Bytes, ...) as `unsupported`.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace nodebridge::sparkplug {

// Chapter 6, "Data Types": the scalar ones, with the specification's numbers.
enum class DataType : std::uint32_t {
    unknown = 0,
    int8 = 1,
    int16 = 2,
    int32 = 3,
    int64 = 4,
    uint8 = 5,
    uint16 = 6,
    uint32 = 7,
    uint64 = 8,
    float32 = 9,   // "Float"
    float64 = 10,  // "Double"
    boolean = 11,
    string = 12,
    datetime = 13,  // ms since the epoch, in long_value
    text = 14,
};

// "Int16", "Double", ...: the specification's names, for logs and docs.
std::string_view to_string(DataType type);

// Marks a value whose kind this module does not handle (a DataSet, Template, Bytes, ...).
struct Unsupported {
    friend bool operator==(Unsupported, Unsupported) = default;
};

// A metric's value. std::monostate is "no value" (is_null). Signed types are carried as
// int64, unsigned ones (and DateTime) as uint64, Float and Double as double.
using MetricValue = std::variant<std::monostate, std::int64_t, std::uint64_t, double, bool,
                                 std::string, Unsupported>;

struct Metric {
    std::string name;  // empty: not sent (data messages use the alias)
    std::optional<std::uint64_t> alias;
    std::optional<std::uint64_t> timestamp;  // ms since the epoch
    DataType type = DataType::unknown;       // how the value is encoded; see send_datatype
    bool send_datatype = false;              // births: the datatype field is written
    bool is_historical = false;
    MetricValue value;  // monostate: is_null is written instead
    std::vector<std::pair<std::string, std::string>> properties;  // String properties

    friend bool operator==(const Metric&, const Metric&) = default;
};

struct Payload {
    std::optional<std::uint64_t> timestamp;  // ms since the epoch
    std::optional<std::uint64_t> seq;        // absent in NDEATH, NCMD, DCMD
    std::vector<Metric> metrics;

    friend bool operator==(const Payload&, const Payload&) = default;
};

// Encodes `payload`. A value is written in the field its type takes (chapter 6, "Data
// Types", and the value oneof of the schema): Int8..Int32 and UInt8..UInt32 in int_value (signed ones as two's
// complement of their width), Int64/UInt64/DateTime in long_value, Float in float_value,
// Double in double_value, Boolean, and String/Text in string_value. A value of another
// C++ kind than its type is converted (a double for an Int16 is rounded and clamped to
// the type's range); a value that cannot be (text for a number) is sent as is_null.
std::string encode(const Payload& payload);

// Limits on what decode() accepts from the network.
inline constexpr std::size_t kMaxDecodedBytes = 256 * 1024;
inline constexpr std::size_t kMaxDecodedMetrics = 1024;

// Decodes a payload. A metric's `type` is its datatype field (unknown when absent, as in
// most commands) and send_datatype says whether it was there; its value is read from
// whichever value field is set, by the datatype when known: int_value and long_value are
// sign-extended for signed types; without a datatype they come back as uint64. Returns
// nullopt for bytes that are not a Payload, longer than kMaxDecodedBytes or with more than
// kMaxDecodedMetrics metrics.
std::optional<Payload> decode(std::string_view bytes);

// `metric`'s value as `type` would carry it, for a command: integers and floats must be in
// range and of the right kind (a fraction is refused for an integer type), booleans and
// text as such. nullopt when the value cannot be taken as `type`.
std::optional<MetricValue> value_as(const MetricValue& value, DataType type);

}  // namespace nodebridge::sparkplug
