#pragma once

#include <ostream>

#include "coordinator/run/run_context.h"
#include "proto/admin.pb.h"

namespace ingest {

// --dry-run: what a run would do, from the same source scan a run makes:
// per source whether it is due, its new, modified, retried and deleted
// documents (the pages an http source would fetch), and how many tasks each
// pass would run at least. Writes nothing: no job directory, no log, and the
// state store (if there is one) is opened read-only and immutable; no lock.
//
// Reads: options, config, passes (resolved), the state store file.
// Errors: the store or a source's schedule cannot be read; InvalidArgument
// for a --source that is not configured.
Result<admin::Plan> PlanRun(const RunContext& ctx);

// The plan as `run --dry-run` prints it.
void PrintPlan(const admin::Plan& plan, std::ostream& out);

// PlanRun, printed on stdout; returns the exit code (0, or 1).
int DryRun(const RunContext& ctx);

}  // namespace ingest
