#include "coordinator/daemon/serve.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

absl::Time Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

TEST(NextRunTimeTest, CatchesUpOnceWhenAFiringPassedWhileDown) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const CronExpression nightly = *CronExpression::Parse("0 2 * * *");
  const absl::Time now = Utc(2026, 11, 22, 9, 0);
  // Last run the night before yesterday: last night's 02:00 was missed.
  EXPECT_EQ(NextRunTime(nightly, utc, Utc(2026, 11, 21, 2, 0), now), now);
  // Last run last night: the next is tonight.
  EXPECT_EQ(NextRunTime(nightly, utc, Utc(2026, 11, 22, 2, 0, 3), now), Utc(2026, 11, 23, 2, 0));
  // A fresh install has nothing to catch up.
  EXPECT_EQ(NextRunTime(nightly, utc, std::nullopt, now), Utc(2026, 11, 23, 2, 0));
}

}  // namespace
}  // namespace ingest
