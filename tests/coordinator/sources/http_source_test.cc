#include "coordinator/sources/http_source.h"

#include <fstream>

#include "common/path_safety.h"
#include "common/sha256.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

TEST(PagePathTest, IsASafeRelativePathMadeOfHostAndUrlPath) {
  EXPECT_EQ(PagePath("https://example.org/policy"), "example.org/policy");
  EXPECT_EQ(PagePath("https://example.org/"), "example.org/index");
  EXPECT_EQ(PagePath("https://example.org"), "example.org/index");
  EXPECT_EQ(PagePath("http://127.0.0.1:8080/docs/a.md#top"), "127.0.0.1_8080/docs/a.md");
  EXPECT_EQ(PagePath("http://h/search?q=a b&x=1"), "h/search_q_a_b_x_1");
  EXPECT_EQ(PagePath("http://h/a/../../etc/passwd"), "h/a/_../_../etc/passwd");
  EXPECT_EQ(PagePath("http://h//a///b/"), "h/a/b/index");
  for (const char* url : {"http://h/a/../../x", "http://h/./.", "http://h/%2e%2e/x"}) {
    EXPECT_OK(CheckRelativePath("/root", PagePath(url))) << url;
  }
}

TEST(PageStoreTest, KeepsBodiesByChecksumAndRefusesDamagedOnes) {
  testing::TempDir dir;
  PageStore store(dir.path() / "pages");
  const std::string body = "<html><body><h1>Policy</h1></body></html>";
  const std::string sha = Sha256Hex(body);
  EXPECT_FALSE(store.Has(sha));
  ASSERT_OK(store.Put(sha, body));
  EXPECT_TRUE(store.Has(sha));
  Result<std::string> read = store.Read(sha);
  ASSERT_OK(read);
  EXPECT_EQ(*read, body);

  EXPECT_EQ(store.Put(Sha256Hex("other"), body).code(), StatusCode::kDataLoss);
  EXPECT_EQ(store.Read("../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  std::ofstream(dir.path() / "pages" / sha, std::ios::trunc) << "tampered";
  EXPECT_EQ(store.Read(sha).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ingest
