#include "coordinator/metrics/metrics.h"

#include <regex>

#include "common/fleet_protocol.h"
#include "common/manifest.h"
#include "coordinator/fleet/fleet.h"
#include "coordinator/metrics/metrics_server.h"
#include "coordinator/notify/curl_transport.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The value of the series `series` (name and labels exactly as exposed, the
// labels sorted by name); -1 when absent.
double Value(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

PassRecord Record(const std::string& status, uint32_t executed, uint32_t reused, uint32_t retried, double seconds) {
  PassRecord record;
  record.set_status(status);
  record.mutable_metrics()->set_tasks_executed(executed);
  record.mutable_metrics()->set_tasks_reused(reused);
  record.mutable_metrics()->set_tasks_retried(retried);
  record.mutable_metrics()->set_duration_s(seconds);
  return record;
}

TEST(MetricsTest, EverySeriesStartsAtZeroSoTheFirstFailureIsAnIncrease) {
  CoordinatorMetrics metrics(nullptr);
  const std::string text = metrics.Text();
  EXPECT_EQ(Value(text, "ingestfleet_runs_total{status=\"failed\"}"), 0);
  EXPECT_EQ(Value(text, "ingestfleet_passes_total{pass=\"C\",status=\"failed\"}"), 0);
  EXPECT_EQ(Value(text, "ingestfleet_tasks_total{outcome=\"requeued\",pass=\"F\"}"), 0);
  EXPECT_EQ(Value(text, "ingestfleet_notifications_total{channel=\"email\",outcome=\"failed\"}"), 0);
  EXPECT_EQ(Value(text, "ingestfleet_last_success_timestamp_seconds"), 0);
  EXPECT_EQ(Value(text, "ingestfleet_build_info{protocol=\"" + std::to_string(kProtocolVersion) +
                            "\",version=\"" INGEST_VERSION "\"}"),
            1);
  EXPECT_THAT(text, HasSubstr("# TYPE ingestfleet_run_duration_seconds histogram"));
  EXPECT_THAT(text, HasSubstr("# TYPE ingestfleet_runs_total counter"));
}

TEST(MetricsTest, PassesAndRunsAreCountedByStatusAndOutcome) {
  CoordinatorMetrics metrics(nullptr);
  metrics.RunStarted();
  EXPECT_EQ(Value(metrics.Text(), "ingestfleet_run_in_progress"), 1);
  metrics.PassEnded(Pass::PASS_C, Record(kPassSuccess, 40, 10, 2, 3.5));
  metrics.PassEnded(Pass::PASS_D, Record(kPassCancelled, 5, 0, 0, 0.2));
  RunSummary summary;
  summary.set_run_id("run_20261202_020000_1");
  summary.set_status(kJobPartial);
  summary.set_duration_s(95);
  summary.mutable_documents()->set_processed(48);
  summary.mutable_documents()->set_failed(2);
  metrics.RunEnded(summary, std::chrono::system_clock::now());
  metrics.NotificationSent("slack", true);
  metrics.NotificationSent("healthcheck fail", false);
  metrics.FramesDropped(DropReason::kUnparsable, 7);
  metrics.FramesDropped(DropReason::kUnknownPeer, 2);

  const std::string text = metrics.Text();
  EXPECT_EQ(Value(text, "ingestfleet_run_in_progress"), 0);
  EXPECT_EQ(Value(text, "ingestfleet_tasks_total{outcome=\"executed\",pass=\"C\"}"), 40);
  EXPECT_EQ(Value(text, "ingestfleet_tasks_total{outcome=\"reused\",pass=\"C\"}"), 10);
  EXPECT_EQ(Value(text, "ingestfleet_tasks_total{outcome=\"retried\",pass=\"C\"}"), 2);
  EXPECT_EQ(Value(text, "ingestfleet_passes_total{pass=\"C\",status=\"success\"}"), 1);
  EXPECT_EQ(Value(text, "ingestfleet_passes_total{pass=\"D\",status=\"cancelled\"}"), 1);
  EXPECT_EQ(Value(text, "ingestfleet_pass_duration_seconds_bucket{pass=\"C\",le=\"5\"}"), 1);
  EXPECT_EQ(Value(text, "ingestfleet_pass_duration_seconds_bucket{pass=\"C\",le=\"2.5\"}"), 0);
  EXPECT_EQ(Value(text, "ingestfleet_runs_total{status=\"partial\"}"), 1);
  EXPECT_EQ(Value(text, "ingestfleet_last_run_status{status=\"partial\"}"), 1);
  EXPECT_EQ(Value(text, "ingestfleet_last_run_status{status=\"completed\"}"), 0);
  EXPECT_EQ(Value(text, "ingestfleet_run_duration_seconds_sum"), 95);
  EXPECT_EQ(Value(text, "ingestfleet_documents_total{outcome=\"processed\"}"), 48);
  EXPECT_EQ(Value(text, "ingestfleet_documents_total{outcome=\"failed\"}"), 2);
  EXPECT_EQ(Value(text, "ingestfleet_notifications_total{channel=\"slack\",outcome=\"delivered\"}"), 1);
  EXPECT_EQ(Value(text, "ingestfleet_notifications_total{channel=\"healthcheck\",outcome=\"failed\"}"), 1);
  EXPECT_EQ(Value(text, "ingestfleet_fleet_dropped_frames_total{reason=\"unparsable\"}"), 7);
  EXPECT_EQ(Value(text, "ingestfleet_fleet_dropped_frames_total{reason=\"unknown_peer\"}"), 2);
  EXPECT_EQ(Value(text, "ingestfleet_fleet_dropped_frames_total{reason=\"multipart\"}"), 0);
  EXPECT_EQ(Value(text, "ingestfleet_last_success_timestamp_seconds"), 0) << "a partial run is no success";
  // Bounded labels only: a run id would make a series per run.
  EXPECT_THAT(text, Not(HasSubstr("run_2026")));
}

TEST(MetricsTest, ACompletedRunSetsTheLastSuccess) {
  CoordinatorMetrics metrics(nullptr);
  RunSummary summary;
  summary.set_status(kJobCompleted);
  const WallTime ended = std::chrono::system_clock::from_time_t(1796191200);  // 2026-12-02T02:00:00Z
  metrics.RunEnded(summary, ended);
  EXPECT_EQ(Value(metrics.Text(), "ingestfleet_last_success_timestamp_seconds"), 1796191200);
}

TEST(MetricsTest, FleetGaugesAreReadFromTheFleetViewWhenCollected) {
  FleetView fleet;
  CoordinatorMetrics metrics(&fleet);
  EXPECT_EQ(Value(metrics.Text(), "ingestfleet_workers"), 0);
  fleet.Publish({{.id = WorkerId{"w1"}, .slots = 4, .tasks_in_flight = 3},
                 {.id = WorkerId{"w2"}, .slots = 2, .tasks_in_flight = 2}},
                25);
  const std::string text = metrics.Text();
  EXPECT_EQ(Value(text, "ingestfleet_workers"), 2);
  EXPECT_EQ(Value(text, "ingestfleet_worker_slots"), 6);
  EXPECT_EQ(Value(text, "ingestfleet_tasks_in_flight"), 5);
  EXPECT_EQ(Value(text, "ingestfleet_queue_depth"), 25);
}

TEST(MetricsTest, TheServerAnswersMetricsAndRefusesABadAddress) {
  CoordinatorMetrics metrics(nullptr);
  Result<std::unique_ptr<MetricsServer>> server = MetricsServer::Start("127.0.0.1:0", metrics);
  ASSERT_OK(server);
  Result<HttpAnswer> answer = PerformHttp(
      {.method = "GET", .url = "http://" + (*server)->address() + "/metrics", .timeout = std::chrono::seconds(10)});
  ASSERT_OK(answer);
  EXPECT_THAT(answer->body, HasSubstr("ingestfleet_build_info"));
  Result<HttpAnswer> other = PerformHttp(
      {.method = "GET", .url = "http://" + (*server)->address() + "/other", .timeout = std::chrono::seconds(10)});
  EXPECT_EQ(other.status().code(), StatusCode::kNotFound);
  (*server)->Stop();

  EXPECT_EQ(MetricsServer::Start("nonsense", metrics).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsServer::Start("127.0.0.1:99999", metrics).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsServer::Start("192.0.2.1:0", metrics).status().code(), StatusCode::kUnavailable)
      << "an address of no interface here cannot be bound";
}

}  // namespace
}  // namespace ingest
