#include "coordinator/admin/auth.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

TEST(TokenAuthTest, OperateTokenDoesEverythingReadTokenOnlyReadsOthersAreUnauthenticated) {
  TempDir dir;
  AdminConfig config;
  config.token_file = dir.Write("operate", "s3cret-operate\n");
  config.read_token_file = dir.Write("read", "s3cret-read  \r\n");
  Result<TokenAuth> auth = TokenAuth::Load(config);
  ASSERT_OK(auth);
  EXPECT_TRUE(auth->enabled());
  EXPECT_OK(auth->Check("Bearer s3cret-operate", Access::kOperate));
  EXPECT_OK(auth->Check("Bearer s3cret-read", Access::kRead));
  EXPECT_EQ(auth->Check("Bearer s3cret-read", Access::kOperate).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(auth->Check("Bearer s3cret-operatex", Access::kRead).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(auth->Check("", Access::kRead).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(auth->Check("Basic s3cret-operate", Access::kRead).code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(auth->Check("Bearer wrong", Access::kRead).message(), ::testing::Not(HasSubstr("s3cret")));
}

TEST(TokenAuthTest, WithoutATokenEveryCallIsAllowedAndAnEmptyFileIsAnError) {
  Result<TokenAuth> open = TokenAuth::Load(AdminConfig{});
  ASSERT_OK(open);
  EXPECT_FALSE(open->enabled());
  EXPECT_OK(open->Check("", Access::kOperate));
  TempDir dir;
  AdminConfig config;
  config.token_file = dir.Write("empty", "\n");
  Result<TokenAuth> empty = TokenAuth::Load(config);
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("key 'admin.token_file'"));
  EXPECT_THAT(empty.status().message(), HasSubstr("holds no token"));
}

}  // namespace
}  // namespace ingest
