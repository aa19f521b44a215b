#include "coordinator/pass/job_verify.h"

#include <set>

#include "common/artifact.h"
#include "common/manifest.h"
#include "common/pass.h"
#include "coordinator/pass/gate.h"

namespace ingest {
namespace {

// Whether `doc`'s records belong in the artifact of `pass`: it was processed
// or carried forward, or it failed only in a later pass.
bool ReachesPass(const DocumentRecord& doc, Pass pass) {
  if (doc.status() == kDocProcessed || doc.status() == kDocUnchanged) return true;
  if (doc.status() != kDocFailed) return false;  // quarantined
  Result<Pass> failed_in = ParsePass(doc.failed_pass());
  return failed_in.ok() && *failed_in > pass;
}

std::string DescribeDocument(const Manifest& manifest, const std::string& source_id) {
  auto doc = manifest.documents().find(source_id);
  if (doc == manifest.documents().end()) return source_id + " (not in the manifest)";
  return source_id + " (" + doc->second.source() + "/" + doc->second.path() + ", " + doc->second.status() + ")";
}

// Pass A's record of a document must say what the manifest says of it.
Status CheckToc(const Manifest& manifest, const TocRecord& toc) {
  auto doc = manifest.documents().find(toc.source_id());
  if (doc == manifest.documents().end()) return Status::Ok();  // reported as an extra document
  const DocumentRecord& d = doc->second;
  if (toc.source() != d.source() || toc.path() != d.path() || toc.checksum() != d.checksum()) {
    return InvalidArgument("pass A record of " + toc.source_id() + " names " + toc.source() + "/" + toc.path() +
                           " with checksum " + toc.checksum().substr(0, 12) + "...; the manifest says " + d.source() +
                           "/" + d.path() + " with " + d.checksum().substr(0, 12) + "...");
  }
  return Status::Ok();
}

void CheckCoverage(const Manifest& manifest, Pass pass, const ArtifactScan& scan, JobVerification* out) {
  const std::string name = "pass " + PassLetter(pass) + ": ";
  for (const auto& [id, doc] : manifest.documents()) {
    if (ReachesPass(doc, pass) && !scan.index->contains(id)) {
      out->problems.push_back(name + "no records for document " + DescribeDocument(manifest, id));
    }
  }
  for (const auto& [view, range] : *scan.index) {
    if (view.empty()) continue;  // corpus-wide records
    const std::string id(view);
    auto doc = manifest.documents().find(id);
    if (doc == manifest.documents().end() || !ReachesPass(doc->second, pass)) {
      out->problems.push_back(name + std::to_string(range.records) + " records of document " +
                              DescribeDocument(manifest, id) + ", which should have none in this pass");
    }
  }
}

}  // namespace

JobVerification VerifyJob(const std::filesystem::path& job_dir) {
  JobVerification out;
  const std::filesystem::path manifest_path = job_dir / kManifestFileName;
  Result<Manifest> loaded = LoadManifest(manifest_path);
  if (!loaded.ok()) {
    out.problems.push_back(loaded.status().message());
    return out;
  }
  const Manifest& manifest = *loaded;
  out.documents = static_cast<uint32_t>(manifest.documents_size());
  for (Pass pass : kAllPasses) {
    const PassRecord& record = PassEntry(manifest, pass);
    if (record.status() != kPassSuccess) {
      if (manifest.status() == kJobCompleted) {
        out.problems.push_back(manifest_path.string() + ": the job is completed but pass " + PassLetter(pass) + " is " +
                               record.status());
      }
      continue;
    }
    uint64_t records = 0;
    std::vector<std::string> record_problems;
    RecordVisitor visit = [&](const google::protobuf::Message& message) {
      ++records;
      if (pass == Pass::PASS_A) {
        Status agrees = CheckToc(manifest, static_cast<const TocRecord&>(message));
        if (!agrees.ok() && record_problems.size() < 10) record_problems.push_back(agrees.message());
      }
      return Status::Ok();
    };
    Result<ArtifactScan> scan = CheckPassArtifact(manifest, pass, job_dir, nullptr, visit);
    if (!scan.ok()) {
      out.problems.push_back(scan.status().message());
      continue;
    }
    ++out.artifacts;
    out.records += records;
    out.problems.insert(out.problems.end(), record_problems.begin(), record_problems.end());
    // Pass F's one record is corpus-wide: no document has records of its own there.
    if (Describe(pass).merge != MergeKind::kCleanup) CheckCoverage(manifest, pass, *scan, &out);
  }
  return out;
}

}  // namespace ingest
