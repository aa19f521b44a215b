#pragma once

namespace ingest {

// From now on SIGINT and SIGTERM are caught instead of ending the process:
// the first one's number is kept for CaughtStopSignal(), and a blocking
// poll returns EINTR (no SA_RESTART) so loops notice it. Idempotent.
void CatchStopSignals();

// The first SIGINT or SIGTERM caught since CatchStopSignals, or 0.
// Async-signal-safe and thread-safe.
int CaughtStopSignal();

}  // namespace ingest
