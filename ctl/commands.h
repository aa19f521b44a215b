#pragma once

#include <string>

#include "ctl/client.h"

namespace ingest::ctl {

// ingestctl's commands (SPEC §6). Each prints human text, or with `json`
// one JSON document on stdout (streams: one per line), and returns the exit
// code. Errors go to stderr.

struct TriggerFlags {
  admin::RunFlags flags;
  std::string request_id;
  bool wait = false;    // block until the run ends; exit with its code
  bool follow = false;  // as wait, drawing its progress
};

int Trigger(AdminClient& client, bool json, const TriggerFlags& trigger);
int Plan(AdminClient& client, bool json, const admin::RunFlags& flags);
int Status(AdminClient& client, bool json, const std::string& run_id);
// `state`: "" or a state word; `all` pages through every run.
int Runs(AdminClient& client, bool json, const std::string& state, int limit, const std::string& page_token, bool all);
// Follows the run to its end and exits with the run's code.
int Watch(AdminClient& client, bool json, const std::string& run_id, bool progress = true);
int Logs(AdminClient& client, bool json, const std::string& run_id, int tail);
int Workers(AdminClient& client, bool json);
int Cancel(AdminClient& client, bool json, const std::string& run_id, const std::string& reason, bool wait);
int Resume(AdminClient& client, bool json, const std::string& run_id, const std::string& request_id, bool wait,
           bool follow);
int Report(AdminClient& client, bool json, const std::string& run_id);
int Health(AdminClient& client, bool json);

}  // namespace ingest::ctl
