#include "common/cron.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;

absl::Time Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

std::string InZone(absl::Time t, const absl::TimeZone& zone) { return absl::FormatTime("%Y-%m-%d %H:%M %Z", t, zone); }

CronExpression Cron(const char* text) {
  Result<CronExpression> cron = CronExpression::Parse(text);
  EXPECT_OK(cron);
  return *cron;
}

TEST(CronExpressionTest, RefusesBadExpressionsNamingTheField) {
  EXPECT_THAT(CronExpression::Parse("61 * * * *").status().message(), HasSubstr("minute '61' is not in 0..59"));
  EXPECT_THAT(CronExpression::Parse("* * * *").status().message(), HasSubstr("expected 5 fields, got 4"));
  EXPECT_THAT(CronExpression::Parse("* * * foo *").status().message(), HasSubstr("month 'foo'"));
  EXPECT_THAT(CronExpression::Parse("*/0 * * * *").status().message(), HasSubstr("bad step"));
  EXPECT_THAT(CronExpression::Parse("* 5-2 * * *").status().message(), HasSubstr("runs backwards"));
}

TEST(CronExpressionTest, FindsTheNextAndPreviousFiring) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  EXPECT_EQ(Cron("30 2 * * *").Next(Utc(2026, 11, 22, 3, 0), utc), Utc(2026, 11, 23, 2, 30));
  EXPECT_EQ(Cron("30 2 * * *").Next(Utc(2026, 11, 22, 2, 30), utc), Utc(2026, 11, 23, 2, 30));  // strictly after
  EXPECT_EQ(Cron("*/15 * * * *").Next(Utc(2026, 11, 22, 3, 7), utc), Utc(2026, 11, 22, 3, 15));
  EXPECT_EQ(Cron("0 9 * * mon-fri").Next(Utc(2026, 11, 21, 12, 0), utc), Utc(2026, 11, 23, 9, 0));  // Sat -> Mon
  EXPECT_EQ(Cron("0 0 1 jan,jul *").Next(Utc(2026, 11, 22, 0, 0), utc), Utc(2027, 1, 1, 0, 0));
  EXPECT_EQ(Cron("0 2 * * *").Previous(Utc(2026, 11, 22, 5, 0), utc), Utc(2026, 11, 22, 2, 0));
  EXPECT_EQ(Cron("0 2 * * *").Previous(Utc(2026, 11, 22, 1, 0), utc), Utc(2026, 11, 21, 2, 0));
  EXPECT_EQ(Cron("0 0 30 2 *").Next(Utc(2026, 1, 1, 0, 0), utc), absl::InfiniteFuture());
}

TEST(CronExpressionTest, RestrictedDayOfMonthAndDayOfWeekMatchEither) {
  // The 13th, or any Friday: after Thu 2026-11-12, Fri the 13th; after it, Fri the 20th.
  const absl::TimeZone utc = absl::UTCTimeZone();
  EXPECT_EQ(Cron("0 0 13 * 5").Next(Utc(2026, 11, 12, 1, 0), utc), Utc(2026, 11, 13, 0, 0));
  EXPECT_EQ(Cron("0 0 13 * 5").Next(Utc(2026, 11, 13, 1, 0), utc), Utc(2026, 11, 20, 0, 0));
  EXPECT_EQ(Cron("0 0 * * 7").Next(Utc(2026, 11, 20, 0, 0), utc), Utc(2026, 11, 22, 0, 0));  // 7 is Sunday
}

TEST(CronExpressionTest, ALocalTimeSkippedBySpringForwardFiresAtTheTransitionOnce) {
  Result<absl::TimeZone> new_york = LoadZone("America/New_York");
  ASSERT_OK(new_york);
  // 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist.
  const CronExpression cron = Cron("30 2 * * *");
  absl::Time fired = cron.Next(Utc(2026, 3, 8, 5, 0), *new_york);  // 00:00 EST
  EXPECT_EQ(InZone(fired, *new_york), "2026-03-08 03:00 EDT");
  EXPECT_EQ(InZone(cron.Next(fired, *new_york), *new_york), "2026-03-09 02:30 EDT");
  // Paris, 2026-03-29: 02:00 CET jumps to 03:00 CEST.
  Result<absl::TimeZone> paris = LoadZone("Europe/Paris");
  ASSERT_OK(paris);
  fired = Cron("0 2 * * *").Next(Utc(2026, 3, 28, 12, 0), *paris);
  EXPECT_EQ(InZone(fired, *paris), "2026-03-29 03:00 CEST");
  EXPECT_EQ(InZone(Cron("0 2 * * *").Next(fired, *paris), *paris), "2026-03-30 02:00 CEST");
}

TEST(CronExpressionTest, ALocalTimeRepeatedByFallBackFiresOnlyOnce) {
  Result<absl::TimeZone> new_york = LoadZone("America/New_York");
  ASSERT_OK(new_york);
  // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
  const CronExpression cron = Cron("30 1 * * *");
  absl::Time first = cron.Next(Utc(2026, 11, 1, 4, 0), *new_york);  // 00:00 EDT
  EXPECT_EQ(InZone(first, *new_york), "2026-11-01 01:30 EDT");
  absl::Time next = cron.Next(first, *new_york);
  EXPECT_EQ(InZone(next, *new_york), "2026-11-02 01:30 EST");
  // Every-15-minutes keeps firing through the repeated hour without doubling any local minute.
  const CronExpression quarter = Cron("*/15 * * * *");
  absl::Time t = Utc(2026, 11, 1, 5, 50);  // 01:50 EDT
  t = quarter.Next(t, *new_york);
  EXPECT_EQ(InZone(t, *new_york), "2026-11-01 02:00 EST");
}

TEST(CronExpressionTest, UnknownZonesAreRefused) {
  EXPECT_THAT(LoadZone("Mars/Olympus_Mons").status().message(), HasSubstr("not a known IANA zone"));
}

}  // namespace
}  // namespace ingest
