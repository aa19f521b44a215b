// The coordinator's Prometheus metrics against the real tools: promtool on a
// scrape after a run, a real Prometheus server scraping a coordinator on
// loopback, a real Pushgateway receiving a run's push, the alert rules'
// unit tests, and the dashboard's and rules' queries against what is really
// exported. Each skips, saying so, when its Debian tool is not installed.

#include <unistd.h>

#include <csignal>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "coordinator/notify/curl_transport.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::ReadAll;
using testing::Scaled;
using testing::Subprocess;
using testing::TempDir;
using testing::WaitForLine;

std::optional<std::filesystem::path> FindProgram(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::filesystem::path candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::string NotInstalled(const std::string& name) {
  return name + " is not installed (Debian package prometheus or prometheus-pushgateway; scripts/setup.sh installs it)";
}

std::string Get(const std::string& url) {
  Result<HttpAnswer> answer = PerformHttp({.method = "GET", .url = url, .timeout = std::chrono::seconds(10)});
  return answer.ok() ? answer->body : "";
}

// Polls `url` until its body contains `needle`; the last body either way.
std::string GetUntil(const std::string& url, const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string body;
  while (std::chrono::steady_clock::now() < deadline) {
    body = Get(url);
    if (body.find(needle) != std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  }
  return body;
}

// Metric names a query or rule file mentions, without the _bucket / _sum /
// _count of a histogram's series.
std::set<std::string> MetricNamesIn(const std::string& text) {
  std::set<std::string> names;
  const std::regex name(R"(ingestfleet_[a-z_]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator(); ++it) {
    std::string n = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (n.size() > s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0) n.resize(n.size() - s.size());
    }
    names.insert(n);
  }
  return names;
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    corpus_ = dir_.path() / "corpus";
    std::filesystem::create_directories(corpus_);
    for (int d = 0; d < 12; ++d) {
      std::ofstream(corpus_ / ("note" + std::to_string(d) + ".md"))
          << "# Note " << d << "\n\nThe Night Shift reads the logs of night " << d << " before dawn.\n";
    }
  }

  void WriteConfig(const std::string& metrics) {
    dir_.Write("ingest.yaml",
               "env: mtest\n"
               "artifact_root: ./artifacts\n"
               "fleet: { bind: \"tcp://127.0.0.1:*\", heartbeat_ms: 200, liveness: " +
                   std::to_string(testing::FleetLiveness()) +
                   ", wait_for_workers_s: 30 }\n"
                   "schedule: { cron: \"0 2 1 1 *\" }\n"
                   "sources:\n"
                   "  - { name: notes, kind: files, root: ./corpus }\n"
                   "metrics: " +
                   metrics + "\n");
  }

  std::string Bin(const char* name) const { return (testing::BinDir() / name).string(); }

  // `serve` with metrics on a free loopback port and two workers, after one
  // run triggered through ingestctl; sets metrics_address_.
  void ServeAndRunOnce() {
    WriteConfig("{ listen: \"127.0.0.1:0\" }");
    serve_ = std::make_unique<Subprocess>(
        std::vector<std::string>{Bin("ingest-coordinator"), "serve", "--config", (dir_.path() / "ingest.yaml").string(),
                                 "--admin-listen", "127.0.0.1:0", "--local-workers", "2", "--local-worker-slots", "1"},
        dir_.path() / "serve.out", dir_.path() / "serve.err");
    const auto err = dir_.path() / "serve.err";
    metrics_address_ = WaitForLine(err, "metrics: listening on ", Scaled(20s));
    metrics_address_ = metrics_address_.substr(0, metrics_address_.find(' '));
    std::string admin = WaitForLine(err, "admin: listening on ", Scaled(20s));
    admin = admin.substr(0, admin.find(' '));
    ASSERT_FALSE(metrics_address_.empty() || admin.empty()) << ReadAll(err);
    ASSERT_FALSE(WaitForLine(err, "joined", Scaled(20s)).empty()) << ReadAll(err);
    Subprocess ctl({Bin("ingestctl"), "--server", admin, "run", "--wait"}, dir_.path() / "ctl.out",
                   dir_.path() / "ctl.err", {"NO_COLOR=1"});
    ASSERT_EQ(ctl.Wait(Scaled(60s)), 0) << ReadAll(dir_.path() / "ctl.err") << ReadAll(err);
  }

  void TearDown() override {
    if (serve_) {
      serve_->Signal(SIGTERM);
      EXPECT_EQ(serve_->Wait(Scaled(30s)), 0) << ReadAll(dir_.path() / "serve.err");
    }
  }

  TempDir dir_;
  std::filesystem::path corpus_;
  std::unique_ptr<Subprocess> serve_;
  std::string metrics_address_;
};

TEST_F(MetricsTest, AScrapeAfterARunPassesPromtoolAndHoldsEveryMetricTheDashboardAndAlertsQuery) {
  ServeAndRunOnce();
  const std::string scrape = GetUntil("http://" + metrics_address_ + "/metrics",
                                      "ingestfleet_runs_total{status=\"completed\"} 1", Scaled(10s));
  EXPECT_THAT(scrape, HasSubstr("ingestfleet_runs_total{status=\"completed\"} 1"));
  EXPECT_THAT(scrape, HasSubstr("ingestfleet_workers 2"));
  EXPECT_THAT(scrape, HasSubstr("ingestfleet_tasks_total{outcome=\"executed\",pass=\"C\"} 12"));
  EXPECT_THAT(scrape, HasSubstr("ingestfleet_last_run_status{status=\"completed\"} 1"));

  std::set<std::string> exported;
  const std::regex type(R"(# TYPE (ingestfleet_[a-z_]+) )");
  for (auto it = std::sregex_iterator(scrape.begin(), scrape.end(), type); it != std::sregex_iterator(); ++it) {
    exported.insert((*it)[1].str());
  }
  const std::filesystem::path source = INGEST_SOURCE_DIR;
  for (const char* file : {"deploy/grafana/ingestfleet.json", "deploy/prometheus/alerts.yaml"}) {
    const std::set<std::string> queried = MetricNamesIn(ReadAll(source / file));
    EXPECT_FALSE(queried.empty()) << file;
    for (const std::string& name : queried) EXPECT_TRUE(exported.count(name)) << file << " queries " << name;
  }

  const std::optional<std::filesystem::path> promtool = FindProgram("promtool");
  if (!promtool) GTEST_SKIP() << NotInstalled("promtool");
  dir_.Write("scrape.txt", scrape);
  Subprocess check({"/bin/sh", "-c", promtool->string() + " check metrics < " + (dir_.path() / "scrape.txt").string()},
                   dir_.path() / "promtool.out", dir_.path() / "promtool.err");
  EXPECT_EQ(check.Wait(Scaled(30s)), 0) << ReadAll(dir_.path() / "promtool.err");
  EXPECT_EQ(ReadAll(dir_.path() / "promtool.err"), "") << "promtool's lint found no issue";
}

TEST_F(MetricsTest, ARealPrometheusScrapesTheCoordinatorAndAnswersWithTheRunsMetrics) {
  const std::optional<std::filesystem::path> prometheus = FindProgram("prometheus");
  if (!prometheus) GTEST_SKIP() << NotInstalled("prometheus");
  ServeAndRunOnce();
  const uint16_t port = testing::FreeLoopbackPort();
  dir_.Write("prometheus.yml",
             "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
             "scrape_configs:\n"
             "  - job_name: ingestfleet\n"
             "    static_configs: [ { targets: [\"" +
                 metrics_address_ + "\"] } ]\n");
  Subprocess server({prometheus->string(), "--config.file=" + (dir_.path() / "prometheus.yml").string(),
                     "--storage.tsdb.path=" + (dir_.path() / "tsdb").string(),
                     "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                    dir_.path() / "prometheus.out", dir_.path() / "prometheus.err");
  const std::string api = "http://127.0.0.1:" + std::to_string(port) + "/api/v1/query?query=";
  const std::string answer =
      GetUntil(api + "ingestfleet_runs_total%7Bstatus%3D%22completed%22%7D", "\"value\":[", Scaled(60s));
  EXPECT_THAT(answer, HasSubstr("\"job\":\"ingestfleet\"")) << ReadAll(dir_.path() / "prometheus.err");
  EXPECT_THAT(answer, HasSubstr("\"1\"]")) << answer;
  // Both workers, once a scrape has seen them (a busy machine may show one
  // re-announcing itself for a moment).
  EXPECT_THAT(GetUntil(api + "ingestfleet_workers", "\"2\"]", Scaled(20s)), HasSubstr("\"2\"]"));
  const std::string targets = Get("http://127.0.0.1:" + std::to_string(port) + "/api/v1/targets");
  EXPECT_THAT(targets, HasSubstr("\"health\":\"up\"")) << targets;
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(Scaled(30s)), 0) << ReadAll(dir_.path() / "prometheus.err");
}

TEST_F(MetricsTest, ARunPushesItsMetricsToARealPushgatewayAsItEnds) {
  const std::optional<std::filesystem::path> pushgateway = FindProgram("prometheus-pushgateway");
  if (!pushgateway) GTEST_SKIP() << NotInstalled("prometheus-pushgateway");
  const uint16_t port = testing::FreeLoopbackPort();
  const std::string gateway = "http://127.0.0.1:" + std::to_string(port);
  Subprocess server({pushgateway->string(), "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                    dir_.path() / "pushgateway.out", dir_.path() / "pushgateway.err");
  ASSERT_THAT(GetUntil(gateway + "/-/ready", "OK", Scaled(20s)), HasSubstr("OK"))
      << ReadAll(dir_.path() / "pushgateway.err");

  WriteConfig("{ pushgateway_url: \"" + gateway + "/\" }");
  Subprocess run({Bin("ingest-coordinator"), "run", "--config", (dir_.path() / "ingest.yaml").string(), "--manual",
                  "--local-workers", "1", "--local-worker-slots", "1"},
                 dir_.path() / "run.out", dir_.path() / "run.err");
  ASSERT_EQ(run.Wait(Scaled(60s)), 0) << run.Stderr();
  EXPECT_THAT(run.Stderr(), HasSubstr("metrics: pushed to the Pushgateway"));
  const std::string pushed = Get(gateway + "/metrics");
  EXPECT_THAT(pushed, HasSubstr("ingestfleet_runs_total{env=\"mtest\",instance=\"\",job=\"ingestfleet\",status="
                                "\"completed\"} 1"))
      << pushed.substr(0, 4000);
  EXPECT_THAT(pushed, HasSubstr("push_time_seconds{env=\"mtest\""));
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(Scaled(30s)), 0) << ReadAll(dir_.path() / "pushgateway.err");

  // The gateway is gone: the next run says so and ends as it would anyway.
  Subprocess again({Bin("ingest-coordinator"), "run", "--config", (dir_.path() / "ingest.yaml").string(), "--manual",
                    "--local-workers", "1", "--local-worker-slots", "1"},
                   dir_.path() / "again.out", dir_.path() / "again.err");
  EXPECT_EQ(again.Wait(Scaled(60s)), 0) << again.Stderr();
  EXPECT_THAT(again.Stderr(), HasSubstr("metrics push to the Pushgateway"));
}

TEST_F(MetricsTest, TheAlertRulesPassTheirPromtoolUnitTests) {
  const std::optional<std::filesystem::path> promtool = FindProgram("promtool");
  if (!promtool) GTEST_SKIP() << NotInstalled("promtool");
  const std::filesystem::path rules = std::filesystem::path(INGEST_SOURCE_DIR) / "deploy" / "prometheus";
  Subprocess check({promtool->string(), "check", "rules", (rules / "alerts.yaml").string()}, dir_.path() / "check.out",
                   dir_.path() / "check.err");
  EXPECT_EQ(check.Wait(Scaled(30s)), 0) << ReadAll(dir_.path() / "check.out") << ReadAll(dir_.path() / "check.err");
  Subprocess test({promtool->string(), "test", "rules", (rules / "alerts_test.yaml").string()},
                  dir_.path() / "test.out", dir_.path() / "test.err");
  EXPECT_EQ(test.Wait(Scaled(60s)), 0) << ReadAll(dir_.path() / "test.out") << ReadAll(dir_.path() / "test.err");
}

}  // namespace
}  // namespace ingest
