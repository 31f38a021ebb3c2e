// parse_command_payload: bare scalars and {"value": ...}, and everything else refused.

#include <gtest/gtest.h>

#include <string>

#include "nodebridge/command.hpp"

namespace nodebridge {
namespace {

Value parsed(std::string_view payload) {
    auto result = parse_command_payload(payload);
    if (auto* reason = std::get_if<std::string>(&result)) {
        ADD_FAILURE() << "'" << payload << "' refused: " << *reason;
        return Value{std::string("refused")};
    }
    return std::get<Value>(result);
}

std::string refused(std::string_view payload) {
    auto result = parse_command_payload(payload);
    if (auto* reason = std::get_if<std::string>(&result)) return *reason;
    ADD_FAILURE() << "'" << payload << "' was accepted";
    return {};
}

TEST(CommandPayload, BareNumbersAreDoubles) {
    EXPECT_EQ(parsed("42"), Value{42.0});
    EXPECT_EQ(parsed("-1.5"), Value{-1.5});
    EXPECT_EQ(parsed("0"), Value{0.0});
    EXPECT_EQ(parsed("2.5e3"), Value{2500.0});
    EXPECT_EQ(parsed("1E-2"), Value{0.01});
    EXPECT_EQ(parsed("12345678901234567890"), Value{12345678901234567890.0});
}

TEST(CommandPayload, BareBooleans) {
    EXPECT_EQ(parsed("true"), Value{true});
    EXPECT_EQ(parsed("false"), Value{false});
}

TEST(CommandPayload, SurroundingWhitespaceIsAllowed) {
    EXPECT_EQ(parsed(" \t42\r\n"), Value{42.0});
    EXPECT_EQ(parsed("\n true "), Value{true});
}

TEST(CommandPayload, ObjectWithValueKey) {
    EXPECT_EQ(parsed(R"({"value": 7})"), Value{7.0});
    EXPECT_EQ(parsed(R"({"value":false})"), Value{false});
    EXPECT_EQ(parsed(" { \"value\" : -0.25 } \n"), Value{-0.25});
}

TEST(CommandPayload, EmptyAndWhitespaceOnlyAreRefused) {
    EXPECT_EQ(refused(""), "the payload is empty");
    EXPECT_EQ(refused("  \n"), "the payload is empty");
}

TEST(CommandPayload, NonJsonNumbersAreRefused) {
    for (const char* payload : {"+1", "01", ".5", "1.", "1e", "-", "0x10", "1,5", "--1", "1e+"}) {
        SCOPED_TRACE(payload);
        refused(payload);
    }
}

TEST(CommandPayload, NonFiniteNumbersAreRefused) {
    EXPECT_EQ(refused("1e999"), "the number is out of range");
    EXPECT_EQ(refused("-1e400"), "the number is out of range");
    refused("NaN");
    refused("nan");
    refused("Infinity");
    refused("-Infinity");
    refused("inf");
}

TEST(CommandPayload, OtherJsonValuesAreRefused) {
    EXPECT_EQ(refused(R"("42")"), "strings are not accepted: send a number, true or false");
    EXPECT_EQ(refused("null"), "null is not a value");
    EXPECT_EQ(refused("[1]"), "nested objects and lists are not accepted");
    EXPECT_EQ(refused("True"), "expected a number, true or false");
    refused("on");
}

TEST(CommandPayload, TrailingBytesAreRefused) {
    EXPECT_EQ(refused("42 43"), "unexpected bytes after the value");
    EXPECT_EQ(refused("truex"), "unexpected bytes after the value");
    EXPECT_EQ(refused(R"({"value": 1} x)"), "unexpected bytes after the value");
    EXPECT_EQ(refused(std::string_view("1\0", 2)), "unexpected bytes after the value");
}

TEST(CommandPayload, ObjectsOtherThanOneValueKeyAreRefused) {
    const std::string one_key = "an object must hold exactly one key, \"value\"";
    EXPECT_EQ(refused("{}"), one_key);
    EXPECT_EQ(refused(R"({"v": 1})"), one_key);
    EXPECT_EQ(refused(R"({"Value": 1})"), one_key);
    EXPECT_EQ(refused(R"({"value": 1, "value": 2})"), one_key);
    EXPECT_EQ(refused(R"({"value": 1, "x": 2})"), one_key);
    EXPECT_EQ(refused(R"({"value" 1})"), "expected ':' after \"value\"");
    EXPECT_EQ(refused(R"({"value": 1)"), "expected '}' after the value");
    EXPECT_EQ(refused(R"({"value": {"value": 1}})"), "nested objects and lists are not accepted");
    EXPECT_EQ(refused(R"({"value": "1"})"),
              "strings are not accepted: send a number, true or false");
    EXPECT_EQ(refused(R"({"value": })"), "expected a number, true or false");
    EXPECT_EQ(refused(R"({"value":)"), "expected a value");
}

TEST(CommandPayload, LongPayloadsAreRefusedUnread) {
    const std::string longest = std::string(kMaxCommandPayload - 1, ' ') + "1";
    EXPECT_EQ(parsed(longest), Value{1.0});
    EXPECT_EQ(refused(longest + " "), "the payload is longer than 256 bytes");
}

}  // namespace
}  // namespace nodebridge
