#include "coordinator/run/schedule_slot.h"

#include <absl/time/time.h>

#include <charconv>

#include "common/cron.h"
#include "common/manifest.h"

namespace ingest {
namespace {

// Minutes since the epoch as a CronJob names its Jobs, from 1989 to 2350:
// other numbers (a name's own, `date +%s` seconds) are not a slot.
constexpr int64_t kFirstMinute = 10'000'000;
constexpr int64_t kLastMinute = 200'000'000;
constexpr std::string_view kJobNamePrefix = "job:";

}  // namespace

std::string FormatScheduleSlot(absl::Time t) {
  // %S drops a fraction of a second: a slot is kept to the second.
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

Result<std::string> ParseScheduleSlot(std::string_view text) {
  if (text.starts_with(kJobNamePrefix)) {
    Result<std::string> slot = ParseScheduleSlot(text.substr(kJobNamePrefix.size()));
    return slot.ok() ? slot : std::string();
  }
  if (std::optional<absl::Time> t = ParseTimestamp(std::string(text))) {
    return FormatScheduleSlot(*t);
  }
  const size_t dash = text.rfind('-');
  if (dash != std::string_view::npos && dash > 0) {
    const std::string_view digits = text.substr(dash + 1);
    int64_t minutes = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), minutes);
    if (error == std::errc() && end == digits.data() + digits.size() && minutes >= kFirstMinute &&
        minutes < kLastMinute) {
      return FormatScheduleSlot(absl::FromUnixSeconds(minutes * 60));
    }
  }
  return InvalidArgument("--scheduled-for '" + std::string(text) +
                         "' is neither an RFC 3339 time with its zone (2026-12-06T02:00:00Z) nor a CronJob's Job "
                         "name (NAME-MINUTES since the epoch)");
}

SlotAction ActionForSlot(const std::optional<StoredRun>& latest) {
  if (!latest || latest->job_dir.empty()) return SlotAction::kRun;
  if (latest->status == kJobCompleted || latest->status == kJobPartial) return SlotAction::kDone;
  return SlotAction::kResume;
}

}  // namespace ingest
