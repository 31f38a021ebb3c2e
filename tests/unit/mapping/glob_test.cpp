#include "glob.hpp"

#include <gtest/gtest.h>

namespace nodebridge::mapping {
namespace {

TEST(GlobMatch, LiteralMatchesOnlyItself) {
    EXPECT_TRUE(glob_match("pdu-1", "pdu-1"));
    EXPECT_FALSE(glob_match("pdu-1", "pdu-10"));
    EXPECT_FALSE(glob_match("pdu-1", "pdu-"));
    EXPECT_FALSE(glob_match("pdu", "PDU"));
    EXPECT_TRUE(glob_match("", ""));
    EXPECT_FALSE(glob_match("", "a"));
}

TEST(GlobMatch, StarMatchesAnyRunIncludingEmptyAndSlash) {
    EXPECT_TRUE(glob_match("*", ""));
    EXPECT_TRUE(glob_match("*", "anything/at all"));
    EXPECT_TRUE(glob_match("pdu-*", "pdu-"));
    EXPECT_TRUE(glob_match("pdu-*", "pdu-12"));
    EXPECT_FALSE(glob_match("pdu-*", "pd-12"));
    EXPECT_TRUE(glob_match("*-1", "pdu-1"));
    EXPECT_FALSE(glob_match("*-1", "pdu-12"));
    EXPECT_TRUE(glob_match("a*b*c", "aXbYbZc"));
    EXPECT_FALSE(glob_match("a*b*c", "aXbYbZ"));
    EXPECT_TRUE(glob_match("**a**", "bab"));
    EXPECT_TRUE(glob_match("*ab", "aaab"));  // needs backtracking
}

TEST(GlobMatch, QuestionMarkMatchesExactlyOneCharacter) {
    EXPECT_TRUE(glob_match("pdu-?", "pdu-1"));
    EXPECT_FALSE(glob_match("pdu-?", "pdu-"));
    EXPECT_FALSE(glob_match("pdu-?", "pdu-12"));
    EXPECT_TRUE(glob_match("??", "ab"));
}

TEST(GlobMatch, BracketSetsRangesAndNegation) {
    EXPECT_TRUE(glob_match("pdu-[12]", "pdu-1"));
    EXPECT_TRUE(glob_match("pdu-[12]", "pdu-2"));
    EXPECT_FALSE(glob_match("pdu-[12]", "pdu-3"));
    EXPECT_TRUE(glob_match("meter-[0-9]", "meter-7"));
    EXPECT_FALSE(glob_match("meter-[0-9]", "meter-x"));
    EXPECT_TRUE(glob_match("[a-cx-z]", "y"));
    EXPECT_FALSE(glob_match("[a-cx-z]", "d"));
    EXPECT_TRUE(glob_match("[!0-9]", "a"));
    EXPECT_FALSE(glob_match("[!0-9]", "5"));
    EXPECT_TRUE(glob_match("[^0-9]", "a"));
    EXPECT_FALSE(glob_match("[^0-9]", "5"));
    EXPECT_TRUE(glob_match("[]]", "]"));  // ']' first is a member
    EXPECT_TRUE(glob_match("[!]]", "a"));
    EXPECT_FALSE(glob_match("[!]]", "]"));
    EXPECT_TRUE(glob_match("[a-]", "-"));  // '-' last is a member
}

TEST(GlobMatch, UnclosedBracketIsLiteral) {
    EXPECT_TRUE(glob_match("a[b", "a[b"));
    EXPECT_FALSE(glob_match("a[b", "ab"));
}

TEST(GlobMatch, BackslashEscapesSpecialCharacters) {
    EXPECT_TRUE(glob_match("a\\*", "a*"));
    EXPECT_FALSE(glob_match("a\\*", "ab"));
    EXPECT_TRUE(glob_match("\\?", "?"));
    EXPECT_FALSE(glob_match("\\?", "x"));
}

TEST(GlobMatch, PathologicalPatternStaysFast) {
    const std::string text(10000, 'a');
    std::string pattern;
    for (int i = 0; i < 50; ++i) pattern += "*a";
    pattern += "b";
    EXPECT_FALSE(glob_match(pattern, text));  // would take ages with naive recursion
}

TEST(Glob, PreparedFormsAgreeWithTheMatcher) {
    EXPECT_TRUE(Glob().matches("x"));
    EXPECT_TRUE(Glob("*").matches(""));
    EXPECT_TRUE(Glob("***").matches("abc"));
    EXPECT_TRUE(Glob("pdu-1").matches("pdu-1"));
    EXPECT_FALSE(Glob("pdu-1").matches("pdu-2"));
    EXPECT_TRUE(Glob("pdu-*").matches("pdu-2"));
    EXPECT_FALSE(Glob("pdu-*").matches("meter-2"));
    EXPECT_FALSE(Glob("").matches("a"));
    EXPECT_TRUE(Glob("").matches(""));
}

}  // namespace
}  // namespace nodebridge::mapping
