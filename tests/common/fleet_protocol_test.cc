#include "common/fleet_protocol.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

// A TASK frame as a coordinator without discovery's check would have sent
// it: proto3 refuses to parse a string field that is not UTF-8.
std::string TaskFrameWithPath(const std::string& path) {
  Envelope envelope;
  envelope.set_protocol_version(kProtocolVersion);
  Task* task = envelope.mutable_task();
  task->set_task_id("A-doc_0123456789abcdef");
  task->set_attempt(2);
  task->set_pass(PASS_A);
  task->mutable_document()->set_path(path);
  std::string frame;
  envelope.SerializePartialToString(&frame);
  return frame;
}

TEST(FleetProtocolTest, EnvelopesRoundTripWithTheVersionStamped) {
  Envelope ready;
  ready.mutable_ready()->set_worker_id("w1");
  Result<Envelope> decoded = DecodeEnvelope(EncodeEnvelope(ready));
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->protocol_version(), kProtocolVersion);
  EXPECT_EQ(decoded->ready().worker_id(), "w1");
}

TEST(FleetProtocolTest, AnEnvelopeWithoutABodyOrOfAnotherVersionIsRefused) {
  Envelope empty;
  EXPECT_EQ(DecodeEnvelope(EncodeEnvelope(empty)).status().code(), StatusCode::kInvalidArgument);
  Envelope drain;
  drain.mutable_drain();  // an empty DRAIN still has its body
  EXPECT_OK(DecodeEnvelope(EncodeEnvelope(drain)));
  Envelope other;
  other.set_protocol_version(kProtocolVersion + 1);
  other.mutable_heartbeat();
  EXPECT_EQ(DecodeEnvelope(other.SerializeAsString()).status().code(), StatusCode::kFailedPrecondition);
}

TEST(FleetProtocolTest, AnUnreadableTaskIsRefusedPermanentlyForItsAttempt) {
  const std::string frame = TaskFrameWithPath("caf\xE9.md");
  Result<Envelope> decoded = DecodeEnvelope(frame);
  ASSERT_FALSE(decoded.ok()) << "proto3 parsed a string that is not UTF-8";
  std::optional<SalvagedTasks> salvaged = SalvageTasks(frame, decoded.status());
  ASSERT_TRUE(salvaged.has_value());
  EXPECT_TRUE(salvaged->tasks.empty());
  ASSERT_EQ(salvaged->refused.size(), 1u);
  const TaskResult& refusal = salvaged->refused[0];
  EXPECT_EQ(refusal.task_id(), "A-doc_0123456789abcdef");
  EXPECT_EQ(refusal.attempt(), 2u);
  EXPECT_EQ(refusal.error().error_class(), ERROR_CLASS_PERMANENT);
  EXPECT_EQ(refusal.error().kind(), "unreadable_task");
  Envelope answer;
  *answer.mutable_results()->add_results() = refusal;
  EXPECT_OK(DecodeEnvelope(EncodeEnvelope(answer))) << "the refusal itself must travel";
}

TEST(FleetProtocolTest, TheReadableTasksOfABatchAreKeptBesideAnUnreadableOne) {
  Envelope envelope;
  envelope.set_protocol_version(kProtocolVersion);
  for (const char* path : {"a.md", "caf\xE9.md", "b.md"}) {
    Task* task = envelope.mutable_tasks()->add_tasks();
    task->set_task_id(std::string("A-") + (path[0] == 'c' ? "bad" : path));
    task->set_attempt(1);
    task->mutable_document()->set_path(path);
  }
  std::string frame;
  envelope.SerializePartialToString(&frame);
  Result<Envelope> decoded = DecodeEnvelope(frame);
  ASSERT_FALSE(decoded.ok());
  std::optional<SalvagedTasks> salvaged = SalvageTasks(frame, decoded.status());
  ASSERT_TRUE(salvaged.has_value());
  ASSERT_EQ(salvaged->tasks.size(), 2u);
  EXPECT_EQ(salvaged->tasks[0].document().path(), "a.md");
  EXPECT_EQ(salvaged->tasks[1].document().path(), "b.md");
  ASSERT_EQ(salvaged->refused.size(), 1u);
  EXPECT_EQ(salvaged->refused[0].task_id(), "A-bad");
}

TEST(FleetProtocolTest, GarbageOrFramesWithoutATaskIdGetNoRefusal) {
  EXPECT_FALSE(SalvageTasks("\xff\xfe not a protobuf", InvalidArgument("x")).has_value());
  Envelope beat;
  beat.mutable_heartbeat();
  EXPECT_FALSE(SalvageTasks(EncodeEnvelope(beat), InvalidArgument("x")).has_value());
  Envelope no_id;
  no_id.mutable_task()->set_attempt(1);
  no_id.mutable_task()->mutable_document()->set_path("caf\xE9.md");
  std::string frame;
  no_id.set_protocol_version(kProtocolVersion);
  no_id.SerializePartialToString(&frame);
  EXPECT_FALSE(SalvageTasks(frame, InvalidArgument("x")).has_value());
}

}  // namespace
}  // namespace ingest
