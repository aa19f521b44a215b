#include "common/sorted_ids.h"

#include <string>
#include <vector>

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

TEST(SortedIdsTest, LookupsInAnyOrderFindTheSamePositions) {
  // In order (the last position found, then the next one, are tried
  // first), backwards, the same one again, missing ones between and after,
  // and in a copy.
  SortedIds ids;
  std::vector<std::string> added;
  for (int i = 0; i < 200; i += 2) {
    added.push_back("doc_" + std::to_string(1000 + i));
    ids.Extend(added.back());
  }
  const auto expect_all = [&](const SortedIds& found_in) {
    for (size_t i = 0; i < added.size(); ++i) {
      EXPECT_EQ(found_in.Find(added[i]), i);
      EXPECT_EQ(found_in.Find(added[i]), i);
      EXPECT_EQ(found_in.Find("doc_" + std::to_string(1001 + 2 * i)), std::nullopt);
    }
    for (size_t i = added.size(); i-- > 0;) EXPECT_EQ(found_in.Find(added[i]), i);
    for (size_t i = 0; i < added.size(); i += 7)
      EXPECT_EQ(found_in.Find(added[(i * 31) % added.size()]), (i * 31) % added.size());
    EXPECT_EQ(found_in.Find("doc_0999"), std::nullopt);
    EXPECT_EQ(found_in.Find("doc_9999"), std::nullopt);
  };
  expect_all(ids);
  const SortedIds copy = ids;
  expect_all(copy);
  SortedIds moved;
  moved = SortedIds(copy);
  expect_all(moved);
}

TEST(SortedIdsDeathTest, AnIdOutOfOrderIsABug) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SortedIds ids;
  ids.Extend("doc_b");
  EXPECT_DEATH(ids.Extend("doc_a"), "last < id");
}

}  // namespace
}  // namespace ingest
