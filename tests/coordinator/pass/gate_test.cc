#include "coordinator/pass/gate.h"

#include <fstream>

#include "common/manifest.h"
#include "common/pass.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::ReadAll;
using testing::TempDir;

// A job whose passes A and B are SUCCESS with real artifacts.
class GateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manifest_ = NewManifest("job_2026-11-22T02-00-00", "dev");
    TocRecord toc;
    toc.set_source_id("doc_1");
    toc.set_path("a.md");
    toc.set_checksum(std::string(64, '0'));
    Commit(Pass::PASS_A, toc);
    SplitRecord split;
    split.set_source_id("doc_1");
    split.set_parts(1);
    split.set_byte_end(10);
    Commit(Pass::PASS_B, split);
  }

  void Commit(Pass pass, const google::protobuf::Message& record) {
    auto path = dir_.path() / ArtifactFileName(pass);
    Result<ArtifactWriter> writer = ArtifactWriter::Open(path, pass);
    ASSERT_OK(writer);
    ASSERT_OK(writer->Add(record));
    Result<ArtifactRecord> artifact = writer->Commit();
    ASSERT_OK(artifact);
    PassRecord& entry = PassEntry(manifest_, pass);
    entry.set_status(kPassSuccess);
    *entry.add_artifacts() = *artifact;
    written_[pass] = writer->TakeScan();
  }

  TempDir dir_;
  Manifest manifest_;
  std::map<Pass, ArtifactScan> written_;  // as this process wrote them
};

TEST_F(GateTest, OpensWhenUpstreamIsSuccessAndIntact) {
  Result<std::map<Pass, ArtifactScan>> gate = EvaluateGate(manifest_, Pass::PASS_C, dir_.path());
  ASSERT_OK(gate);
  EXPECT_EQ(gate->size(), 2u);
  EXPECT_EQ(gate->at(Pass::PASS_B).index->contains("doc_1"), true);
  EXPECT_OK(EvaluateGate(manifest_, Pass::PASS_A, dir_.path()));  // no upstream
}

TEST_F(GateTest, ClosedWhenAnUpstreamPassIsNotSuccess) {
  PassEntry(manifest_, Pass::PASS_B).set_status(kPassPending);
  Result<std::map<Pass, ArtifactScan>> gate = EvaluateGate(manifest_, Pass::PASS_C, dir_.path());
  ASSERT_FALSE(gate.ok());
  EXPECT_EQ(gate.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(gate.status().message(), HasSubstr("pass B is PENDING, not SUCCESS"));
}

TEST_F(GateTest, ClosedWhenAnArtifactChangedOnDisk) {
  auto path = dir_.path() / "passB_splits.json";
  std::string text = ReadAll(path);
  text.replace(text.find("\"byte_end\":\"10\""), 15, "\"byte_end\":\"11\"");
  std::ofstream(path, std::ios::trunc) << text;
  Result<std::map<Pass, ArtifactScan>> gate = EvaluateGate(manifest_, Pass::PASS_C, dir_.path());
  ASSERT_FALSE(gate.ok());
  EXPECT_THAT(gate.status().message(), HasSubstr("pass B artifact passB_splits.json: sha256"));
}

TEST_F(GateTest, AFileThisProcessWroteIsTrustedOnlyWhileUntouched) {
  ASSERT_OK(EvaluateGate(manifest_, Pass::PASS_C, dir_.path(), &written_));
  // Same size, new bytes: the file's ctime moved, so it is hashed again.
  auto path = dir_.path() / "passB_splits.json";
  std::string text = ReadAll(path);
  text.replace(text.find("\"byte_end\":\"10\""), 15, "\"byte_end\":\"11\"");
  std::ofstream(path, std::ios::trunc) << text;
  Result<std::map<Pass, ArtifactScan>> gate = EvaluateGate(manifest_, Pass::PASS_C, dir_.path(), &written_);
  ASSERT_FALSE(gate.ok());
  EXPECT_THAT(gate.status().message(), HasSubstr("pass B artifact passB_splits.json: sha256"));
}

TEST_F(GateTest, ClosedWhenAnArtifactIsMissing) {
  std::filesystem::remove(dir_.path() / "passA_toc.json");
  Result<std::map<Pass, ArtifactScan>> gate = EvaluateGate(manifest_, Pass::PASS_B, dir_.path());
  ASSERT_FALSE(gate.ok());
  EXPECT_THAT(gate.status().message(), HasSubstr("pass A artifact passA_toc.json"));
}

TEST_F(GateTest, ClosedWhenTheContractIsInvalidEvenWithAMatchingHash) {
  // Rewrite the artifact with an invalid record and record its new hash, as
  // a buggy writer would: the contract check still closes the gate.
  auto path = dir_.path() / "passB_splits.json";
  std::string text = ReadAll(path);
  text.replace(text.find("\"parts\":1"), 9, "\"parts\":0");
  std::ofstream(path, std::ios::trunc) << text;
  PassEntry(manifest_, Pass::PASS_B).mutable_artifacts(0)->set_sha256(*Sha256File(path));
  Result<std::map<Pass, ArtifactScan>> gate = EvaluateGate(manifest_, Pass::PASS_C, dir_.path());
  ASSERT_FALSE(gate.ok());
  EXPECT_THAT(gate.status().message(), HasSubstr("contract invalid"));
}

}  // namespace
}  // namespace ingest
