#pragma once

#include <chrono>
#include <map>
#include <ostream>
#include <string>

#include "proto/admin.pb.h"

namespace ingest::ctl {

namespace admin = ::ingestfleet::admin::v1;

// ingestctl's human output. --json output is the messages' canonical JSON
// instead, printed by the commands.

// "completed", "running", ...
std::string StateWord(admin::RunState state);
void PrintRun(const admin::Run& run, std::ostream& out);
void PrintRuns(const admin::ListRunsResponse& runs, std::ostream& out);
void PrintWorkers(const admin::ListWorkersResponse& workers, std::ostream& out);
void PrintPlan(const admin::Plan& plan, std::ostream& out);
// One NDJSON log line (proto ingest.LogLine) as "ts level [pass] message".
std::string LogLineText(const std::string& ndjson);

// Live progress of a watched run on stderr. On a terminal (`live`) one bar
// per pass, redrawn in place: done / total, rate, ETA, failed documents;
// otherwise plain lines: each pass's start and end, and its progress every
// few seconds.
class ProgressView {
 public:
  ProgressView(std::ostream& out, bool live) : out_(out), live_(live) {}
  void Handle(const admin::RunEvent& event);

 private:
  struct PassLine {
    std::string status = "PENDING";
    uint32_t done = 0;
    uint32_t total = 0;
    uint32_t failed = 0;
    uint32_t workers = 0;
    // Where the rate is measured from.
    double first_seconds = -1;
    uint32_t first_done = 0;
    double rate = 0;  // tasks per second
    double last_plain = -1;
  };
  void Redraw(bool force);
  std::string Describe(const std::string& pass, const PassLine& line) const;

  std::ostream& out_;
  const bool live_;
  std::map<std::string, PassLine> passes_;
  std::string run_id_;
  int drawn_lines_ = 0;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace ingest::ctl
