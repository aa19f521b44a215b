#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"
#include "proto/fleet.pb.h"
#include "proto/manifest.pb.h"

namespace ingest {

// Pass statuses as the manifest spells them.
inline constexpr char kPassPending[] = "PENDING";
inline constexpr char kPassRunning[] = "RUNNING";
inline constexpr char kPassSuccess[] = "SUCCESS";
inline constexpr char kPassFailed[] = "FAILED";
inline constexpr char kPassSkipped[] = "SKIPPED";
// Stopped by a cancelled run; --resume reruns it, reusing its journal.
inline constexpr char kPassCancelled[] = "CANCELLED";

// Job and run statuses.
inline constexpr char kJobPending[] = "pending";
inline constexpr char kJobRunning[] = "running";
inline constexpr char kJobCompleted[] = "completed";
inline constexpr char kJobFailed[] = "failed";
inline constexpr char kJobPartial[] = "partial";
inline constexpr char kJobCancelled[] = "cancelled";

// Document statuses.
inline constexpr char kDocProcessed[] = "processed";
inline constexpr char kDocUnchanged[] = "unchanged";
inline constexpr char kDocFailed[] = "failed";
// Failed in run.quarantine_after runs in a row and unchanged since: skipped.
inline constexpr char kDocQuarantined[] = "quarantined";

inline constexpr char kManifestFileName[] = "manifest.json";

// A manifest for a new job: every pass PENDING.
Manifest NewManifest(const std::string& job_id, const std::string& env);

// Reads `path` strictly: unknown fields, a missing pass or an unknown status
// value are InvalidArgument naming the file; NotFound when it is missing.
Result<Manifest> LoadManifest(const std::filesystem::path& path);

// LoadManifest without the documents: "documents" and "source_sha_map" (the
// bulk of a large job's manifest) are stepped over unparsed and left empty;
// every other member is read as strictly. For readers of a job's passes:
// carry-forward reads the previous job's manifest so.
Result<Manifest> LoadManifestWithoutDocuments(const std::filesystem::path& path);

// The job's top-level "status" alone, found without parsing the documents
// (a manifest of a large corpus is megabytes, and retention asks every job).
// InvalidArgument when the file is not a JSON object with a plain string
// status.
Result<std::string> ReadManifestStatus(const std::filesystem::path& path);

// Writes the manifest atomically (temp file, fsync, rename, fsync of the dir).
Status SaveManifest(const std::filesystem::path& path, const Manifest& manifest);
// The manifest as SaveManifest writes it: protobuf's indented JSON, byte
// for byte, from our own printer (a job's manifest is saved at every pass
// and holds every document).
std::string ManifestJson(const Manifest& manifest);
// A document's entry as AppendJson prints it, without reflection; false when
// a string is not UTF-8.
bool AppendDocumentJson(const DocumentRecord& doc, std::string* out);

// The manifest entry of `pass`; it always exists in a loaded manifest.
PassRecord& PassEntry(Manifest& manifest, Pass pass);
const PassRecord& PassEntry(const Manifest& manifest, Pass pass);

}  // namespace ingest
