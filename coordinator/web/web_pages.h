#pragma once

#include <string>
#include <string_view>

#include "common/ids.h"
#include "proto/admin.pb.h"

namespace ingest {

namespace admin = ::ingestfleet::admin::v1;

// The status page's HTML, rendered on the server from the same messages
// the admin API and /api/ answer with. Every value that can come from a
// document, a config or an error is escaped. Pure functions: `now` is what
// the ages and the durations of running runs are measured against.

// What every page shows around its content.
struct PageFrame {
  std::string env;
  // Signed in with the login form: the page offers to sign out.
  bool signed_in = false;
};

// "completed", "running", ... for a run state; "" for unspecified.
std::string StateWord(admin::RunState state);
// The state a filter word names; RUN_STATE_UNSPECIFIED for "" and unknown words.
admin::RunState StateOfWord(std::string_view word);

// `/`: runs newest first, the status filter, a link to the next page.
std::string RenderRunsPage(const PageFrame& frame, const admin::ListRunsResponse& runs, admin::RunState filter,
                           WallTime now);
// `/runs/{id}`: passes with progress, failed documents by pass and error
// class, changes, the resume command and the failure report. A running
// run's page polls /api/runs/{id} and updates itself.
std::string RenderRunPage(const PageFrame& frame, const admin::Run& run, const admin::RunFailures& failures,
                          std::string_view report_markdown, WallTime now);
// `/workers`.
std::string RenderWorkersPage(const PageFrame& frame, const admin::ListWorkersResponse& workers, WallTime now);
// `/schedule`.
std::string RenderSchedulePage(const PageFrame& frame, const admin::Schedule& schedule, WallTime now);
// The sign-in form (answered with 401); `next` is where it leads after.
std::string RenderLoginPage(std::string_view next, bool wrong_token);
// A page that says what went wrong (404, 503).
std::string RenderErrorPage(const PageFrame& frame, int status, std::string_view message);

// The stylesheet and the script every page links (/static/...).
std::string_view StyleSheet();
std::string_view LiveScript();

}  // namespace ingest
