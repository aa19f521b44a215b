#include "coordinator/sources/check_frequency.h"

#include <absl/time/civil_time.h>

#include <functional>
#include <map>

namespace ingest {

Result<bool> IsDue(const std::string& frequency, std::optional<absl::Time> last_checked, absl::Time now,
                   const absl::TimeZone& zone) {
  if (!last_checked) return true;
  using Period = std::function<bool(absl::CivilSecond, absl::CivilSecond)>;
  // Each named frequency: whether two instants fall in different periods.
  static const std::map<std::string, Period> kPeriods = {
      {"hourly", [](absl::CivilSecond a, absl::CivilSecond b) { return absl::CivilHour(a) != absl::CivilHour(b); }},
      {"daily", [](absl::CivilSecond a, absl::CivilSecond b) { return absl::CivilDay(a) != absl::CivilDay(b); }},
      {"weekly",
       [](absl::CivilSecond a, absl::CivilSecond b) {
         // ISO weeks start on Monday.
         auto monday = [](absl::CivilDay d) { return absl::PrevWeekday(d + 1, absl::Weekday::monday); };
         return monday(absl::CivilDay(a)) != monday(absl::CivilDay(b));
       }},
  };
  if (auto it = kPeriods.find(frequency); it != kPeriods.end()) {
    return it->second(absl::ToCivilSecond(*last_checked, zone), absl::ToCivilSecond(now, zone));
  }
  INGEST_ASSIGN_OR_RETURN(CronExpression cron, CronExpression::Parse(frequency));
  return cron.Next(*last_checked, zone) <= now;
}

}  // namespace ingest
