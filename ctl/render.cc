#include "ctl/render.h"

#include <fmt/format.h>

#include "common/proto_json.h"
#include "common/utf8.h"
#include "proto/manifest.pb.h"

namespace ingest::ctl {
namespace {

constexpr int kBarWidth = 28;
constexpr double kPlainEvery = 10;  // seconds between plain progress lines
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);

double Seconds(const google::protobuf::Timestamp& t) {
  return static_cast<double>(t.seconds()) + static_cast<double>(t.nanos()) * 1e-9;
}

std::string Time(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0) return "-";
  const std::time_t s = t.seconds();
  std::tm tm{};
  gmtime_r(&s, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

std::string Duration(const admin::Run& run) {
  if (run.start_time().seconds() == 0) return "-";
  if (run.end_time().seconds() == 0) return "running";
  return fmt::format("{:.1f} s", Seconds(run.end_time()) - Seconds(run.start_time()));
}

std::string TriggerWord(admin::Trigger trigger) {
  switch (trigger) {
    case admin::TRIGGER_SCHEDULE:
      return "schedule";
    case admin::TRIGGER_MANUAL:
      return "manual";
    case admin::TRIGGER_API:
      return "api";
    default:
      return "-";
  }
}

std::string Eta(double seconds) {
  if (seconds < 0) return "-";
  if (seconds < 90) return fmt::format("{:.0f} s", seconds);
  return fmt::format("{:.0f} min", seconds / 60);
}

}  // namespace

std::string StateWord(admin::RunState state) {
  std::string name = admin::RunState_Name(state);
  const std::string prefix = "RUN_STATE_";
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  return AsciiLower(name);
}

void PrintRun(const admin::Run& run, std::ostream& out) {
  out << "run " << run.run_id() << "  " << StateWord(run.state());
  if (run.exit_code() >= 0) out << " (exit " << run.exit_code() << ")";
  out << "\n";
  out << fmt::format("  {:<10} {} {}\n", "job", run.job_id().empty() ? "-" : run.job_id(), run.job_dir());
  out << fmt::format("  {:<10} {}\n", "trigger", TriggerWord(run.trigger()));
  out << fmt::format("  {:<10} {}   ended {}   {}\n", "started", Time(run.start_time()), Time(run.end_time()),
                     Duration(run));
  for (const admin::PassStatus& p : run.passes()) {
    out << fmt::format("  pass {:<5} {:<10} {}/{} tasks", p.pass(), p.status(), p.tasks_done(), p.tasks_total());
    if (p.tasks_reused() > 0) out << ", " << p.tasks_reused() << " reused";
    if (p.documents_failed() > 0) out << ", " << p.documents_failed() << " documents failed";
    out << "\n";
  }
  if (run.has_summary()) {
    const RunSummary& s = run.summary();
    out << fmt::format("  {:<10} {} processed, {} new, {} changed, {} unchanged, {} deleted, {} failed\n", "documents",
                       s.documents().processed(), s.documents().new_(), s.documents().changed(),
                       s.documents().unchanged(), s.documents().deleted(), s.documents().failed());
    out << fmt::format("  {:<10} {} pages, {} chunks, {} entities, graph {} nodes / {} edges\n", "outputs", s.pages(),
                       s.chunks(), s.entities(), s.graph().nodes(), s.graph().edges());
    for (const std::string& e : s.errors().first()) out << "  error      " << e << "\n";
  }
  if (!run.cancel_reason().empty()) out << fmt::format("  {:<10} {}\n", "cancelled", run.cancel_reason());
  if (!run.report_path().empty()) out << fmt::format("  {:<10} {}\n", "report", run.report_path());
}

void PrintRuns(const admin::ListRunsResponse& runs, std::ostream& out) {
  out << fmt::format("{:<30} {:<10} {:<9} {:<21} {:>10} {:>9} {:>7}\n", "RUN", "STATE", "TRIGGER", "STARTED",
                     "DURATION", "DOCS", "FAILED");
  for (const admin::Run& run : runs.runs()) {
    out << fmt::format("{:<30} {:<10} {:<9} {:<21} {:>10} {:>9} {:>7}\n", run.run_id(), StateWord(run.state()),
                       TriggerWord(run.trigger()), Time(run.start_time()), Duration(run),
                       run.summary().documents().processed(), run.summary().documents().failed());
  }
  if (!runs.next_page_token().empty()) out << "more: --page-token " << runs.next_page_token() << "\n";
}

void PrintWorkers(const admin::ListWorkersResponse& workers, std::ostream& out) {
  out << fmt::format("{:<24} {:<22} {:>5} {:>9} {:>9} {:<21} {}\n", "WORKER", "ADDRESS", "SLOTS", "IN FLIGHT", "DONE",
                     "LAST HEARD", "");
  for (const admin::Worker& w : workers.workers()) {
    out << fmt::format("{:<24} {:<22} {:>5} {:>9} {:>9} {:<21} {}\n", w.worker_id(),
                       w.peer_address().empty() ? "-" : w.peer_address(), w.slots(), w.tasks_in_flight(),
                       w.tasks_done(), Time(w.last_heartbeat()), w.draining() ? "draining" : "");
  }
  if (workers.workers_size() == 0) out << "(no workers connected)\n";
}

void PrintPlan(const admin::Plan& plan, std::ostream& out) {
  out << "plan for env " << plan.env() << ", passes " << fmt::format("{}", fmt::join(plan.passes(), ",")) << ": "
      << plan.documents_to_process() << " documents to process, " << plan.documents_unchanged()
      << " unchanged, at least " << plan.tasks_per_pass() << " tasks per pass"
      << (plan.has_state_store() ? "" : " (no state store yet: everything is new)") << "\n";
  for (const admin::SourcePlan& s : plan.sources()) {
    out << "  " << s.name() << " (" << s.kind() << ", " << s.state();
    if (s.state() == "not_due") out << ", check_frequency " << s.check_frequency();
    out << ")";
    if (!s.error().empty()) out << ": " << s.error();
    if (s.kind() == "files" && s.state() == "due") {
      out << fmt::format(": {} new, {} modified, {} retried, {} deleted, {} unchanged", s.new_documents_size(),
                         s.modified_documents_size(), s.retried_documents_size(), s.deleted_documents_size(),
                         s.unchanged_documents());
    }
    out << "\n";
    for (const std::string& p : s.new_documents()) out << "    new       " << p << "\n";
    for (const std::string& p : s.modified_documents()) out << "    modified  " << p << "\n";
    for (const std::string& p : s.retried_documents()) out << "    retried   " << p << "\n";
    for (const std::string& p : s.deleted_documents()) out << "    deleted   " << p << "\n";
    for (const std::string& u : s.fetch_urls()) out << "    fetch     " << u << "\n";
  }
}

std::string LogLineText(const std::string& ndjson) {
  LogLine line;
  if (!FromForeignJson(ndjson, &line).ok()) return ndjson;
  std::string text = line.ts() + " " + line.level() + " ";
  if (!line.pass().empty()) text += "[" + line.pass() + "] ";
  text += line.message();
  if (!line.error().empty() && line.message().find(line.error()) == std::string::npos)
    text += " (" + line.error() + ")";
  return text;
}

std::string ProgressView::Describe(const std::string& pass, const PassLine& line) const {
  const double remaining = line.rate > 0 ? (line.total - line.done) / line.rate : -1;
  const int filled = line.total == 0 ? 0 : static_cast<int>(static_cast<uint64_t>(line.done) * kBarWidth / line.total);
  std::string bar;
  for (int i = 0; i < kBarWidth; ++i) bar += i < filled ? "\u2588" : "\u2591";
  std::string text = fmt::format("pass {} {:<9} ", pass, line.status);
  if (live_) text += bar + " ";
  text += fmt::format("{}/{} tasks", line.done, line.total);
  if (line.status == "RUNNING") {
    text += fmt::format(", {:.1f}/s, ETA {}", line.rate, Eta(remaining));
    if (line.workers > 0) text += fmt::format(", {} workers", line.workers);
  }
  if (line.failed > 0) text += fmt::format(", {} failed", line.failed);
  return text;
}

void ProgressView::Redraw(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  if (drawn_lines_ > 0) out_ << "\x1b[" << drawn_lines_ << "F";  // back to the first bar
  drawn_lines_ = 0;
  for (const auto& [pass, line] : passes_) {
    out_ << "\x1b[2K" << Describe(pass, line) << "\n";
    ++drawn_lines_;
  }
  out_.flush();
}

void ProgressView::Handle(const admin::RunEvent& event) {
  const double now = Seconds(event.time());
  if (event.has_snapshot() || event.has_run_ended()) {
    const admin::Run& run = event.has_snapshot() ? event.snapshot() : event.run_ended();
    run_id_ = run.run_id();
    for (const admin::PassStatus& p : run.passes()) {
      PassLine& line = passes_[p.pass()];
      line.status = p.status();
      line.done = p.tasks_done();
      line.total = p.tasks_total();
      line.failed = p.documents_failed();
    }
    if (live_) {
      Redraw(true);
    } else if (event.has_snapshot()) {
      out_ << "run " << run.run_id() << " " << StateWord(run.state()) << "\n";
    }
    if (event.has_run_ended()) {
      out_ << "run " << run.run_id() << " " << StateWord(run.state()) << " (exit " << run.exit_code() << ")\n";
    }
    return;
  }
  if (event.has_pass_started()) {
    PassLine& line = passes_[event.pass_started().pass()];
    line.status = "RUNNING";
    line.total = event.pass_started().tasks_total();
    line.done = event.pass_started().tasks_reused();
    line.first_seconds = now;
    line.first_done = line.done;
    if (!live_) {
      out_ << "pass " << event.pass_started().pass() << " started: " << line.total << " tasks";
      if (line.done > 0) out_ << ", " << line.done << " reused";
      out_ << "\n";
    }
  } else if (event.has_progress()) {
    const admin::PassProgress& p = event.progress();
    PassLine& line = passes_[p.pass()];
    line.done = p.tasks_done();
    line.total = p.tasks_total();
    line.failed = p.documents_failed();
    line.workers = p.workers();
    if (line.first_seconds < 0) {
      line.first_seconds = now;
      line.first_done = line.done;
    } else if (now > line.first_seconds) {
      line.rate = (line.done - line.first_done) / (now - line.first_seconds);
    }
    if (!live_ && (line.last_plain < 0 || now - line.last_plain >= kPlainEvery)) {
      line.last_plain = now;
      out_ << Describe(p.pass(), line) << "\n";
    }
  } else if (event.has_pass_ended()) {
    const admin::PassStatus& p = event.pass_ended().pass();
    PassLine& line = passes_[p.pass()];
    line.status = p.status();
    line.done = p.tasks_done();
    line.total = p.tasks_total();
    line.failed = p.documents_failed();
    if (!live_) {
      out_ << Describe(p.pass(), line);
      if (!event.pass_ended().error().empty()) out_ << ": " << event.pass_ended().error();
      out_ << "\n";
    }
  }
  if (live_) Redraw(event.has_pass_started() || event.has_pass_ended());
}

}  // namespace ingest::ctl
