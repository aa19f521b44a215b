#include <gtest/gtest.h>

#include <memory>

#include "common/manifest.h"
#include "coordinator/run/carry_forward.h"
#include "coordinator/run/run_control.h"

namespace ingest {
namespace {

class PassInputDigestTest : public ::testing::Test {
 protected:
  PassInputDigestTest() : ctx_(RunOptions{}, Config{}, std::make_shared<RunControl>(admin::Run(), false), nullptr) {
    ctx_.manifest = NewManifest("job_1", "dev");
    for (int i = 0; i < 5; ++i) Add("doc_" + std::to_string(4 - i), kDocProcessed);
  }

  void Add(const std::string& id, const char* status) {
    DocumentRecord& doc = (*ctx_.manifest.mutable_documents())[id];
    doc.set_source("rules");
    doc.set_path(id + ".md");
    doc.set_checksum("sum-" + id);
    doc.set_status(status);
  }

  // A digester of its own, as a new run would compute it.
  std::string Fresh(Pass pass) { return PassInputDigester().Digest(ctx_, pass); }

  RunContext ctx_;
};

// One digester serves every pass of a run: what it keeps between them
// never makes it answer for documents as they were.
TEST_F(PassInputDigestTest, OneDigesterFollowsTheDocumentsFromPassToPass) {
  PassInputDigester digester;
  const std::string first = digester.Digest(ctx_, Pass::PASS_A);
  EXPECT_EQ(first, Fresh(Pass::PASS_A));
  EXPECT_NE(digester.Digest(ctx_, Pass::PASS_B), first);  // the pass is part of it

  // A document that fails drops out, as in a fresh digest.
  ctx_.manifest.mutable_documents()->at("doc_2").set_status(kDocFailed);
  const std::string failed = digester.Digest(ctx_, Pass::PASS_A);
  EXPECT_NE(failed, first);
  EXPECT_EQ(failed, Fresh(Pass::PASS_A));

  // A document added, and one taken away for another of the same count.
  Add("doc_9", kDocUnchanged);
  EXPECT_EQ(digester.Digest(ctx_, Pass::PASS_A), Fresh(Pass::PASS_A));
  ctx_.manifest.mutable_documents()->erase("doc_0");
  Add("doc_00", kDocProcessed);
  EXPECT_EQ(digester.Digest(ctx_, Pass::PASS_A), Fresh(Pass::PASS_A));

  // A field of a document changed in place.
  ctx_.manifest.mutable_documents()->at("doc_3").set_checksum("other");
  EXPECT_EQ(digester.Digest(ctx_, Pass::PASS_A), Fresh(Pass::PASS_A));
}

// The documents count in id order, whatever order the manifest's map keeps.
TEST_F(PassInputDigestTest, TheSameDocumentsAddedInAnotherOrderGiveTheSameDigest) {
  const std::string digest = Fresh(Pass::PASS_C);
  ctx_.manifest.clear_documents();
  for (int i = 0; i < 5; ++i) Add("doc_" + std::to_string(i), kDocProcessed);
  EXPECT_EQ(Fresh(Pass::PASS_C), digest);
}

}  // namespace
}  // namespace ingest
