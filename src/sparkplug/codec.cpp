#include "codec.hpp"

#include <cmath>
#include <limits>

#include "sparkplug_b.pb.h"

namespace nodebridge::sparkplug {
namespace {

using WireMetric = wire::Payload_Metric;

bool is_signed_small(DataType type) {
    return type == DataType::int8 || type == DataType::int16 || type == DataType::int32;
}
bool is_unsigned_small(DataType type) {
    return type == DataType::uint8 || type == DataType::uint16 || type == DataType::uint32;
}
bool is_long(DataType type) {
    return type == DataType::int64 || type == DataType::uint64 || type == DataType::datetime;
}
bool is_known(std::uint32_t type) { return type >= 1 && type <= 14; }

// The range of an integer type.
struct Bounds {
    std::int64_t low;
    std::uint64_t high;
};
Bounds bounds(DataType type) {
    switch (type) {
        case DataType::int8:
            return {-128, 127};
        case DataType::int16:
            return {-32768, 32767};
        case DataType::int32:
            return {-2147483648LL, 2147483647};
        case DataType::int64:
            return {std::numeric_limits<std::int64_t>::min(),
                    std::uint64_t(std::numeric_limits<std::int64_t>::max())};
        case DataType::uint8:
            return {0, 255};
        case DataType::uint16:
            return {0, 65535};
        case DataType::uint32:
            return {0, 4294967295u};
        default:
            return {0, std::numeric_limits<std::uint64_t>::max()};
    }
}

bool is_signed_type(DataType type) { return is_signed_small(type) || type == DataType::int64; }

// `value` clamped into the integer type's range: int64 for signed types, else uint64.
// nullopt for what is not a number.
std::optional<MetricValue> clamp_integer(const MetricValue& value, DataType type) {
    const Bounds b = bounds(type);
    const bool is_signed = is_signed_type(type);
    std::int64_t low = b.low;
    std::uint64_t high = b.high;
    if (const auto* b_value = std::get_if<bool>(&value)) {
        return is_signed ? MetricValue(std::int64_t(*b_value))
                         : MetricValue(std::uint64_t(*b_value));
    }
    if (const auto* i = std::get_if<std::int64_t>(&value)) {
        if (*i < low) return is_signed ? MetricValue(low) : MetricValue(std::uint64_t(0));
        if (*i >= 0 && std::uint64_t(*i) > high) {
            return is_signed ? MetricValue(std::int64_t(high)) : MetricValue(high);
        }
        return is_signed ? MetricValue(*i) : MetricValue(std::uint64_t(*i));
    }
    if (const auto* u = std::get_if<std::uint64_t>(&value)) {
        const std::uint64_t v = std::min(*u, high);
        return is_signed ? MetricValue(std::int64_t(v)) : MetricValue(v);
    }
    if (const auto* d = std::get_if<double>(&value)) {
        if (!std::isfinite(*d)) return std::nullopt;
        const double r = std::round(*d);
        if (r <= double(low)) return is_signed ? MetricValue(low) : MetricValue(std::uint64_t(0));
        if (r >= double(high))
            return is_signed ? MetricValue(std::int64_t(high)) : MetricValue(high);
        return is_signed ? MetricValue(std::int64_t(r)) : MetricValue(std::uint64_t(r));
    }
    return std::nullopt;
}

// Sign-extends the low `bits` of `raw`.
std::int64_t sign_extend(std::uint64_t raw, int bits) {
    const std::uint64_t mask = bits == 64 ? ~0ull : ((1ull << bits) - 1);
    std::uint64_t v = raw & mask;
    if (bits < 64 && (v >> (bits - 1)) != 0) v |= ~mask;
    return static_cast<std::int64_t>(v);
}

int width(DataType type) {
    switch (type) {
        case DataType::int8:
        case DataType::uint8:
            return 8;
        case DataType::int16:
        case DataType::uint16:
            return 16;
        case DataType::int32:
        case DataType::uint32:
            return 32;
        default:
            return 64;
    }
}

// A value converted for encoding as `type`: an integer type gets int64/uint64 clamped to
// its range, Float/Double a double, Boolean a bool, String/Text a string. nullopt: none.
std::optional<MetricValue> coerce(const MetricValue& value, DataType type) {
    if (is_signed_small(type) || is_unsigned_small(type) || is_long(type)) {
        return clamp_integer(value, type);
    }
    if (type == DataType::float32 || type == DataType::float64) {
        if (const auto* d = std::get_if<double>(&value)) return *d;
        if (const auto* i = std::get_if<std::int64_t>(&value)) return double(*i);
        if (const auto* u = std::get_if<std::uint64_t>(&value)) return double(*u);
        if (const auto* b = std::get_if<bool>(&value)) return double(*b);
        return std::nullopt;
    }
    if (type == DataType::boolean) {
        if (const auto* b = std::get_if<bool>(&value)) return *b;
        return std::nullopt;
    }
    if (type == DataType::string || type == DataType::text) {
        if (const auto* s = std::get_if<std::string>(&value)) return *s;
        return std::nullopt;
    }
    return std::nullopt;
}

void write_value(const MetricValue& value, DataType type, WireMetric& out) {
    std::optional<MetricValue> v;
    if (!std::holds_alternative<std::monostate>(value)) v = coerce(value, type);
    if (!v) {
        out.set_is_null(true);
        return;
    }
    if (is_signed_small(type)) {
        out.set_int_value(static_cast<std::uint32_t>(std::get<std::int64_t>(*v)));
    } else if (is_unsigned_small(type)) {
        out.set_int_value(static_cast<std::uint32_t>(std::get<std::uint64_t>(*v)));
    } else if (type == DataType::int64) {
        out.set_long_value(static_cast<std::uint64_t>(std::get<std::int64_t>(*v)));
    } else if (is_long(type)) {
        out.set_long_value(std::get<std::uint64_t>(*v));
    } else if (type == DataType::float32) {
        out.set_float_value(static_cast<float>(std::get<double>(*v)));
    } else if (type == DataType::float64) {
        out.set_double_value(std::get<double>(*v));
    } else if (type == DataType::boolean) {
        out.set_boolean_value(std::get<bool>(*v));
    } else {
        out.set_string_value(std::get<std::string>(*v));
    }
}

MetricValue read_value(const WireMetric& in, DataType type) {
    if (in.is_null()) return std::monostate{};
    switch (in.value_case()) {
        case WireMetric::kIntValue:
            if (is_signed_small(type)) return sign_extend(in.int_value(), 32);
            return std::uint64_t(in.int_value());
        case WireMetric::kLongValue:
            if (type == DataType::int64) return static_cast<std::int64_t>(in.long_value());
            return std::uint64_t(in.long_value());
        case WireMetric::kFloatValue:
            return double(in.float_value());
        case WireMetric::kDoubleValue:
            return in.double_value();
        case WireMetric::kBooleanValue:
            return in.boolean_value();
        case WireMetric::kStringValue:
            return in.string_value();
        case WireMetric::VALUE_NOT_SET:
            return std::monostate{};
        default:
            return Unsupported{};
    }
}

}  // namespace

std::string_view to_string(DataType type) {
    switch (type) {
        case DataType::int8:
            return "Int8";
        case DataType::int16:
            return "Int16";
        case DataType::int32:
            return "Int32";
        case DataType::int64:
            return "Int64";
        case DataType::uint8:
            return "UInt8";
        case DataType::uint16:
            return "UInt16";
        case DataType::uint32:
            return "UInt32";
        case DataType::uint64:
            return "UInt64";
        case DataType::float32:
            return "Float";
        case DataType::float64:
            return "Double";
        case DataType::boolean:
            return "Boolean";
        case DataType::string:
            return "String";
        case DataType::datetime:
            return "DateTime";
        case DataType::text:
            return "Text";
        case DataType::unknown:
            break;
    }
    return "Unknown";
}

std::string encode(const Payload& payload) {
    wire::Payload out;
    if (payload.timestamp) out.set_timestamp(*payload.timestamp);
    if (payload.seq) out.set_seq(*payload.seq);
    for (const Metric& metric : payload.metrics) {
        WireMetric& m = *out.add_metrics();
        if (!metric.name.empty()) m.set_name(metric.name);
        if (metric.alias) m.set_alias(*metric.alias);
        if (metric.timestamp) m.set_timestamp(*metric.timestamp);
        if (metric.send_datatype) m.set_datatype(static_cast<std::uint32_t>(metric.type));
        if (metric.is_historical) m.set_is_historical(true);
        for (const auto& [key, text] : metric.properties) {
            m.mutable_properties()->add_keys(key);
            auto& value = *m.mutable_properties()->add_values();
            value.set_type(static_cast<std::uint32_t>(DataType::string));
            value.set_string_value(text);
        }
        write_value(metric.value, metric.type, m);
    }
    return out.SerializeAsString();
}

std::optional<Payload> decode(std::string_view bytes) {
    if (bytes.size() > kMaxDecodedBytes) return std::nullopt;
    wire::Payload in;
    if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
    if (static_cast<std::size_t>(in.metrics_size()) > kMaxDecodedMetrics) return std::nullopt;
    Payload out;
    if (in.has_timestamp()) out.timestamp = in.timestamp();
    if (in.has_seq()) out.seq = in.seq();
    out.metrics.reserve(in.metrics_size());
    for (const WireMetric& m : in.metrics()) {
        Metric metric;
        metric.name = m.name();
        if (m.has_alias()) metric.alias = m.alias();
        if (m.has_timestamp()) metric.timestamp = m.timestamp();
        if (m.has_datatype()) {
            metric.send_datatype = true;
            metric.type =
                is_known(m.datatype()) ? static_cast<DataType>(m.datatype()) : DataType::unknown;
        }
        metric.is_historical = m.is_historical();
        if (m.has_properties()) {
            const auto& set = m.properties();
            for (int i = 0; i < set.keys_size() && i < set.values_size(); ++i) {
                const auto& value = set.values(i);
                if (value.value_case() == wire::Payload_PropertyValue::kStringValue) {
                    metric.properties.emplace_back(set.keys(i), value.string_value());
                }
            }
        }
        metric.value = read_value(m, metric.type);
        out.metrics.push_back(std::move(metric));
    }
    return out;
}

std::optional<MetricValue> value_as(const MetricValue& value, DataType type) {
    if (std::holds_alternative<std::monostate>(value) ||
        std::holds_alternative<Unsupported>(value)) {
        return std::nullopt;
    }
    if (is_signed_small(type) || is_unsigned_small(type) || is_long(type)) {
        const Bounds b = bounds(type);
        const bool is_signed = is_signed_type(type);
        const double low = double(b.low);
        const double high = double(b.high);
        if (const auto* u = std::get_if<std::uint64_t>(&value)) {
            // Without a datatype a host's int_value arrives unsigned: take its low bits as
            // the type's two's complement for signed types.
            if (is_signed) {
                if (width(type) == 64) return sign_extend(*u, 64);
                // int_value holds Int8/16/32 as a 32-bit two's complement.
                if ((*u >> 32) != 0) return std::nullopt;
                const std::int64_t v = sign_extend(*u, 32);
                if (v < b.low || v > std::int64_t(b.high)) return std::nullopt;
                return v;
            }
            if (*u > b.high) return std::nullopt;
            return *u;
        }
        if (const auto* i = std::get_if<std::int64_t>(&value)) {
            if (*i < b.low || (*i >= 0 && std::uint64_t(*i) > b.high)) return std::nullopt;
            return is_signed ? MetricValue(*i) : MetricValue(std::uint64_t(*i));
        }
        if (const auto* d = std::get_if<double>(&value)) {
            if (!std::isfinite(*d) || std::trunc(*d) != *d || *d < low || *d > high ||
                (width(type) == 64 && *d >= high)) {
                return std::nullopt;
            }
            return is_signed ? MetricValue(std::int64_t(*d)) : MetricValue(std::uint64_t(*d));
        }
        return std::nullopt;
    }
    if (type == DataType::float32 || type == DataType::float64) {
        if (const auto* d = std::get_if<double>(&value)) return *d;
        if (const auto* i = std::get_if<std::int64_t>(&value)) return double(*i);
        if (const auto* u = std::get_if<std::uint64_t>(&value)) return double(*u);
        return std::nullopt;
    }
    if (type == DataType::boolean) {
        if (const auto* b = std::get_if<bool>(&value)) return *b;
        return std::nullopt;
    }
    if (type == DataType::string || type == DataType::text) {
        if (const auto* s = std::get_if<std::string>(&value)) return *s;
    }
    return std::nullopt;
}

}  // namespace nodebridge::sparkplug
