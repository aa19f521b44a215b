#include "coordinator/web/web_pages.h"

#include <fmt/format.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <array>

#include "common/utf8.h"
#include "coordinator/web/html.h"

namespace ingest {
namespace {

using google::protobuf::Timestamp;

struct StateLook {
  admin::RunState state;
  const char* word;
  const char* icon;  // beside the word, never instead of it
};

constexpr std::array<StateLook, 6> kStates = {{
    {admin::RUN_STATE_RUNNING, "running", "\xE2\x9F\xB3"},      // ⟳
    {admin::RUN_STATE_QUEUED, "queued", "\xE2\x80\xA6"},        // …
    {admin::RUN_STATE_COMPLETED, "completed", "\xE2\x9C\x94"},  // ✔
    {admin::RUN_STATE_PARTIAL, "partial", "\xE2\x97\x90"},      // ◐
    {admin::RUN_STATE_FAILED, "failed", "\xE2\x9C\x96"},        // ✖
    {admin::RUN_STATE_CANCELLED, "cancelled", "\xE2\x8A\x98"},  // ⊘
}};

const StateLook* LookOf(admin::RunState state) {
  for (const StateLook& look : kStates) {
    if (look.state == state) return &look;
  }
  return nullptr;
}

bool Live(admin::RunState state) { return state == admin::RUN_STATE_RUNNING || state == admin::RUN_STATE_QUEUED; }

std::string Esc(std::string_view text) { return Escaped(text); }

bool IsSet(const Timestamp& t) { return t.seconds() != 0 || t.nanos() != 0; }

WallTime WallOf(const Timestamp& t) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(t.seconds()) +
                                                                 std::chrono::nanoseconds(t.nanos())));
}

// "2026-12-06 02:00:13 UTC" in a <time> element; "—" when unset.
std::string TimeHtml(const Timestamp& t) {
  if (!IsSet(t)) return "\xE2\x80\x94";
  const std::string iso = google::protobuf::util::TimeUtil::ToString(t);
  std::string text = iso.substr(0, 19);
  std::replace(text.begin(), text.end(), 'T', ' ');
  return "<time datetime=\"" + Esc(iso) + "\">" + Esc(text) + " UTC</time>";
}

std::string DurationText(double seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return fmt::format("{:.1f} s", seconds);
  const auto total = static_cast<long long>(seconds);
  if (total < 3600) return fmt::format("{} min {:02} s", total / 60, total % 60);
  return fmt::format("{} h {:02} min", total / 3600, (total % 3600) / 60);
}

// From start to end, or to `now` while it lasts; "—" before it starts.
std::string Span(const Timestamp& start, const Timestamp& end, WallTime now) {
  if (!IsSet(start)) return "\xE2\x80\x94";
  const WallTime to = IsSet(end) ? WallOf(end) : now;
  return DurationText(std::chrono::duration<double>(to - WallOf(start)).count());
}

std::string AgeText(const Timestamp& t, WallTime now) {
  if (!IsSet(t)) return "never";
  return DurationText(std::chrono::duration<double>(now - WallOf(t)).count()) + " ago";
}

std::string Badge(admin::RunState state) {
  const StateLook* look = LookOf(state);
  if (look == nullptr) return "<span class=\"badge\">unknown</span>";
  return fmt::format("<span class=\"badge {0}\" data-field=\"state\"><span aria-hidden=\"true\">{1}</span> {0}</span>",
                     look->word, look->icon);
}

// "schedule", "manual", "api": the enum's name without its prefix.
std::string TriggerWord(admin::Trigger trigger) {
  if (trigger == admin::TRIGGER_UNSPECIFIED) return "\xE2\x80\x94";
  return AsciiLower(admin::Trigger_Name(trigger).substr(std::string_view("TRIGGER_").size()));
}

std::string FlagsText(const admin::RunFlags& f) {
  std::string out;
  auto add = [&out](const std::string& flag) { out += (out.empty() ? "" : " ") + flag; };
  if (f.full_refresh()) add("--full-refresh");
  if (f.baseline()) add("--baseline");
  if (f.resume()) add("--resume");
  if (!f.resume_from().empty()) add("--resume-from " + f.resume_from());
  if (!f.passes().empty()) add("--passes " + f.passes());
  for (const std::string& source : f.sources()) add("--source " + source);
  if (!f.job_dir().empty()) add("--job-dir " + f.job_dir());
  return out.empty() ? "none" : out;
}

std::string RunLink(const std::string& run_id) {
  return "<a href=\"/runs/" + Esc(run_id) + "\">" + Esc(run_id) + "</a>";
}

// The page around `body`. `live_url`: the JSON a running run's page polls.
std::string Page(const PageFrame& frame, std::string_view title, std::string_view current, std::string_view body,
                 std::string_view live_url = "") {
  std::string out =
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  AppendEscaped(title, &out);
  out += " \xC2\xB7 ingestfleet";
  if (!frame.env.empty()) out += " " + Esc(frame.env);
  out +=
      "</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
      "<script src=\"/static/live.js\" defer></script>\n</head>\n<body>\n"
      "<header><a class=\"brand\" href=\"/\">ingestfleet</a>";
  if (!frame.env.empty()) out += " <span class=\"env\">env " + Esc(frame.env) + "</span>";
  out += "\n<nav aria-label=\"Sections\"><ul>";
  for (const auto& [href, label] : std::array<std::pair<const char*, const char*>, 3>{
           {{"/", "Runs"}, {"/workers", "Workers"}, {"/schedule", "Schedule"}}}) {
    out +=
        fmt::format("<li><a href=\"{}\"{}>{}</a></li>", href, label == current ? " aria-current=\"page\"" : "", label);
  }
  out += "</ul></nav>";
  if (frame.signed_in) {
    out +=
        "<form class=\"signout\" method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form>";
  }
  out += "</header>\n<main";
  if (!live_url.empty()) out += " data-live=\"" + Esc(live_url) + "\"";
  out += ">\n";
  out.append(body);
  out += "</main>\n</body>\n</html>\n";
  return out;
}

std::string Count(uint64_t n) { return std::to_string(n); }

// One term and its value of a <dl class="facts">.
void Fact(std::string* body, std::string_view term, const std::string& html) {
  *body += "<div><dt>";
  body->append(term);
  *body += "</dt><dd>" + html + "</dd></div>\n";
}

}  // namespace

std::string StateWord(admin::RunState state) {
  const StateLook* look = LookOf(state);
  return look == nullptr ? "" : look->word;
}

admin::RunState StateOfWord(std::string_view word) {
  for (const StateLook& look : kStates) {
    if (word == look.word) return look.state;
  }
  return admin::RUN_STATE_UNSPECIFIED;
}

std::string RenderRunsPage(const PageFrame& frame, const admin::ListRunsResponse& runs, admin::RunState filter,
                           WallTime now) {
  std::string body =
      "<h1>Runs</h1>\n<form class=\"filter\" method=\"get\" action=\"/\">\n"
      "<label for=\"status\">Status</label>\n<select id=\"status\" name=\"status\">\n"
      "<option value=\"\">all</option>\n";
  for (const StateLook& look : kStates) {
    body += fmt::format("<option value=\"{0}\"{1}>{0}</option>\n", look.word, look.state == filter ? " selected" : "");
  }
  body += "</select>\n<button type=\"submit\">Filter</button>\n</form>\n";
  if (runs.runs().empty()) {
    body += filter == admin::RUN_STATE_UNSPECIFIED ? "<p>No runs yet.</p>\n"
                                                   : "<p>No " + StateWord(filter) + " runs.</p>\n";
  } else {
    body +=
        "<div class=\"scroll\"><table class=\"runs\">\n<caption>Newest first</caption>\n<thead><tr>"
        "<th scope=\"col\">Status</th><th scope=\"col\">Run</th><th scope=\"col\">Trigger</th>"
        "<th scope=\"col\">Started</th><th scope=\"col\">Duration</th><th scope=\"col\" class=\"num\">Processed</th>"
        "<th scope=\"col\" class=\"num\">Failed</th><th scope=\"col\" "
        "class=\"num\">Changes</th></tr></thead>\n<tbody>\n";
    for (const admin::Run& run : runs.runs()) {
      const bool ended = run.has_summary();
      const RunSummary& s = run.summary();
      body += "<tr><td>" + Badge(run.state()) + "</td><th scope=\"row\">" + RunLink(run.run_id()) + "</th><td>" +
              TriggerWord(run.trigger()) + "</td><td>" + TimeHtml(run.start_time()) + "</td><td>" +
              Span(run.start_time(), run.end_time(), now) + "</td>";
      if (ended) {
        body += "<td class=\"num\">" + Count(s.documents().processed()) + "</td><td class=\"num" +
                (s.documents().failed() > 0 ? " bad" : "") + "\">" + Count(s.documents().failed()) +
                "</td><td class=\"num\">" + Count(s.changes_detected()) + "</td>";
      } else {
        body +=
            "<td class=\"num\">\xE2\x80\x94</td><td class=\"num\">\xE2\x80\x94</td><td class=\"num\">\xE2\x80\x94</td>";
      }
      body += "</tr>\n";
    }
    body += "</tbody>\n</table></div>\n";
  }
  if (!runs.next_page_token().empty()) {
    std::string href = "/?page_token=" + Esc(runs.next_page_token());
    if (filter != admin::RUN_STATE_UNSPECIFIED) href += "&amp;status=" + StateWord(filter);
    body += "<p class=\"pager\"><a href=\"" + href + "\" rel=\"next\">Older runs \xE2\x86\x92</a></p>\n";
  }
  return Page(frame, "Runs", "Runs", body);
}

std::string RenderRunPage(const PageFrame& frame, const admin::Run& run, const admin::RunFailures& failures,
                          std::string_view report_markdown, WallTime now) {
  std::string body = "<h1>Run " + Esc(run.run_id()) + " " + Badge(run.state()) + "</h1>\n<dl class=\"facts\">\n";
  Fact(&body, "Env", Esc(run.env()));
  Fact(&body, "Job", run.job_id().empty() ? "not made yet" : Esc(run.job_id()));
  Fact(&body, "Trigger", TriggerWord(run.trigger()));
  Fact(&body, "Flags", "<code>" + Esc(FlagsText(run.flags())) + "</code>");
  Fact(&body, "Started", TimeHtml(run.start_time()));
  Fact(&body, "Ended", TimeHtml(run.end_time()));
  Fact(&body, "Duration", Span(run.start_time(), run.end_time(), now));
  if (run.exit_code() >= 0) Fact(&body, "Exit code", std::to_string(run.exit_code()));
  if (!run.cancel_reason().empty()) Fact(&body, "Cancelled", Esc(run.cancel_reason()));
  if (!run.job_dir().empty()) Fact(&body, "Job directory", "<code>" + Esc(run.job_dir()) + "</code>");
  body += "</dl>\n";

  body +=
      "<h2>Passes</h2>\n<div class=\"scroll\"><table class=\"passes\">\n<thead><tr><th scope=\"col\">Pass</th>"
      "<th scope=\"col\">Status</th><th scope=\"col\">Progress</th><th scope=\"col\" class=\"num\">Reused</th>"
      "<th scope=\"col\" class=\"num\">Failed</th><th scope=\"col\">Duration</th></tr></thead>\n<tbody>\n";
  for (const admin::PassStatus& pass : run.passes()) {
    const std::string status = AsciiLower(pass.status());
    const std::string id = Esc(pass.pass());
    body += fmt::format(
        "<tr data-pass=\"{0}\"><th scope=\"row\">{0}</th><td><span class=\"pass-status {1}\" "
        "data-field=\"status\">{1}</span></td><td><progress id=\"progress-{0}\" max=\"{2}\" value=\"{3}\" "
        "aria-label=\"Pass {0}: tasks done\">{3} of {2}</progress> <span data-field=\"done\">{3} / {4}</span></td>"
        "<td class=\"num\">{5}</td><td class=\"num\" data-field=\"failed\">{6}</td><td>{7}</td></tr>\n",
        id, Esc(status), std::max(pass.tasks_total(), 1u), pass.tasks_done(), pass.tasks_total(), pass.tasks_reused(),
        pass.documents_failed(), Span(pass.start_time(), pass.end_time(), now));
  }
  body += "</tbody>\n</table></div>\n";

  if (run.has_summary()) {
    const RunSummary& s = run.summary();
    body += fmt::format(
        "<h2>Documents</h2>\n<p>{} processed, {} unchanged, {} failed, {} quarantined; {} pages, {} chunks, {} "
        "entities.</p>\n",
        s.documents().processed(), s.documents().unchanged(), s.documents().failed(), s.documents().quarantined(),
        s.pages(), s.chunks(), s.entities());
  }
  body += fmt::format("<h2>Changes detected</h2>\n<p>{} new, {} changed, {} unchanged, {} deleted.</p>\n",
                      failures.changes().new_(), failures.changes().changed(), failures.changes().unchanged(),
                      failures.changes().deleted());

  size_t failed = 0;
  for (const admin::FailureGroup& group : failures.groups()) failed += group.documents_size();
  body += "<h2>Failed documents (" + std::to_string(failed) + ")</h2>\n";
  if (failed == 0) body += "<p>None.</p>\n";
  for (const admin::FailureGroup& group : failures.groups()) {
    body += "<h3>Pass " + Esc(group.pass()) + " \xE2\x80\x94 " + Esc(group.error_class()) + " (" +
            std::to_string(group.documents_size()) +
            ")</h3>\n<div class=\"scroll\"><table class=\"failures\">\n"
            "<thead><tr><th scope=\"col\">Document</th><th scope=\"col\">Error</th></tr></thead>\n<tbody>\n";
    for (const DocumentRecord& doc : group.documents()) {
      body += "<tr><td><code>" + Esc(doc.source() + "/" + doc.path()) + "</code></td><td>" + Esc(doc.error()) +
              "</td></tr>\n";
    }
    body += "</tbody>\n</table></div>\n";
  }
  if (!failures.resume_command().empty()) {
    body += "<h2>Resume</h2>\n<p>On the coordinator's host:</p>\n<pre><code>" + Esc(failures.resume_command()) +
            "</code></pre>\n<p>Or through the admin API:</p>\n<pre><code>ingestctl resume " + Esc(run.run_id()) +
            "</code></pre>\n";
  }
  if (!report_markdown.empty()) {
    body += "<h2>Failure report</h2>\n";
    if (!run.report_path().empty()) body += "<p><code>" + Esc(run.report_path()) + "</code></p>\n";
    body += "<article class=\"report\">\n" + MarkdownToHtml(report_markdown) + "</article>\n";
  }
  return Page(frame, "Run " + run.run_id(), "Runs", body, Live(run.state()) ? "/api/runs/" + run.run_id() : "");
}

std::string RenderWorkersPage(const PageFrame& frame, const admin::ListWorkersResponse& workers, WallTime now) {
  std::string body = "<h1>Workers</h1>\n";
  if (workers.workers().empty()) {
    body += "<p>No workers are connected to this coordinator.</p>\n";
    return Page(frame, "Workers", "Workers", body);
  }
  uint64_t slots = 0;
  uint64_t in_flight = 0;
  for (const admin::Worker& w : workers.workers()) {
    slots += w.slots();
    in_flight += w.tasks_in_flight();
  }
  body += fmt::format("<p>{} workers, {} slots, {} tasks in flight.</p>\n", workers.workers_size(), slots, in_flight);
  body +=
      "<div class=\"scroll\"><table class=\"workers\">\n<thead><tr><th scope=\"col\">Worker</th>"
      "<th scope=\"col\">Address</th><th scope=\"col\">Version</th><th scope=\"col\" class=\"num\">Slots</th>"
      "<th scope=\"col\" class=\"num\">In flight</th><th scope=\"col\" class=\"num\">Done</th>"
      "<th scope=\"col\">Last heartbeat</th><th scope=\"col\">State</th></tr></thead>\n<tbody>\n";
  for (const admin::Worker& w : workers.workers()) {
    body += "<tr><th scope=\"row\">" + Esc(w.worker_id()) + "</th><td>" +
            (w.peer_address().empty() ? "\xE2\x80\x94" : Esc(w.peer_address())) + "</td><td>" + Esc(w.version()) +
            "</td><td class=\"num\">" + Count(w.slots()) + "</td><td class=\"num\">" + Count(w.tasks_in_flight()) +
            "</td><td class=\"num\">" + Count(w.tasks_done()) + "</td><td>" + AgeText(w.last_heartbeat(), now) +
            "</td><td>" + (w.draining() ? "draining" : "serving") + "</td></tr>\n";
  }
  body += "</tbody>\n</table></div>\n";
  return Page(frame, "Workers", "Workers", body);
}

std::string RenderSchedulePage(const PageFrame& frame, const admin::Schedule& schedule, WallTime now) {
  std::string body = "<h1>Schedule</h1>\n<dl class=\"facts\">\n";
  Fact(&body, "Cron", "<code>" + Esc(schedule.cron()) + "</code>");
  Fact(&body, "Time zone", Esc(schedule.timezone()));
  std::string next = "never: the expression does not fire again";
  if (schedule.has_next_run()) {
    const double in = std::chrono::duration<double>(WallOf(schedule.next_run()) - now).count();
    next = Esc(schedule.next_run_local()) + ", in " + DurationText(in);
    if (schedule.timezone() != "UTC") next += " (" + TimeHtml(schedule.next_run()) + ")";
  }
  Fact(&body, "Next run", next);
  Fact(&body, "Started by",
       schedule.scheduled_here() ? "this coordinator (<code>serve</code>)"
                                 : "a CronJob or timer: this process serves one run");
  Fact(&body, "Last success",
       schedule.has_last_success()
           ? RunLink(schedule.last_success().run_id()) + ", ended " + TimeHtml(schedule.last_success().end_time())
           : std::string("none yet"));
  Fact(&body, "Last run",
       schedule.has_last_run() ? RunLink(schedule.last_run().run_id()) + " " + Badge(schedule.last_run().state()) +
                                     ", started " + TimeHtml(schedule.last_run().start_time())
                               : std::string("none yet"));
  body += "</dl>\n";
  return Page(frame, "Schedule", "Schedule", body);
}

std::string RenderLoginPage(std::string_view next, bool wrong_token) {
  std::string body = "<h1>Sign in</h1>\n";
  if (wrong_token) body += "<p class=\"error\" role=\"alert\">That token is not valid here.</p>\n";
  body +=
      "<p>This status page needs the admin API's read token (or its operate token).</p>\n"
      "<form class=\"login\" method=\"post\" action=\"/login\">\n<input type=\"hidden\" name=\"next\" value=\"" +
      Esc(next) +
      "\">\n<label for=\"token\">Admin read token</label>\n"
      "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required>\n"
      "<button type=\"submit\">Sign in</button>\n</form>\n";
  return Page(PageFrame{}, "Sign in", "", body);
}

std::string RenderErrorPage(const PageFrame& frame, int status, std::string_view message) {
  return Page(frame, std::to_string(status), "",
              "<h1>" + std::to_string(status) + "</h1>\n<p class=\"error\">" + Esc(message) + "</p>\n");
}

}  // namespace ingest
