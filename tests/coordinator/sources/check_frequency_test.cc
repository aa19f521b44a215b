#include "coordinator/sources/check_frequency.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

absl::Time Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

TEST(IsDueTest, NamedFrequenciesCountCalendarPeriodsNotElapsedTime) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  // Last night's check began a few seconds after 02:00; tonight's schedule fires at 02:00 sharp.
  EXPECT_TRUE(*IsDue("daily", Utc(2026, 11, 21, 2, 0, 5), Utc(2026, 11, 22, 2, 0, 1), utc));
  EXPECT_FALSE(*IsDue("daily", Utc(2026, 11, 22, 0, 10), Utc(2026, 11, 22, 23, 50), utc));
  EXPECT_TRUE(*IsDue("hourly", Utc(2026, 11, 22, 2, 59), Utc(2026, 11, 22, 3, 0), utc));
  EXPECT_FALSE(*IsDue("hourly", Utc(2026, 11, 22, 3, 0), Utc(2026, 11, 22, 3, 59), utc));
  EXPECT_FALSE(*IsDue("weekly", Utc(2026, 11, 16, 2, 0), Utc(2026, 11, 22, 23, 0), utc));  // Mon .. Sun
  EXPECT_TRUE(*IsDue("weekly", Utc(2026, 11, 22, 23, 0), Utc(2026, 11, 23, 0, 1), utc));   // Sun -> Mon
  EXPECT_TRUE(*IsDue("weekly", std::nullopt, Utc(2026, 11, 23, 0, 1), utc));               // never checked
}

TEST(IsDueTest, ACronFrequencyIsDueWhenItFiredSinceTheLastCheck) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  EXPECT_TRUE(*IsDue("0 */6 * * *", Utc(2026, 11, 22, 5, 0), Utc(2026, 11, 22, 6, 30), utc));
  EXPECT_FALSE(*IsDue("0 */6 * * *", Utc(2026, 11, 22, 6, 10), Utc(2026, 11, 22, 11, 59), utc));
  EXPECT_FALSE(IsDue("every tuesday", Utc(2026, 11, 22, 6, 10), Utc(2026, 11, 22, 11, 59), utc).ok());
}

}  // namespace
}  // namespace ingest
