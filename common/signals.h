#pragma once

namespace ingest {

// Routes SIGINT and SIGTERM to `handler` (without SA_RESTART, so a blocking
// poll returns EINTR and the loop sees the flag the handler sets).
void HandleStopSignals(void (*handler)(int));

}  // namespace ingest
