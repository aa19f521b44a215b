#include "worker/document.h"

#include <filesystem>

#include "tests/testing/testing.h"

namespace ingest {
namespace {

// A source root with notes.md, a symlink to a file inside it; `outside` is a
// file next to the root.
class DocumentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("root/inside.md", "# Inside\n");
    outside_ = dir_.Write("outside.md", "# Outside\n");
    std::filesystem::create_symlink(dir_.path() / "root/inside.md", dir_.path() / "root/notes.md");
    ref_.set_root((dir_.path() / "root").string());
    ref_.set_path("notes.md");
  }
  // Points notes.md outside the root.
  void Escape() {
    std::filesystem::remove(dir_.path() / "root/notes.md");
    std::filesystem::create_symlink(outside_, dir_.path() / "root/notes.md");
  }

  testing::TempDir dir_;
  std::filesystem::path outside_;
  DocumentRef ref_;
};

TEST_F(DocumentTest, WithoutAScopeEveryResolutionSeesTheFileSystemAsItIs) {
  ASSERT_OK(ResolveDocumentPath(ref_));
  Escape();
  EXPECT_EQ(ResolveDocumentPath(ref_).status().code(), StatusCode::kPermissionDenied);
}

TEST_F(DocumentTest, AScopeResolvesADocumentOnceAndTheNextScopeAfresh) {
  {
    const DocumentResolutionScope task;
    Result<std::filesystem::path> first = ResolveDocumentPath(ref_);
    ASSERT_OK(first);
    EXPECT_EQ(first->filename(), "inside.md");
    Escape();
    Result<std::filesystem::path> again = ResolveDocumentPath(ref_);
    ASSERT_OK(again);
    EXPECT_EQ(*again, *first);
    {
      const DocumentResolutionScope inner;
      EXPECT_EQ(ResolveDocumentPath(ref_).status().code(), StatusCode::kPermissionDenied);
    }
    EXPECT_EQ(*ResolveDocumentPath(ref_), *first);
  }
  const DocumentResolutionScope next_task;
  EXPECT_EQ(ResolveDocumentPath(ref_).status().code(), StatusCode::kPermissionDenied);
  // A failure is not remembered: once the link leads inside again, it resolves.
  std::filesystem::remove(dir_.path() / "root/notes.md");
  std::filesystem::create_symlink(dir_.path() / "root/inside.md", dir_.path() / "root/notes.md");
  EXPECT_OK(ResolveDocumentPath(ref_));
}

}  // namespace
}  // namespace ingest
