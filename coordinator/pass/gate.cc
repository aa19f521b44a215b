#include "coordinator/pass/gate.h"

#include "common/manifest.h"
#include "common/pass.h"

namespace ingest {

Result<ArtifactScan> CheckPassArtifact(const Manifest& manifest, Pass pass, const std::filesystem::path& job_dir,
                                       const ArtifactScan* verified, const RecordVisitor& visit) {
  const std::string name = "pass " + PassLetter(pass);
  const PassRecord& record = PassEntry(manifest, pass);
  if (record.artifacts_size() != 1) return FailedPrecondition(name + " has no artifact in the manifest");
  const ArtifactRecord& artifact = record.artifacts(0);
  const std::string what = name + " artifact " + artifact.path();
  std::filesystem::path path = job_dir / artifact.path();
  const bool as_recorded = verified != nullptr && verified->sha256 == artifact.sha256() &&
                           verified->records == artifact.records() && verified->bytes == artifact.bytes();
  if (as_recorded && !visit && verified->written) {
    // The file this process wrote and hashed, untouched since: the hash
    // would be the one it computed while writing.
    Result<FileIdentity> now = IdentifyFile(path);
    if (now.ok() && *now == *verified->written) return *verified;
  }
  // Hash first: a tampered file is reported as such, not as a parse error.
  Result<std::string> sha = Sha256File(path);
  if (!sha.ok()) return FailedPrecondition(what + ": " + sha.status().message());
  if (*sha != artifact.sha256()) {
    return FailedPrecondition(what + ": sha256 " + sha->substr(0, 12) + "... differs from manifest " +
                              artifact.sha256().substr(0, 12) + "...");
  }
  if (as_recorded && !visit && verified->sha256 == *sha) return *verified;
  Result<ArtifactScan> scan = ScanArtifact(path, pass, visit);
  if (!scan.ok()) return FailedPrecondition(what + ": contract invalid: " + scan.status().message());
  if (scan->bytes != artifact.bytes() || scan->records != artifact.records()) {
    return FailedPrecondition(what + ": " + std::to_string(scan->records) + " records, " + std::to_string(scan->bytes) +
                              " bytes; manifest says " + std::to_string(artifact.records()) + ", " +
                              std::to_string(artifact.bytes()));
  }
  return scan;
}

Result<std::map<Pass, ArtifactScan>> EvaluateGate(const Manifest& manifest, Pass pass,
                                                  const std::filesystem::path& job_dir,
                                                  const std::map<Pass, ArtifactScan>* verified) {
  std::map<Pass, ArtifactScan> scans;
  const std::string gate = "gate of pass " + PassLetter(pass);
  for (Pass upstream : UpstreamPasses(pass)) {
    const PassRecord& record = PassEntry(manifest, upstream);
    if (record.status() != kPassSuccess) {
      return FailedPrecondition(gate + ": pass " + PassLetter(upstream) + " is " + record.status() +
                                ", not SUCCESS (pass " + PassLetter(pass) + " needs pass " + PassLetter(upstream) +
                                ")");
    }
    const ArtifactScan* known = nullptr;
    if (verified != nullptr) {
      if (auto it = verified->find(upstream); it != verified->end()) known = &it->second;
    }
    Result<ArtifactScan> scan = CheckPassArtifact(manifest, upstream, job_dir, known);
    if (!scan.ok()) return FailedPrecondition(gate + ": " + scan.status().message());
    scans.emplace(upstream, std::move(*scan));
  }
  return scans;
}

}  // namespace ingest
