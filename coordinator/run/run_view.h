#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <string>
#include <vector>

#include "common/ids.h"
#include "common/status.h"
#include "coordinator/coordinator.h"
#include "coordinator/state/state_store.h"
#include "proto/admin.pb.h"
#include "proto/fleet.pb.h"
#include "proto/manifest.pb.h"

namespace ingest {

namespace admin = ::ingestfleet::admin::v1;

// The admin API's picture of a run (admin.v1.Run) from what the run itself
// records: its options, the manifest's words for states, the state store's
// rows. Pure functions.

// "completed" (manifest and store) → RUN_STATE_COMPLETED; "" and unknown
// words → RUN_STATE_UNSPECIFIED.
admin::RunState RunStateOf(const std::string& status);
// schedule | manual | api
admin::Trigger TriggerOf(const std::string& trigger);
// The trigger word a run records for `options`.
std::string TriggerName(const RunOptions& options);

// Unset for "" or a text that is not RFC 3339.
google::protobuf::Timestamp TimestampOf(const std::string& rfc3339);
google::protobuf::Timestamp TimestampOf(WallTime time);

// The flags of a run as the API shows them, and back: the options of a run
// asked for through the API (`config_file` is the server's).
admin::RunFlags FlagsOf(const RunOptions& options);
RunOptions OptionsOf(const admin::RunFlags& flags, const std::string& config_file);

// One pass of the manifest.
admin::PassStatus PassStatusOf(Pass pass, const PassRecord& record);

// A run as the state store recorded it, with the passes recorded when it
// ended.
admin::Run RunOf(const StoredRun& run, const std::vector<StoredPass>& passes);

}  // namespace ingest
