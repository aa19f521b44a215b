#pragma once

#include "coordinator/run/run_context.h"

namespace ingest {

// --dry-run: what a run would do, from the same source scan a run makes,
// printed on stdout: per source whether it is due, its new, modified and
// deleted documents (the pages an http source would fetch), and how many
// tasks would run. Writes nothing: no job directory, no log, and the state
// store (if there is one) is opened read-only and immutable; no lock.
//
// Reads: options, config, passes, the state store file.
// Returns the exit code: 0, or 1 when the store or a source's schedule
// cannot be read.
int DryRun(const RunContext& ctx);

}  // namespace ingest
