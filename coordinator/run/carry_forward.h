#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "coordinator/run/run_context.h"
#include "proto/manifest.pb.h"

namespace ingest {

// What the output of a pass depends on, as PassRecord.input_digest: the
// release, the pass and its settings, every live document (id, source and
// root, path, checksum, in id order) and the upstream artifacts' sha256.
// One per run: the documents' order is kept from pass to pass, as once
// discovery settled only their statuses change, and sorting them again was
// most of a digest's cost.
class PassInputDigester {
 public:
  std::string Digest(const RunContext& ctx, Pass pass);

 private:
  // Fills records_ in id order, sorting the ids only when they changed.
  void FindSortedDocuments(const Manifest& manifest);
  std::string_view Id(size_t i) const;

  // Every document's id, sorted, one after another (one allocation, not
  // one a document: a 1 GB corpus has about 100,000 of them).
  std::string ids_;
  std::vector<size_t> ends_;                    // where each id in ids_ ends
  std::vector<const DocumentRecord*> records_;  // each id's record, found again for each digest
};

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
