#pragma once

#include <absl/time/time.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "coordinator/state/state_store.h"

namespace ingest {

// A schedule slot is the instant a schedule fired for a run, kept as RFC
// 3339 UTC to the second ("2026-12-06T02:00:00Z"). A CronJob starts a Job
// "about once" per slot, and a failed Job is retried: every run for a slot
// after the first either finds its outcome or resumes it.

// The slot of `run --scheduled-for TEXT`: an RFC 3339 time with its zone, or
// the name of a Job a Kubernetes CronJob made ("ingestfleet-nightly-29942040"),
// which the CronJob controller ends with the slot in minutes since the epoch.
// InvalidArgument naming the text otherwise. "job:NAME" is a Job's name as
// its Pod sees it: one not made on a schedule (kubectl create job --from)
// has no slot, "" then.
Result<std::string> ParseScheduleSlot(std::string_view text);
std::string FormatScheduleSlot(absl::Time t);

// What a run for a slot does, given the latest run recorded for it.
enum class SlotAction {
  kRun,     // no run yet (or none that got as far as a job): a run as asked
  kDone,    // it ended completed or partial: that is the slot's outcome
  kResume,  // it failed, was cancelled or died: resume its job
};
SlotAction ActionForSlot(const std::optional<StoredRun>& latest);

}  // namespace ingest
