#include "common/path_safety.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

using testing::TempDir;

TEST(PathSafetyTest, ResolvesFilesInsideTheRoot) {
  TempDir dir;
  dir.Write("root/a/b.md", "x");
  Result<std::filesystem::path> p = ResolveInsideRoot(dir.path() / "root", "a/b.md");
  ASSERT_OK(p);
  EXPECT_EQ(*p, std::filesystem::canonical(dir.path() / "root/a/b.md"));
}

TEST(PathSafetyTest, RefusesDotDotAndAbsolutePaths) {
  TempDir dir;
  dir.Write("root/a.md", "x");
  dir.Write("secret.txt", "x");
  EXPECT_EQ(ResolveInsideRoot(dir.path() / "root", "../secret.txt").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ResolveInsideRoot(dir.path() / "root", "a/../../secret.txt").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(ResolveInsideRoot(dir.path() / "root", (dir.path() / "secret.txt").string()).status().code(),
            StatusCode::kPermissionDenied);
}

TEST(PathSafetyTest, RefusesSymlinksThatLeaveTheRoot) {
  TempDir dir;
  dir.Write("root/inside.md", "x");
  dir.Write("outside/secret.txt", "x");
  std::filesystem::create_symlink(dir.path() / "outside/secret.txt", dir.path() / "root/link.md");
  std::filesystem::create_directory_symlink(dir.path() / "outside", dir.path() / "root/dirlink");
  std::filesystem::create_symlink(dir.path() / "root/inside.md", dir.path() / "root/ok-link.md");
  EXPECT_EQ(ResolveInsideRoot(dir.path() / "root", "link.md").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ResolveInsideRoot(dir.path() / "root", "dirlink/secret.txt").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_OK(ResolveInsideRoot(dir.path() / "root", "ok-link.md"));
}

TEST(PathSafetyTest, SiblingWithCommonPrefixIsOutside) {
  TempDir dir;
  dir.Write("root/a.md", "x");
  dir.Write("root2/b.md", "x");
  std::filesystem::create_symlink(dir.path() / "root2/b.md", dir.path() / "root/b.md");
  EXPECT_EQ(ResolveInsideRoot(dir.path() / "root", "b.md").status().code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(IsWithin("/a/b", "/a/bc"));
  EXPECT_TRUE(IsWithin("/a/b", "/a/b/c"));
}

TEST(PathSafetyTest, MissingFileIsNotFound) {
  TempDir dir;
  std::filesystem::create_directory(dir.path() / "root");
  EXPECT_EQ(ResolveInsideRoot(dir.path() / "root", "none.md").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ingest
