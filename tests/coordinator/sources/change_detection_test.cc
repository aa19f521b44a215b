#include "coordinator/sources/change_detection.h"

#include <map>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using testing::TempDir;

TEST(ChangeDetectionTest, FilesAreHashedInTheirOrderWhateverTheThreadAndAnUnreadableOneHasNoChecksum) {
  TempDir dir;
  // Enough files for several threads: each sum must land in its own file's slot.
  std::vector<std::filesystem::path> files;
  std::vector<std::string> expected;
  for (size_t i = 0; i < 4 * kFilesPerHashThread + 3; ++i) {
    if (i % 97 == 5) {
      files.push_back(dir.path() / ("missing-" + std::to_string(i)));
      expected.emplace_back();
      continue;
    }
    if (i == 300) {
      files.push_back(dir.path());  // a directory: read fails
      expected.emplace_back();
      continue;
    }
    std::string content = "document ";
    content += std::to_string(i);
    content.append(i % 7 * 1000, 'x');
    files.push_back(dir.Write(std::to_string(i) + ".md", content));
    expected.push_back(Sha256Hex(content));
  }
  EXPECT_EQ(Sha256Files(files), expected);
  EXPECT_TRUE(Sha256Files({}).empty());
  EXPECT_EQ(Sha256Files({files[1]}), std::vector<std::string>{expected[1]});
}

TEST(ChangeDetectionTest, AFullRefreshReadsAFileWhoseSizeAndMtimeAreUnchanged) {
  TempDir dir;
  dir.Write("root/same.md", "new text");
  dir.Write("root/kept.md", "kept text");
  SourceConfig source;
  source.name = "docs";
  source.kind = "files";
  source.root = dir.path() / "root";
  source.include = {"**/*.md"};
  Result<std::vector<DiscoveredDocument>> found = DiscoverDocuments(source);
  ASSERT_OK(found);
  ASSERT_EQ(found->size(), 2u);
  // The store remembers both with their size and mtime as they are now,
  // but `same.md` with the checksum of other bytes of that size.
  std::map<std::string, StoredDocument> stored;
  for (const DiscoveredDocument& doc : *found) {
    const bool same = doc.path == "same.md";
    stored[doc.source_id] = {.source_id = doc.source_id,
                             .source = "docs",
                             .path = doc.path,
                             .checksum = Sha256Hex(same ? "old text" : "kept text"),
                             .size = doc.bytes,
                             .mtime_ns = doc.mtime_ns,
                             .last_status = "processed"};
  }
  const auto change_of = [](const SourceChanges& changes, const std::string& path) {
    for (const DetectedDocument& d : changes.documents) {
      if (d.document.path == path) return d.change;
    }
    return Change::kNew;
  };
  SourceChanges by_stat = DetectChanges(source, *found, stored, /*hash_all=*/false);
  EXPECT_EQ(by_stat.hashed, 0u);
  EXPECT_EQ(change_of(by_stat, "same.md"), Change::kUnchanged);
  SourceChanges read = DetectChanges(source, *found, stored, /*hash_all=*/true);
  EXPECT_EQ(read.hashed, 2u);
  EXPECT_EQ(change_of(read, "same.md"), Change::kModified);
  EXPECT_EQ(change_of(read, "kept.md"), Change::kUnchanged);
  for (const DetectedDocument& d : read.documents) {
    EXPECT_EQ(d.checksum, Sha256Hex(d.document.path == "same.md" ? "new text" : "kept text")) << d.document.path;
  }
}

}  // namespace
}  // namespace ingest
