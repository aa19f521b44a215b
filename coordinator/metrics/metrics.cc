#include "coordinator/metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "common/fleet_protocol.h"
#include "common/manifest.h"
#include "common/utf8.h"
#include "coordinator/fleet/fleet.h"
#include "coordinator/notify/curl_transport.h"

namespace ingest {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// A nightly run takes minutes to hours; a pass, seconds to an hour.
const Histogram::BucketBoundaries kRunBuckets = {10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800};
const Histogram::BucketBoundaries kPassBuckets = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};

// Every value a label can take, so each series exists (at 0) from the first
// scrape: increase() and rate() then see the first failure too.
constexpr const char* kRunStatuses[] = {kJobCompleted, kJobPartial, kJobFailed, kJobCancelled};
constexpr const char* kPassStatuses[] = {"success", "failed", "cancelled"};
constexpr const char* kTaskOutcomes[] = {"executed", "reused", "retried", "requeued"};
constexpr const char* kDocumentOutcomes[] = {"processed", "unchanged", "failed", "quarantined", "deleted"};
constexpr const char* kChannels[] = {"slack", "webhook", "email", "healthcheck"};

double UnixSeconds(WallTime when) { return std::chrono::duration<double>(when.time_since_epoch()).count(); }

// A metric family, and the one series of an unlabelled one.
template <typename Builder>
auto& FamilyOf(Builder builder, prometheus::Registry& r, const char* name, const char* help) {
  return builder.Name(name).Help(help).Register(r);
}
Gauge& OneGauge(prometheus::Registry& r, const char* name, const char* help) {
  return FamilyOf(prometheus::BuildGauge(), r, name, help).Add({});
}
Family<Counter>& Counters(prometheus::Registry& r, const char* name, const char* help) {
  return FamilyOf(prometheus::BuildCounter(), r, name, help);
}

}  // namespace

struct CoordinatorMetrics::Families {
  explicit Families(prometheus::Registry& r)
      : build_info(FamilyOf(prometheus::BuildGauge(), r, "ingestfleet_build_info",
                            "Always 1; the labels say which release and fleet protocol run")),
        runs(Counters(r, "ingestfleet_runs_total", "Runs ended, by status")),
        last_run_status(FamilyOf(prometheus::BuildGauge(), r, "ingestfleet_last_run_status",
                                 "1 for the status of the last run that ended, 0 for the others; kept by a "
                                 "Pushgateway between CronJob runs, so an alert sees a failed night until the next")),
        run_in_progress(OneGauge(r, "ingestfleet_run_in_progress", "1 while a run of this coordinator is in progress")),
        last_success(OneGauge(r, "ingestfleet_last_success_timestamp_seconds",
                              "When the last completed run ended, Unix time; 0 for never")),
        run_duration(FamilyOf(prometheus::BuildHistogram(), r, "ingestfleet_run_duration_seconds", "Wall time of a run")
                         .Add({}, kRunBuckets)),
        pass_duration(
            FamilyOf(prometheus::BuildHistogram(), r, "ingestfleet_pass_duration_seconds", "Wall time of a pass")),
        passes(Counters(r, "ingestfleet_passes_total", "Passes ended, by pass and status")),
        tasks(Counters(r, "ingestfleet_tasks_total",
                       "Tasks by pass and outcome: executed by a worker, reused (journal or carried forward), "
                       "retried after a failure, requeued from a lost worker")),
        documents(Counters(r, "ingestfleet_documents_total", "Documents of ended runs, by outcome")),
        queue_depth(OneGauge(r, "ingestfleet_queue_depth",
                             "Tasks waiting for a free worker slot, queued or backing off before a retry")),
        in_flight(OneGauge(r, "ingestfleet_tasks_in_flight", "Tasks leased to workers")),
        workers(OneGauge(r, "ingestfleet_workers", "Workers connected to the fleet")),
        slots(OneGauge(r, "ingestfleet_worker_slots", "Task slots of the connected workers")),
        dropped_frames(Counters(r, "ingestfleet_fleet_dropped_frames_total",
                                "Fleet frames dropped, by reason: unparsable, multipart, from an unknown peer, "
                                "of another protocol version")),
        notifications(Counters(r, "ingestfleet_notifications_total",
                               "Notification deliveries by channel and outcome (delivered, failed)")) {
    build_info.Add({{"version", INGEST_VERSION}, {"protocol", std::to_string(kProtocolVersion)}}).Set(1);
    for (const char* status : kRunStatuses) {
      runs.Add({{"status", status}});
      last_run_status.Add({{"status", status}});
    }
    for (size_t reason = 0; reason < kDropReasons; ++reason) {
      dropped_frames.Add({{"reason", DropReasonName(static_cast<DropReason>(reason))}});
    }
    for (Pass pass : kAllPasses) {
      const std::string& letter = PassLetter(pass);
      pass_duration.Add({{"pass", letter}}, kPassBuckets);
      for (const char* status : kPassStatuses) passes.Add({{"pass", letter}, {"status", status}});
      for (const char* outcome : kTaskOutcomes) tasks.Add({{"pass", letter}, {"outcome", outcome}});
    }
    for (const char* outcome : kDocumentOutcomes) documents.Add({{"outcome", outcome}});
    for (const char* channel : kChannels) {
      for (const char* outcome : {"delivered", "failed"})
        notifications.Add({{"channel", channel}, {"outcome", outcome}});
    }
  }

  Family<Gauge>& build_info;
  Family<Counter>& runs;
  Family<Gauge>& last_run_status;
  Gauge& run_in_progress;
  Gauge& last_success;
  Histogram& run_duration;
  Family<Histogram>& pass_duration;
  Family<Counter>& passes;
  Family<Counter>& tasks;
  Family<Counter>& documents;
  Gauge& queue_depth;
  Gauge& in_flight;
  Gauge& workers;
  Gauge& slots;
  Family<Counter>& dropped_frames;
  Family<Counter>& notifications;
};

CoordinatorMetrics::CoordinatorMetrics(const FleetView* fleet)
    : fleet_(fleet),
      registry_(std::make_shared<prometheus::Registry>()),
      families_(std::make_unique<Families>(*registry_)) {}

CoordinatorMetrics::~CoordinatorMetrics() = default;

void CoordinatorMetrics::RunStarted() { families_->run_in_progress.Set(1); }

void CoordinatorMetrics::PassEnded(Pass pass, const PassRecord& record) {
  const std::string& letter = PassLetter(pass);
  const PassMetrics& m = record.metrics();
  families_->pass_duration.Add({{"pass", letter}}, kPassBuckets).Observe(m.duration_s());
  families_->passes.Add({{"pass", letter}, {"status", AsciiLower(record.status())}}).Increment();
  auto add = [&](const char* outcome, uint32_t count) {
    families_->tasks.Add({{"pass", letter}, {"outcome", outcome}}).Increment(count);
  };
  add("executed", m.tasks_executed());
  add("reused", m.tasks_reused());
  add("retried", m.tasks_retried());
  add("requeued", m.tasks_requeued());
}

void CoordinatorMetrics::RunEnded(const RunSummary& summary, WallTime ended) {
  families_->run_in_progress.Set(0);
  families_->runs.Add({{"status", summary.status()}}).Increment();
  for (const char* status : kRunStatuses) {
    families_->last_run_status.Add({{"status", status}}).Set(summary.status() == status ? 1 : 0);
  }
  families_->run_duration.Observe(summary.duration_s());
  const DocumentCounts& d = summary.documents();
  auto add = [&](const char* outcome, uint32_t count) {
    families_->documents.Add({{"outcome", outcome}}).Increment(count);
  };
  add("processed", d.processed());
  add("unchanged", d.unchanged());
  add("failed", d.failed());
  add("quarantined", d.quarantined());
  add("deleted", d.deleted());
  if (summary.status() == kJobCompleted) SetLastSuccess(ended);
}

void CoordinatorMetrics::SetLastSuccess(WallTime when) { families_->last_success.Set(UnixSeconds(when)); }

void CoordinatorMetrics::NotificationSent(const std::string& channel, bool delivered) {
  // "healthcheck start" and "healthcheck fail" are one channel.
  const std::string name = channel.substr(0, channel.find(' '));
  families_->notifications.Add({{"channel", name}, {"outcome", delivered ? "delivered" : "failed"}}).Increment();
}

void CoordinatorMetrics::FramesDropped(DropReason reason, uint64_t frames) {
  families_->dropped_frames.Add({{"reason", DropReasonName(reason)}}).Increment(static_cast<double>(frames));
}

std::string CoordinatorMetrics::Text() const {
  if (fleet_ != nullptr) {
    uint64_t in_flight = 0;
    uint64_t slots = 0;
    const std::vector<WorkerInfo> workers = fleet_->Workers();
    for (const WorkerInfo& w : workers) {
      in_flight += w.tasks_in_flight;
      slots += w.slots;
    }
    families_->workers.Set(static_cast<double>(workers.size()));
    families_->slots.Set(static_cast<double>(slots));
    families_->in_flight.Set(static_cast<double>(in_flight));
    families_->queue_depth.Set(static_cast<double>(fleet_->tasks_queued()));
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

Status PushMetrics(const CoordinatorMetrics& metrics, const std::string& url, const std::string& env) {
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  Result<HttpAnswer> answer = PerformHttp({.method = "PUT",
                                           .url = base + "/metrics/job/ingestfleet/env/" + env,
                                           .headers = {{"Content-Type", "text/plain; version=0.0.4"}},
                                           .body = metrics.Text(),
                                           .timeout = std::chrono::seconds(10)});
  if (!answer.ok())
    return Status(answer.status().code(), "metrics push to the Pushgateway: " + answer.status().message());
  return Status::Ok();
}

}  // namespace ingest
