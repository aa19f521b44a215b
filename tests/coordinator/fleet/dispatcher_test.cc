#include "coordinator/fleet/dispatcher.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "tests/testing/fake_clock.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using testing::FakeClock;
using ::testing::HasSubstr;

// A plan of `size` tasks named t0, t1, ...; records the final results.
class Plan : public TaskHandler {
 public:
  explicit Plan(size_t size) : size_(size) {}
  Result<Task> BuildTask(size_t index) override {
    const std::string id = fmt::format("t{}", index);
    if (unbuildable.count(index) > 0) return InvalidArgument("cannot build " + id);
    Task task;
    task.set_task_id(id);
    task.set_pass(Pass::PASS_A);
    return task;
  }
  void OnResult(size_t index, TaskResult result) override {
    EXPECT_EQ(results.count(index), 0u) << "t" << index << " finished twice";
    results[index] = std::move(result);
  }
  Clock::TimePoint NotBefore(size_t index, Clock::TimePoint now) override {
    auto it = not_before.find(index);
    return it == not_before.end() ? now : it->second;
  }
  void OnAttemptEnded(size_t index) override { ++attempts_ended[index]; }
  uint64_t Weight(size_t index) const override {
    auto it = weights.find(index);
    return it == weights.end() ? 1 : it->second;
  }

  std::vector<size_t> All() const {
    std::vector<size_t> order;
    for (size_t i = 0; i < size_; ++i) order.push_back(i);
    return order;
  }

  std::map<size_t, TaskResult> results;
  std::map<size_t, Clock::TimePoint> not_before;
  std::map<size_t, int> attempts_ended;
  std::set<size_t> unbuildable;
  std::map<size_t, uint64_t> weights;  // 1 when not given

 private:
  size_t size_;
};

struct Sent {
  std::string worker;
  std::string task;
  uint32_t attempt;
};

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest()
      : dispatcher_({.attempts = 3, .backoff_initial_ms = 500, .backoff_max_ms = 60000, .jitter = false}, 600s, clock_,
                    [this](const WorkerId& worker, const std::vector<Task>& tasks) {
                      for (const Task& task : tasks) sent_.push_back({worker.value, task.task_id(), task.attempt()});
                      batches_.push_back(tasks.size());
                      return unreachable_.count(worker.value) == 0;
                    }) {}

  static TaskResult Ok(const Sent& sent) {
    TaskResult result;
    result.set_task_id(sent.task);
    result.set_attempt(sent.attempt);
    return result;
  }
  static TaskResult Failed(const Sent& sent, ErrorClass error_class) {
    TaskResult result = Ok(sent);
    result.mutable_error()->set_error_class(error_class);
    result.mutable_error()->set_kind("io");
    result.mutable_error()->set_message("boom");
    return result;
  }
  std::vector<std::string> SentTasks() const {
    std::vector<std::string> tasks;
    for (const Sent& s : sent_) tasks.push_back(s.worker + ":" + s.task + "#" + std::to_string(s.attempt));
    return tasks;
  }

  FakeClock clock_;
  std::vector<Sent> sent_;
  std::vector<size_t> batches_;  // tasks per send
  std::set<std::string> unreachable_;
  Dispatcher dispatcher_;
};

TEST_F(DispatcherTest, DispatchesInTheGivenOrderAtMostSlotsPerWorker) {
  Plan plan(4);
  dispatcher_.AdmitWorker(WorkerId{"w1"}, 1);
  dispatcher_.Begin({3, 1, 0, 2}, plan);
  dispatcher_.Dispatch();
  EXPECT_THAT(SentTasks(), ElementsAre("w1:t3#1"));
  dispatcher_.Dispatch();
  EXPECT_EQ(sent_.size(), 1u) << "one slot: the next task waits for a result";
  EXPECT_EQ(dispatcher_.queued(), 3u);
  EXPECT_EQ(dispatcher_.in_flight(), 1u);
  for (int i = 0; i < 3; ++i) {
    dispatcher_.OnResult(WorkerId{"w1"}, Ok(sent_.back()));
    dispatcher_.Dispatch();
  }
  EXPECT_THAT(SentTasks(), ElementsAre("w1:t3#1", "w1:t1#1", "w1:t0#1", "w1:t2#1"));
  dispatcher_.OnResult(WorkerId{"w1"}, Ok(sent_.back()));
  EXPECT_TRUE(dispatcher_.done());
  PassMetrics metrics;
  dispatcher_.End(&metrics);
  EXPECT_EQ(metrics.tasks_total(), 4u);
  EXPECT_EQ(metrics.tasks_executed(), 4u);
  EXPECT_EQ(dispatcher_.load(WorkerId{"w1"})->tasks_done, 4u);
}

TEST_F(DispatcherTest, TheWorkerWithTheMostFreeSlotsGetsTheNextTask) {
  Plan plan(4);
  dispatcher_.AdmitWorker(WorkerId{"small"}, 1);
  dispatcher_.AdmitWorker(WorkerId{"big"}, 3);
  dispatcher_.Begin(plan.All(), plan);
  dispatcher_.Dispatch();
  // Ties go to the first worker by id.
  EXPECT_THAT(SentTasks(), ElementsAre("big:t0#1", "big:t1#1", "big:t2#1", "small:t3#1"));
}

TEST_F(DispatcherTest, AnExpiredLeaseIsRequeuedAndTheLateResultOfTheOldAttemptIsRefused) {
  Plan plan(1);
  dispatcher_.AdmitWorker(WorkerId{"slow"}, 1);
  dispatcher_.Begin(plan.All(), plan);
  dispatcher_.Dispatch();
  ASSERT_THAT(SentTasks(), ElementsAre("slow:t0#1"));
  const Sent first = sent_.back();

  clock_.Advance(599s);
  dispatcher_.ExpireLeases();
  EXPECT_EQ(dispatcher_.in_flight(), 1u) << "not yet past task_timeout";
  clock_.Advance(2s);
  dispatcher_.ExpireLeases();
  EXPECT_EQ(dispatcher_.in_flight(), 0u);

  dispatcher_.AdmitWorker(WorkerId{"fast"}, 1);
  dispatcher_.Dispatch();
  EXPECT_THAT(SentTasks(), ElementsAre("slow:t0#1", "fast:t0#2"));
  dispatcher_.OnResult(WorkerId{"slow"}, Ok(first));
  EXPECT_EQ(dispatcher_.stale_results(), 1u);
  EXPECT_TRUE(plan.results.empty());
  dispatcher_.OnResult(WorkerId{"fast"}, Ok(sent_.back()));
  ASSERT_EQ(plan.results.size(), 1u);
  EXPECT_EQ(plan.results.at(0).attempt(), 2u);
  PassMetrics metrics;
  dispatcher_.End(&metrics);
  EXPECT_EQ(metrics.tasks_requeued(), 1u);
}

TEST_F(DispatcherTest, AResultFromAnotherWorkerOrAttemptIsRefused) {
  Plan plan(1);
  dispatcher_.AdmitWorker(WorkerId{"w1"}, 1);
  dispatcher_.AdmitWorker(WorkerId{"w2"}, 1);
  dispatcher_.Begin(plan.All(), plan);
  dispatcher_.Dispatch();
  Sent sent = sent_.back();
  dispatcher_.OnResult(WorkerId{sent.worker == "w1" ? "w2" : "w1"}, Ok(sent));
  sent.attempt = 7;
  dispatcher_.OnResult(WorkerId{sent_.back().worker}, Ok(sent));
  EXPECT_EQ(dispatcher_.stale_results(), 2u);
  EXPECT_FALSE(dispatcher_.done());
  dispatcher_.OnResult(WorkerId{sent_.back().worker}, Ok(sent_.back()));
  EXPECT_TRUE(dispatcher_.done());
}

TEST_F(DispatcherTest, ADrainingWorkerHandsBackUnstartedTasksWithoutUsingAnAttempt) {
  Plan plan(3);
  dispatcher_.AdmitWorker(WorkerId{"leaving"}, 3);
  dispatcher_.Begin(plan.All(), plan);
  dispatcher_.Dispatch();
  ASSERT_EQ(sent_.size(), 3u);
  dispatcher_.DrainWorker(WorkerId{"leaving"}, {TaskId{"t1"}, TaskId{"t2"}});
  EXPECT_EQ(dispatcher_.ready_workers(), 0u);
  EXPECT_EQ(dispatcher_.load(WorkerId{"leaving"})->in_flight.size(), 1u) << "t0 keeps running";

  dispatcher_.AdmitWorker(WorkerId{"stays"}, 2);
  dispatcher_.Dispatch();
  EXPECT_THAT(SentTasks(), ElementsAre("leaving:t0#1", "leaving:t1#1", "leaving:t2#1", "stays:t1#2", "stays:t2#2"));
  dispatcher_.OnResult(WorkerId{"leaving"}, Ok(sent_[0]));
  EXPECT_TRUE(dispatcher_.load(WorkerId{"leaving"})->in_flight.empty()) << "drained: the broker may let it go";
  dispatcher_.OnResult(WorkerId{"stays"}, Failed(sent_[3], ERROR_CLASS_TRANSIENT));
  dispatcher_.OnResult(WorkerId{"stays"}, Ok(sent_[4]));
  clock_.Advance(500ms);
  dispatcher_.Dispatch();
  dispatcher_.OnResult(WorkerId{"stays"}, Ok(sent_.back()));
  EXPECT_TRUE(dispatcher_.done());
  EXPECT_FALSE(plan.results.at(1).has_error()) << "the hand-back did not count: one failure of three allowed";
}

TEST_F(DispatcherTest, TransientFailuresBackOffExponentiallyThenFailTheTask) {
  Plan plan(1);
  dispatcher_.AdmitWorker(WorkerId{"w"}, 1);
  dispatcher_.Begin(plan.All(), plan);
  dispatcher_.Dispatch();
  dispatcher_.OnResult(WorkerId{"w"}, Failed(sent_.back(), ERROR_CLASS_TRANSIENT));
  clock_.Advance(499ms);
  dispatcher_.Dispatch();
  EXPECT_EQ(sent_.size(), 1u) << "backoff_initial_ms=500 has not passed";
  EXPECT_EQ(dispatcher_.queued(), 1u) << "a task backing off still waits";
  clock_.Advance(1ms);
  dispatcher_.Dispatch();
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_.back().attempt, 2u);
  dispatcher_.OnResult(WorkerId{"w"}, Failed(sent_.back(), ERROR_CLASS_TRANSIENT));
  clock_.Advance(999ms);
  dispatcher_.Dispatch();
  EXPECT_EQ(sent_.size(), 2u) << "the second backoff doubles";
  clock_.Advance(1ms);
  dispatcher_.Dispatch();
  ASSERT_EQ(sent_.size(), 3u);
  dispatcher_.OnResult(WorkerId{"w"}, Failed(sent_.back(), ERROR_CLASS_TRANSIENT));
  ASSERT_EQ(plan.results.size(), 1u) << "retry.attempts=3 ran out";
  EXPECT_TRUE(plan.results.at(0).has_error());
  PassMetrics metrics;
  dispatcher_.End(&metrics);
  EXPECT_EQ(metrics.tasks_retried(), 2u);
  EXPECT_EQ(metrics.tasks_executed(), 3u);
}

TEST_F(DispatcherTest, APermanentFailureIsFinalAtOnce) {
  Plan plan(1);
  dispatcher_.AdmitWorker(WorkerId{"w"}, 1);
  dispatcher_.Begin(plan.All(), plan);
  dispatcher_.Dispatch();
  dispatcher_.OnResult(WorkerId{"w"}, Failed(sent_.back(), ERROR_CLASS_PERMANENT));
  EXPECT_TRUE(dispatcher_.done());
  EXPECT_EQ(plan.results.at(0).error().error_class(), ERROR_CLASS_PERMANENT);
}

TEST_F(DispatcherTest, ATaskWhoseWorkersKeepDyingFailsAsWorkerLost) {
  Plan plan(1);
  dispatcher_.Begin(plan.All(), plan);
  for (int i = 1; i <= 3; ++i) {
    const WorkerId worker{fmt::format("w{}", i)};
    dispatcher_.AdmitWorker(worker, 1);
    dispatcher_.Dispatch();
    ASSERT_EQ(sent_.size(), static_cast<size_t>(i));
    dispatcher_.RemoveWorker(worker, "worker " + worker.value + " lost");
  }
  ASSERT_TRUE(dispatcher_.done());
  EXPECT_EQ(plan.results.at(0).error().kind(), "worker_lost");
  EXPECT_THAT(plan.results.at(0).error().message(), HasSubstr("worker w3 lost, 3 times"));
  EXPECT_EQ(plan.attempts_ended.at(0), 3);
  EXPECT_EQ(dispatcher_.workers().size(), 0u);
}

TEST_F(DispatcherTest, ATaskThatCannotBeReachedGoesBackWithoutUsingAnAttempt) {
  Plan plan(1);
  unreachable_.insert("gone");
  dispatcher_.AdmitWorker(WorkerId{"gone"}, 4);
  dispatcher_.Begin(plan.All(), plan);
  dispatcher_.Dispatch();
  EXPECT_EQ(dispatcher_.ready_workers(), 0u);
  EXPECT_EQ(dispatcher_.in_flight(), 0u);
  dispatcher_.AdmitWorker(WorkerId{"here"}, 1);
  dispatcher_.Dispatch();
  EXPECT_THAT(SentTasks(), ElementsAre("gone:t0#1", "here:t0#2"));
}

TEST_F(DispatcherTest, ARateLimitedTaskWaitsForItsTimeWhileOthersGo) {
  Plan plan(2);
  plan.not_before[0] = clock_.Now() + 10s;
  dispatcher_.AdmitWorker(WorkerId{"w"}, 2);
  dispatcher_.Begin(plan.All(), plan);
  dispatcher_.Dispatch();
  EXPECT_THAT(SentTasks(), ElementsAre("w:t1#1"));
  clock_.Advance(10s);
  dispatcher_.Dispatch();
  EXPECT_THAT(SentTasks(), ElementsAre("w:t1#1", "w:t0#1"));
}

TEST_F(DispatcherTest, ATaskThatCannotBeBuiltFailsPermanentlyWithoutAWorker) {
  Plan plan(2);
  plan.unbuildable.insert(0);
  dispatcher_.AdmitWorker(WorkerId{"w"}, 2);
  dispatcher_.Begin(plan.All(), plan);
  dispatcher_.Dispatch();
  EXPECT_THAT(SentTasks(), ElementsAre("w:t1#1"));
  EXPECT_EQ(plan.results.at(0).error().kind(), "plan");
  EXPECT_THAT(plan.results.at(0).error().message(), HasSubstr("cannot build t0"));
}

TEST_F(DispatcherTest, ResultsAfterTheExecutionEndedAreStale) {
  Plan plan(1);
  dispatcher_.AdmitWorker(WorkerId{"w"}, 1);
  dispatcher_.Begin(plan.All(), plan);
  dispatcher_.Dispatch();
  PassMetrics metrics;
  dispatcher_.End(&metrics);
  dispatcher_.OnResult(WorkerId{"w"}, Ok(sent_.back()));
  EXPECT_EQ(dispatcher_.stale_results(), 1u);
  EXPECT_TRUE(dispatcher_.load(WorkerId{"w"})->in_flight.empty());
}

TEST_F(DispatcherTest, BatchesShrinkAsTheQueueShortensAndEachWorkerHoldsOneBatchMoreThanItsSlots) {
  Plan plan(100);
  dispatcher_.set_batching(16, 1 << 20);
  dispatcher_.AdmitWorker(WorkerId{"w1"}, 1);
  dispatcher_.AdmitWorker(WorkerId{"w2"}, 1);
  dispatcher_.Begin(plan.All(), plan);
  dispatcher_.Dispatch();
  // Four batch slots (one running, one waiting per worker); 100 tasks over
  // twice that is 13 per batch, then 9 and 7 of what is left.
  EXPECT_THAT(batches_, ElementsAre(13, 11, 10, 9));
  EXPECT_EQ(dispatcher_.in_flight(), 43u);
  // Answering all of w1's first batch frees one of its batch slots.
  std::vector<Sent> first(sent_.begin(), sent_.begin() + 13);
  for (const Sent& sent : first) dispatcher_.OnResult(WorkerId{sent.worker}, Ok(sent));
  dispatcher_.Dispatch();
  ASSERT_EQ(batches_.size(), 5u);
  EXPECT_EQ(batches_.back(), 8u);
  // Everything else, answered as it comes: the last batches hold one task.
  for (size_t next = 13; next < sent_.size(); ++next) {
    dispatcher_.OnResult(WorkerId{sent_[next].worker}, Ok(sent_[next]));
    dispatcher_.Dispatch();
  }
  EXPECT_TRUE(dispatcher_.done());
  EXPECT_EQ(plan.results.size(), 100u);
  EXPECT_EQ(batches_.back(), 1u);
}

TEST_F(DispatcherTest, AHeavyTaskGoesAloneAndALostWorkerRequeuesItsWholeBatch) {
  Plan plan(40);
  plan.weights[2] = 200;
  dispatcher_.set_batching(64, 100);
  dispatcher_.AdmitWorker(WorkerId{"w"}, 1);
  dispatcher_.Begin(plan.All(), plan);
  dispatcher_.Dispatch();
  // t2 would take the first batch past 100 bytes: it ends it, and goes
  // alone in the next however heavy it is.
  EXPECT_THAT(batches_, ElementsAre(2, 1));
  EXPECT_THAT(SentTasks(), ElementsAre("w:t0#1", "w:t1#1", "w:t2#1"));
  dispatcher_.RemoveWorker(WorkerId{"w"}, "worker w lost");
  EXPECT_EQ(dispatcher_.in_flight(), 0u);
  EXPECT_EQ(dispatcher_.queued(), 40u);
  dispatcher_.AdmitWorker(WorkerId{"v"}, 1);
  dispatcher_.Dispatch();
  EXPECT_EQ(sent_[3].task, "t0") << "requeued at the front, in their order";
  EXPECT_EQ(sent_[3].attempt, 2u);
}

}  // namespace
}  // namespace ingest
