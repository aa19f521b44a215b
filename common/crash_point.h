#pragma once

// Named points where a crash test can have the coordinator die as by a
// power cut: INGEST_CRASH_POINT=NAME[@N] sends the process SIGKILL the Nth
// time (1 by default) it reaches NAME. A point that acts on a file is also
// reached as NAME:FILE_NAME, e.g. "before_rename:passC_chunks.json". The
// points: journal_append (an entry buffered in a pass's journal),
// write:FILE (a buffered write to FILE's temp file), before_rename:FILE and
// after_rename:FILE (an atomic write), state_record (inside the state
// store's transaction of document states, before COMMIT), notification
// (the run's end, before its notifications go out).
// For tests (tests/integration/crash_test.cc); unset, a point costs a load
// and a branch.

#include <string_view>

namespace ingest {

void CrashPoint(std::string_view point, std::string_view file = {});

}  // namespace ingest
