#pragma once

#include "common/status.h"
#include "proto/fleet.pb.h"

namespace ingest {

// Readies a task's result for the coordinator, on the worker that computed
// it (workers are many and run in parallel; the coordinator merges alone).
// Every record of the pass is checked against its contract (ValidateRecord)
// and must belong to the task's document, or, where the pass makes them, be
// a corpus-wide record (PassInfo::shared_key). Then `records` is moved into
// `record_bytes` (the document's records, serialized once), `artifact_json`
// (their canonical JSON, joined as the artifact joins them), `record_count`
// and `shared` (corpus-wide records by key, each key once). Pass F's checks
// go into `record_bytes` alone. A record that breaks the contract turns the
// result into a permanent error of kind "contract" naming the record and
// field: the coordinator then fails the pass (SPEC §10). A failed result
// keeps its error and loses its records.
void SealResult(const Task& task, TaskResult* result);

// The kind of a result whose records break the pass's contract.
inline constexpr char kContractViolation[] = "contract";

}  // namespace ingest
