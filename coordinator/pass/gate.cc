#include "coordinator/pass/gate.h"

#include "common/manifest.h"
#include "common/pass.h"

namespace ingest {

Result<std::map<Pass, ArtifactScan>> EvaluateGate(const Manifest& manifest, Pass pass,
                                                  const std::filesystem::path& job_dir,
                                                  const std::map<Pass, ArtifactScan>* verified) {
  std::map<Pass, ArtifactScan> scans;
  const std::string gate = "gate of pass " + PassLetter(pass);
  for (Pass upstream : UpstreamPasses(pass)) {
    const std::string name = "pass " + PassLetter(upstream);
    const PassRecord& record = PassEntry(manifest, upstream);
    if (record.status() != kPassSuccess) {
      return FailedPrecondition(gate + ": " + name + " is " + record.status() + ", not SUCCESS (pass " +
                                PassLetter(pass) + " needs pass " + PassLetter(upstream) + ")");
    }
    if (record.artifacts_size() != 1) {
      return FailedPrecondition(gate + ": " + name + " has no artifact in the manifest");
    }
    const ArtifactRecord& artifact = record.artifacts(0);
    const std::string what = name + " artifact " + artifact.path();
    std::filesystem::path path = job_dir / artifact.path();
    // Hash first: a tampered file is reported as such, not as a parse error.
    Result<std::string> sha = Sha256File(path);
    if (!sha.ok()) return FailedPrecondition(gate + ": " + what + ": " + sha.status().message());
    if (*sha != artifact.sha256()) {
      return FailedPrecondition(gate + ": " + what + ": sha256 " + sha->substr(0, 12) + "... differs from manifest " +
                                artifact.sha256().substr(0, 12) + "...");
    }
    if (verified != nullptr) {
      auto known = verified->find(upstream);
      if (known != verified->end() && known->second.sha256 == *sha && known->second.records == artifact.records() &&
          known->second.bytes == artifact.bytes()) {
        scans.emplace(upstream, known->second);
        continue;
      }
    }
    Result<ArtifactScan> scan = ScanArtifact(path, upstream);
    if (!scan.ok()) return FailedPrecondition(gate + ": " + what + ": contract invalid: " + scan.status().message());
    if (scan->bytes != artifact.bytes() || scan->records != artifact.records()) {
      return FailedPrecondition(gate + ": " + what + ": " + std::to_string(scan->records) + " records, " +
                                std::to_string(scan->bytes) + " bytes; manifest says " +
                                std::to_string(artifact.records()) + ", " + std::to_string(artifact.bytes()));
    }
    scans.emplace(upstream, std::move(*scan));
  }
  return scans;
}

}  // namespace ingest
