#include "coordinator/run/progress_line.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "tests/testing/testing.h"

namespace ingest {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(PassProgressTest, TheLineSaysPassDoneTotalFailedRateEtaAndWorkers) {
  PassProgressFigures f{Pass::PASS_C, 1300, 5000, 100, 3, 4, 3s};
  // 1,200 executed in 3 s: 400 tasks/s; 3,700 left: 9.25 s.
  EXPECT_EQ(FormatPassProgress(f), "pass C 1300/5000 tasks (26%), 3 failed, 400 tasks/s, ETA 10s, 4 workers");
  f.elapsed = 0s;
  f.done = 100;
  f.workers = 1;
  EXPECT_EQ(FormatPassProgress(f), "pass C 100/5000 tasks (2%), 3 failed, 0.0 tasks/s, ETA ?, 1 worker");
  f = {Pass::PASS_E, 10, 20000, 0, 0, 2, 4s};  // 2.5 tasks/s, 19,990 left: 7,996 s
  EXPECT_EQ(FormatPassProgress(f), "pass E 10/20000 tasks (0%), 0 failed, 2.5 tasks/s, ETA 2h13m, 2 workers");
  f = {Pass::PASS_A, 600, 600, 0, 1, 2, 90s};
  EXPECT_EQ(FormatPassProgress(f), "pass A 600/600 tasks (100%), 1 failed, 6.7 tasks/s, done in 1m30s, 2 workers");
  f = {Pass::PASS_F, 0, 0, 0, 0, 0, 0s};
  EXPECT_EQ(FormatPassProgress(f), "pass F 0/0 tasks (100%), 0 failed, 0.0 tasks/s, done in 0s, 0 workers");
}

// Lines logged through the default logger while alive.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto logger =
        std::make_shared<spdlog::logger>("captured", std::make_shared<spdlog::sinks::ostream_sink_mt>(lines_));
    logger->set_pattern("%v");
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return lines_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream lines_;
};

TEST(PassProgressTest, PipedItLogsAtMostOnceAnIntervalAndAtThePassEnd) {
  CapturedLog log;
  {
    PassProgressLine line(Pass::PASS_D, 10, 0, /*live=*/false, std::chrono::seconds(3600));
    line.Update(3, 0, 2);
    line.Update(6, 1, 2);
    EXPECT_EQ(log.text(), "") << "nothing before the interval is over";
    line.Finish(10, 1, 2);
  }
  EXPECT_THAT(log.text(), ::testing::MatchesRegex("pass D 10/10 tasks \\(100%\\), 1 failed, [0-9.]+ tasks/s, done in "
                                                  "[0-9]+s, 2 workers\n"));
  CapturedLog every;
  PassProgressLine often(Pass::PASS_B, 4, 0, /*live=*/false, std::chrono::seconds(0));
  often.Update(1, 0, 1);
  often.Update(2, 0, 1);
  EXPECT_THAT(every.text(), HasSubstr("pass B 1/4 tasks (25%)"));
  EXPECT_THAT(every.text(), HasSubstr("pass B 2/4 tasks (50%)"));
}

}  // namespace
}  // namespace ingest
