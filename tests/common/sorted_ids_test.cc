#include "common/sorted_ids.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

TEST(SortedIdsTest, IdsAddedInOrderAreFoundAtTheirPositions) {
  SortedIds ids;
  EXPECT_EQ(ids.Find("doc_a"), std::nullopt);
  EXPECT_EQ(ids.Extend(""), 0u);  // corpus-wide records sort first
  EXPECT_EQ(ids.Extend("doc_a"), 1u);
  EXPECT_EQ(ids.Extend("doc_a"), 1u);  // the same document again: its position
  EXPECT_EQ(ids.Extend("doc_ab"), 2u);
  EXPECT_EQ(ids.Extend("doc_b"), 3u);
  ids.ShrinkToFit();
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids.at(0), "");
  EXPECT_EQ(ids.at(2), "doc_ab");
  EXPECT_EQ(ids.Find(""), 0u);
  EXPECT_EQ(ids.Find("doc_a"), 1u);
  EXPECT_EQ(ids.Find("doc_ab"), 2u);
  EXPECT_EQ(ids.Find("doc_b"), 3u);
  for (const char* missing : {"doc", "doc_aa", "doc_abc", "doc_c"})
    EXPECT_EQ(ids.Find(missing), std::nullopt) << missing;
}

TEST(SortedIdsDeathTest, AnIdOutOfOrderIsABug) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SortedIds ids;
  ids.Extend("doc_b");
  EXPECT_DEATH(ids.Extend("doc_a"), "last < id");
}

}  // namespace
}  // namespace ingest
