#include "common/utf8.h"

#include <gtest/gtest.h>

#include <cctype>

namespace ingest {
namespace {

TEST(Utf8Test, ValidatesWellFormedText) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("Relevé 用語 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
}

TEST(Utf8Test, SanitizeReplacesAndCounts) {
  size_t replaced = 0;
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b\xC3",
                         &replaced),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_EQ(replaced, 2u);
}

TEST(Utf8Test, EscapeWritesEachBadByteAsHex) {
  EXPECT_EQ(EscapeInvalidUtf8("caf\xE9 \xC3\xA9\xff.md"), "caf\\xE9 \xC3\xA9\\xFF.md");
  EXPECT_EQ(EscapeInvalidUtf8("plain"), "plain");
  EXPECT_TRUE(IsValidUtf8(EscapeInvalidUtf8("\xC0\x80\xED\xA0\x80")));
}

TEST(Utf8Test, AsciiLowerIsToLowerOfTheCLocaleForEveryByte) {
  std::string every;
  for (int c = 0; c < 256; ++c) every.push_back(static_cast<char>(c));
  const std::string lower = AsciiLower(every);
  ASSERT_EQ(lower.size(), every.size());
  for (int c = 0; c < 256; ++c) {
    EXPECT_EQ(static_cast<unsigned char>(lower[static_cast<size_t>(c)]), std::tolower(c)) << "byte " << c;
  }
  EXPECT_EQ(AsciiLower("<!DOCTYPE HTML> Straße ÄÖ"), "<!doctype html> straße ÄÖ");
}

TEST(Utf8Test, FloorBoundaryNeverSplitsASequence) {
  std::string s = "a\xE7\x94\xA8";  // a + one 3-byte character
  EXPECT_EQ(Utf8FloorBoundary(s, 2), 1u);
  EXPECT_EQ(Utf8FloorBoundary(s, 3), 1u);
  EXPECT_EQ(Utf8FloorBoundary(s, 4), 4u);
  EXPECT_EQ(CountCodePoints(s), 2u);
}

}  // namespace
}  // namespace ingest
