#include "coordinator/sources/discovery.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

using testing::TempDir;

TEST(DiscoverDocumentsTest, AppliesIncludeAndExcludeAndSortsByStableId) {
  TempDir dir;
  dir.Write("root/a.md", "a");
  dir.Write("root/sub/b.md", "b");
  dir.Write("root/sub/c.txt", "c");
  dir.Write("root/drafts/d.md", "d");
  dir.Write("root/name with spaces & $(x).md", "e");
  SourceConfig source;
  source.name = "rules";
  source.kind = "files";
  source.root = dir.path() / "root";
  source.include = {"**/*.md"};
  source.exclude = {"drafts/**"};
  Result<std::vector<DiscoveredDocument>> docs = DiscoverDocuments(source);
  ASSERT_OK(docs);
  std::vector<std::string> paths;
  for (const auto& d : *docs) paths.push_back(d.path);
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"a.md", "name with spaces & $(x).md", "sub/b.md"}));
  for (size_t i = 1; i < docs->size(); ++i) EXPECT_LT((*docs)[i - 1].source_id, (*docs)[i].source_id);
  EXPECT_EQ((*docs)[0].source_id, MakeSourceId("rules", (*docs)[0].path));
}

TEST(DiscoverDocumentsTest, DoesNotDescendIntoSymlinkedDirectories) {
  TempDir dir;
  dir.Write("root/a.md", "a");
  dir.Write("outside/secret.md", "s");
  std::filesystem::create_directory_symlink(dir.path() / "outside", dir.path() / "root/link");
  SourceConfig source{.name = "s", .kind = "files", .root = dir.path() / "root", .include = {"**/*"}};
  Result<std::vector<DiscoveredDocument>> docs = DiscoverDocuments(source);
  ASSERT_OK(docs);
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].path, "a.md");
}

TEST(DiscoverDocumentsTest, MissingRootIsNotFoundNamingTheSource) {
  SourceConfig source{.name = "gone", .kind = "files", .root = "/nonexistent/root", .include = {"**/*"}};
  Result<std::vector<DiscoveredDocument>> docs = DiscoverDocuments(source);
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(docs.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(docs.status().message(), ::testing::HasSubstr("source gone"));
}

}  // namespace
}  // namespace ingest
