#pragma once

#include <absl/time/time.h>

#include <optional>
#include <string>

#include "common/cron.h"
#include "common/status.h"

namespace ingest {

// Whether a source with `frequency` (hourly | daily | weekly | a cron
// expression) is due at `now`, given when it was last checked (nullopt:
// never). hourly, daily and weekly mean "not yet in this clock hour,
// calendar day or ISO week" of `zone`, so a daily schedule at 02:00 finds a
// daily source due every night even when last night's check started a few
// seconds after 02:00. A cron frequency is due when it fired since the last
// check.
Result<bool> IsDue(const std::string& frequency, std::optional<absl::Time> last_checked, absl::Time now,
                   const absl::TimeZone& zone);

}  // namespace ingest
