#pragma once

#include "common/status.h"
#include "proto/fleet.pb.h"
#include "worker/formats/formats.h"

namespace ingest {

// Runs one task to completion and returns its result; never throws. Failures
// come back as TaskResult.error with a class: permanent when the document
// itself is at fault (missing, unreadable, binary, outside its root), transient
// otherwise. Thread-safe: tasks share no state.
TaskResult RunTask(const Task& task, const ExtractLimits& limits = {});

// The error of a failed task, classified from the Status code.
TaskError ClassifyError(const Status& status);

}  // namespace ingest
