#include "coordinator/sources/discovery.h"

#include <sys/stat.h>
#include <unistd.h>

#include <map>

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

TEST(DiscoverDocumentsTest, ListsLinksToFilesWithoutTheirStatButNotDanglingLinksOrFifos) {
  TempDir dir;
  dir.Write("root/deep/er/a.md", "a");
  dir.Write("target.md", "outside: its reader checks where a link leads");
  std::filesystem::create_symlink(dir.path() / "target.md", dir.path() / "root/deep/link.md");
  std::filesystem::create_symlink(dir.path() / "gone.md", dir.path() / "root/dangling.md");
  ASSERT_EQ(::mkfifo((dir.path() / "root/pipe.md").c_str(), 0600), 0);
  SourceConfig source{.name = "s", .kind = "files", .root = dir.path() / "root", .include = {"**/*"}};
  Result<std::vector<DiscoveredDocument>> docs = DiscoverDocuments(source);
  ASSERT_OK(docs);
  std::map<std::string, const DiscoveredDocument*> by_path;
  for (const DiscoveredDocument& d : *docs) by_path[d.path] = &d;
  ASSERT_EQ(by_path.size(), 2u);
  ASSERT_TRUE(by_path.contains("deep/er/a.md"));
  ASSERT_TRUE(by_path.contains("deep/link.md"));
  EXPECT_FALSE(by_path["deep/er/a.md"]->symlink);
  EXPECT_EQ(by_path["deep/er/a.md"]->bytes, 1u);
  EXPECT_GT(by_path["deep/er/a.md"]->mtime_ns, 0);
  EXPECT_TRUE(by_path["deep/link.md"]->symlink);
  EXPECT_EQ(by_path["deep/link.md"]->mtime_ns, 0) << "a link's target is looked at when it is read";
}

TEST(DiscoverDocumentsTest, AnUnreadableDirectoryIsPassedOver) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  TempDir dir;
  dir.Write("root/a.md", "a");
  dir.Write("root/locked/b.md", "b");
  std::filesystem::permissions(dir.path() / "root/locked", std::filesystem::perms::none);
  SourceConfig source{.name = "s", .kind = "files", .root = dir.path() / "root", .include = {"**/*"}};
  Result<std::vector<DiscoveredDocument>> docs = DiscoverDocuments(source);
  std::filesystem::permissions(dir.path() / "root/locked", std::filesystem::perms::owner_all);
  ASSERT_OK(docs);
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].path, "a.md");
}

TEST(DiscoverDocumentsTest, ANameThatIsNotUtf8IsListedEscapedWithItsError) {
  TempDir dir;
  dir.Write("root/caf\xE9.md", "latin-1 name");
  dir.Write("root/caf\\xE9.md", "a name that looks like the escape");
  SourceConfig source{.name = "s", .kind = "files", .root = dir.path() / "root", .include = {"**/*.md"}};
  Result<std::vector<DiscoveredDocument>> docs = DiscoverDocuments(source);
  ASSERT_OK(docs);
  ASSERT_EQ(docs->size(), 2u);
  const DiscoveredDocument& bad = (*docs)[0].name_error.empty() ? (*docs)[1] : (*docs)[0];
  const DiscoveredDocument& good = (*docs)[0].name_error.empty() ? (*docs)[0] : (*docs)[1];
  EXPECT_EQ(bad.path, "caf\\xE9.md");
  EXPECT_THAT(bad.name_error, ::testing::HasSubstr("not valid UTF-8"));
  EXPECT_EQ(bad.source_id, MakeSourceId("s", "caf\xE9.md")) << "the id comes from the name on disk";
  EXPECT_TRUE(good.name_error.empty());
  EXPECT_EQ(good.path, bad.path) << "the escape can read as a real name,";
  EXPECT_NE(good.source_id, bad.source_id) << "yet two documents";
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
