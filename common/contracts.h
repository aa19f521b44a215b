#pragma once

#include <string>

#include "common/status.h"
#include "proto/contracts.pb.h"
#include "proto/manifest.pb.h"

namespace ingest {

// The contract of each pass record type (SPEC §4): what a valid record is,
// which document it belongs to, and what it adds to the job's totals. The
// pass table (common/pass.h) points at these; nothing else should need to
// know which record type a pass writes.

// InvalidArgument names the field.
Status ValidateToc(const TocRecord& record);
Status ValidateSplit(const SplitRecord& record);
Status ValidateChunk(const ChunkRecord& record);
Status ValidateEnriched(const EnrichedRecord& record);
Status ValidateGraph(const GraphRecord& record);
Status ValidateCleanup(const CleanupRecord& record);

// The document a graph record belongs to; "" for corpus-wide entity nodes.
const std::string& GraphSourceId(const GraphRecord& record);

}  // namespace ingest
