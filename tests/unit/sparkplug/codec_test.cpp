// The Sparkplug B codec: every scalar datatype round-trips through the project's schema,
// in the value field the specification gives it (6.4.16).

#include "codec.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace nodebridge::sparkplug {
namespace {

Metric decoded_one(const Metric& metric) {
    const auto payload = decode(encode(Payload{.timestamp = 1, .seq = 7, .metrics = {metric}}));
    EXPECT_TRUE(payload.has_value());
    if (!payload) return {};
    EXPECT_EQ(payload->seq, 7u);
    EXPECT_EQ(payload->timestamp, 1u);
    EXPECT_EQ(payload->metrics.size(), 1u);
    return payload->metrics.empty() ? Metric{} : payload->metrics.front();
}

struct Case {
    DataType type;
    MetricValue value;
};

TEST(Codec, EveryScalarTypeRoundTripsWithItsDatatype) {
    const Case cases[] = {
        {DataType::int8, std::int64_t(-128)},
        {DataType::int8, std::int64_t(127)},
        {DataType::int16, std::int64_t(-32768)},
        {DataType::int16, std::int64_t(12345)},
        {DataType::int32, std::int64_t(std::numeric_limits<std::int32_t>::min())},
        {DataType::int64, std::numeric_limits<std::int64_t>::min()},
        {DataType::int64, std::numeric_limits<std::int64_t>::max()},
        {DataType::uint8, std::uint64_t(255)},
        {DataType::uint16, std::uint64_t(65535)},
        {DataType::uint32, std::uint64_t(4294967295u)},
        {DataType::uint64, std::numeric_limits<std::uint64_t>::max()},
        {DataType::float32, 230.5},
        {DataType::float64, 0.1},
        {DataType::boolean, true},
        {DataType::boolean, false},
        {DataType::string, std::string("hello \0 world", 13)},
        {DataType::text, std::string("text")},
        {DataType::datetime, std::uint64_t(1764300000000)},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(to_string(c.type)));
        const Metric m = decoded_one(Metric{.name = "m",
                                            .alias = 5,
                                            .timestamp = 99,
                                            .type = c.type,
                                            .send_datatype = true,
                                            .value = c.value});
        EXPECT_EQ(m.name, "m");
        EXPECT_EQ(m.alias, 5u);
        EXPECT_EQ(m.timestamp, 99u);
        EXPECT_EQ(m.type, c.type);
        EXPECT_TRUE(m.send_datatype);
        EXPECT_EQ(m.value, c.value);
    }
}

TEST(Codec, SmallSignedTypesAreTwosComplementInIntValue) {
    // Without the datatype (a DDATA), an Int16 -2 arrives as the uint32 0xFFFFFFFE.
    const Metric m =
        decoded_one(Metric{.alias = 1, .type = DataType::int16, .value = std::int64_t(-2)});
    EXPECT_FALSE(m.send_datatype);
    EXPECT_EQ(m.value, MetricValue(std::uint64_t(0xFFFFFFFEu)));
    EXPECT_EQ(value_as(m.value, DataType::int32), MetricValue(std::int64_t(-2)));
}

TEST(Codec, OutOfRangeValuesAreClampedAndTextForANumberIsNull) {
    EXPECT_EQ(
        decoded_one(Metric{.type = DataType::int16, .send_datatype = true, .value = 1e9}).value,
        MetricValue(std::int64_t(32767)));
    EXPECT_EQ(decoded_one(
                  Metric{.type = DataType::uint8, .send_datatype = true, .value = std::int64_t(-5)})
                  .value,
              MetricValue(std::uint64_t(0)));
    EXPECT_EQ(decoded_one(
                  Metric{.type = DataType::int32, .send_datatype = true, .value = std::string("x")})
                  .value,
              MetricValue(std::monostate{}));
    EXPECT_EQ(decoded_one(Metric{.type = DataType::float64, .send_datatype = true}).value,
              MetricValue(std::monostate{}));
}

TEST(Codec, PropertiesAndHistoricalFlagSurvive) {
    const Metric m = decoded_one(Metric{.name = "v",
                                        .type = DataType::float64,
                                        .send_datatype = true,
                                        .is_historical = true,
                                        .value = 1.0,
                                        .properties = {{"engUnit", "V"}}});
    EXPECT_TRUE(m.is_historical);
    ASSERT_EQ(m.properties.size(), 1u);
    EXPECT_EQ(m.properties[0].first, "engUnit");
    EXPECT_EQ(m.properties[0].second, "V");
}

TEST(Codec, NoSeqWhenAbsent) {
    const auto payload = decode(encode(Payload{}));
    ASSERT_TRUE(payload);
    EXPECT_FALSE(payload->seq);
    EXPECT_FALSE(payload->timestamp);
}

TEST(Codec, GarbageAndOversizeAreRefused) {
    EXPECT_FALSE(decode(std::string("\xff\xff\xff\xff\xff", 5)));
    EXPECT_FALSE(decode(std::string(kMaxDecodedBytes + 1, '\0')));
}

TEST(Codec, ValueAsChecksRangeAndKind) {
    EXPECT_EQ(value_as(MetricValue(2.0), DataType::uint16), MetricValue(std::uint64_t(2)));
    EXPECT_FALSE(value_as(MetricValue(2.5), DataType::uint16));
    EXPECT_FALSE(value_as(MetricValue(std::int64_t(70000)), DataType::int16));
    EXPECT_FALSE(value_as(MetricValue(std::uint64_t(1) << 40), DataType::uint32));
    EXPECT_FALSE(value_as(MetricValue(true), DataType::float64));
    EXPECT_FALSE(value_as(MetricValue(1.0), DataType::boolean));
    EXPECT_EQ(value_as(MetricValue(std::uint64_t(3)), DataType::float32), MetricValue(3.0));
    EXPECT_FALSE(value_as(MetricValue(std::monostate{}), DataType::boolean));
}

}  // namespace
}  // namespace nodebridge::sparkplug
