#include "common/glob.h"

#include <gtest/gtest.h>

namespace ingest {
namespace {

TEST(GlobTest, DoubleStarSpansDirectories) {
  EXPECT_TRUE(GlobMatch("**/*.md", "a.md"));
  EXPECT_TRUE(GlobMatch("**/*.md", "x/y/a.md"));
  EXPECT_FALSE(GlobMatch("**/*.md", "x/y/a.mdx"));
  EXPECT_TRUE(GlobMatch("drafts/**", "drafts/a/b.md"));
  EXPECT_FALSE(GlobMatch("drafts/**", "final/drafts.md"));
  EXPECT_TRUE(GlobMatch("**", "any/thing"));
}

TEST(GlobTest, SingleStarStaysInOneSegment) {
  EXPECT_TRUE(GlobMatch("*.md", "a.md"));
  EXPECT_FALSE(GlobMatch("*.md", "x/a.md"));
  EXPECT_TRUE(GlobMatch("x/*/c.txt", "x/b/c.txt"));
  EXPECT_FALSE(GlobMatch("x/*/c.txt", "x/b/d/c.txt"));
}

TEST(GlobTest, QuestionMarkAndClasses) {
  EXPECT_TRUE(GlobMatch("file?.txt", "file1.txt"));
  EXPECT_FALSE(GlobMatch("file?.txt", "file10.txt"));
  EXPECT_TRUE(GlobMatch("[a-c]*.md", "b.md"));
  EXPECT_FALSE(GlobMatch("[!a-c]*.md", "b.md"));
  EXPECT_TRUE(GlobMatch("name with spaces *.md", "name with spaces 1.md"));
}

}  // namespace
}  // namespace ingest
