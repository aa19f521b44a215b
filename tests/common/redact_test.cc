#include "common/redact.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

TEST(RedactorTest, HidesRegisteredSecretsLongestFirstAndEveryEmailAddress) {
  Redactor r;
  r.AddSecret("https://hooks.slack.com/services/T000/B000/abcdefSECRET");
  r.AddSecret("abcdefSECRET");
  r.AddSecret("abc");  // too short to be told from ordinary text
  EXPECT_EQ(r.Apply("posting to https://hooks.slack.com/services/T000/B000/abcdefSECRET failed"),
            "posting to [redacted] failed");
  EXPECT_EQ(r.Apply("token abcdefSECRET and abcdefSECRET"), "token [redacted] and [redacted]");
  EXPECT_EQ(r.Apply("abc stays"), "abc stays");
  EXPECT_EQ(r.Apply("mail ops.team+night@example.org, then data@corp.example.co.uk."), "mail [email], then [email].");
  EXPECT_EQ(r.Apply("not an address: worker@host, @handle, a@b"), "not an address: worker@host, @handle, a@b");
}

}  // namespace
}  // namespace ingest
