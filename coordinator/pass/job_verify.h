#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ingest {

// What `ingest-coordinator verify --job-dir DIR` found.
struct JobVerification {
  // One line per thing that is wrong, naming the file, pass or document.
  std::vector<std::string> problems;
  uint32_t artifacts = 0;  // artifacts re-hashed and re-validated
  uint64_t records = 0;    // records re-validated
  uint32_t documents = 0;  // documents in the manifest
  bool ok() const { return problems.empty(); }
};

// Checks a job directory as a run's gates would and more, reading only:
// the manifest loads strictly and validates; every SUCCESS pass's artifact
// is re-hashed and every record re-validated against its contract (the
// manifest's sha256, size and count must match); every document that should
// reach a pass (processed or unchanged, or failed in a later pass) has
// records in it and no other document does; pass A's records name each
// document as the manifest does (source, path, checksum); a completed job
// has every pass SUCCESS. The crash and fault tests end with it.
JobVerification VerifyJob(const std::filesystem::path& job_dir);

}  // namespace ingest
