#include "tests/testing/testing.h"
#include "worker/passes/passes.h"

namespace ingest {
namespace {

using testing::TempDir;

DocumentRef Ref(const TempDir& dir, const std::string& path) {
  DocumentRef r;
  r.set_source_id("doc_1");
  r.set_root(dir.path().string());
  r.set_path(path);
  return r;
}

TEST(SplitDocumentTest, SmallDocumentIsOnePart) {
  TempDir dir;
  dir.Write("a.txt", "line one\nline two\n");
  Result<std::vector<SplitRecord>> parts = SplitDocument(Ref(dir, "a.txt"), 1.0);
  ASSERT_OK(parts);
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].byte_start(), 0u);
  EXPECT_EQ((*parts)[0].byte_end(), 18u);
  EXPECT_EQ((*parts)[0].parts(), 1u);
}

TEST(SplitDocumentTest, LargeDocumentIsCutAtLineBreaksIntoContiguousParts) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "line number " + std::to_string(i) + " of the large document\n";
  if (text.size() % 2 == 0) text += "\f";
  text += "last page\n";
  dir.Write("big.txt", text);
  const double threshold_mb = 40000.0 / (1024 * 1024);  // about 40 KB
  Result<std::vector<SplitRecord>> parts = SplitDocument(Ref(dir, "big.txt"), threshold_mb);
  ASSERT_OK(parts);
  ASSERT_GT(parts->size(), 3u);
  uint64_t expected_start = 0;
  for (const SplitRecord& p : *parts) {
    EXPECT_EQ(p.byte_start(), expected_start);
    EXPECT_EQ(p.parts(), parts->size());
    EXPECT_LE(p.byte_end() - p.byte_start(), 41000u);
    if (p.byte_start() > 0) {
      EXPECT_EQ(text[p.byte_start() - 1], '\n') << "part " << p.part();
    }
    expected_start = p.byte_end();
  }
  EXPECT_EQ(expected_start, text.size());
}

TEST(SplitDocumentTest, PageStartCountsFormFeeds) {
  TempDir dir;
  std::string text;
  for (int page = 0; page < 4; ++page) {
    for (int i = 0; i < 200; ++i) text += "page " + std::to_string(page) + " line\n";
    text += "\f";
  }
  dir.Write("pages.txt", text);
  Result<std::vector<SplitRecord>> parts = SplitDocument(Ref(dir, "pages.txt"), static_cast<double>(text.size() / 4 + 10) / (1024 * 1024));
  ASSERT_OK(parts);
  ASSERT_EQ(parts->size(), 4u);
  EXPECT_EQ((*parts)[0].page_start(), 1u);
  EXPECT_GE((*parts)[3].page_start(), 3u);
}

TEST(SplitDocumentTest, MissingFileIsNotFoundAndEscapesAreRefused) {
  TempDir dir;
  EXPECT_EQ(SplitDocument(Ref(dir, "none.txt"), 1.0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(SplitDocument(Ref(dir, "../etc/passwd"), 1.0).status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace ingest
