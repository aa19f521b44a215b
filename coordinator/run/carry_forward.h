#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/status.h"
#include "coordinator/run/run_context.h"
#include "proto/manifest.pb.h"

namespace ingest {

// What the output of `pass` depends on, as PassRecord.input_digest: the
// release, the pass and its settings, every live document (id, source and
// root, path, checksum) and the upstream artifacts' sha256.
std::string PassInputDigest(const RunContext& ctx, Pass pass);

// Carry-forward from the previous job (README, "Incremental runs"): the
// newest completed or partial job of the env other than this one. A pass
// whose input digest equals the previous job's is copied whole; otherwise
// its tasks may still reuse that job's journal.
//
// Reads: options, store, manifest (documents, upstream pass records).
// Writes: manifest (carried_from, the carried pass's record, its totals, the
// source_sha_map); the job's artifact and journal of a carried pass.
class CarryForward {
 public:
  // Finds the previous job. An explicit rerun, a full refresh or a baseline
  // takes nothing over, and neither does a job without a journal.
  static Result<CarryForward> Find(RunContext& ctx);

  // The previous job's journal of `pass`; empty when there is no previous job.
  std::filesystem::path PreviousJournal(Pass pass) const;

  // Copies `pass` from the previous job when `record.input_digest()` equals
  // the previous job's and that pass succeeded without failed documents;
  // false when the pass has to run. `stale_deleted` is retention's count,
  // the one part of pass F's record that does not follow from its inputs.
  Result<bool> Carry(RunContext& ctx, Pass pass, PassRecord& record, uint32_t stale_deleted) const;

 private:
  std::filesystem::path previous_job_;
  std::optional<Manifest> previous_manifest_;
};

}  // namespace ingest
