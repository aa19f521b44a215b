#pragma once

#include <filesystem>
#include <functional>
#include <map>

#include "common/artifact.h"
#include "common/status.h"
#include "proto/fleet.pb.h"
#include "proto/manifest.pb.h"

namespace ingest {

using RecordVisitor = std::function<Status(const google::protobuf::Message&)>;

// One pass's recorded artifact against the manifest: present, its sha256,
// size and record count as recorded, every record valid against the
// contract and in order. `visit` (optional) sees each record. `verified`
// (optional) is this process's index of the file it wrote: when the file is
// as it was written (same inode, size, mtime and ctime), it is not hashed
// again; else when the sha256 recomputed now equals it, the bytes are those
// checked before they were written and are not parsed again (unless
// `visit` wants the records).
// FailedPrecondition reads "pass X artifact FILE: what is wrong".
Result<ArtifactScan> CheckPassArtifact(const Manifest& manifest, Pass pass, const std::filesystem::path& job_dir,
                                       const ArtifactScan* verified = nullptr, const RecordVisitor& visit = nullptr);

// Checks the gate before `pass` (SPEC §2): every upstream pass SUCCESS, its
// artifact present, its sha256, size and record count equal to the manifest,
// and every record valid against its contract. Returns the upstream scans
// (with their per-document indexes) for planning the pass.
// FailedPrecondition names the upstream pass and what is wrong.
//
// `verified` (optional) holds the indexes this process made of artifacts it
// wrote, every record validated before it was written: see CheckPassArtifact.
Result<std::map<Pass, ArtifactScan>> EvaluateGate(const Manifest& manifest, Pass pass,
                                                  const std::filesystem::path& job_dir,
                                                  const std::map<Pass, ArtifactScan>* verified = nullptr);

}  // namespace ingest
