// The artifacts of the demo job over examples/corpus/ are committed under
// tests/golden/examples/: any change of output is a visible diff. After an
// intended change, regenerate them with scripts/update-golden.sh.

#include "common/pass.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using namespace std::chrono_literals;
using testing::ReadAll;
using testing::Subprocess;
using testing::TempDir;

TEST(GoldenTest, DemoJobArtifactsMatchTheCommittedOnes) {
  TempDir dir;
  std::filesystem::path source = INGEST_SOURCE_DIR;
  Subprocess run(
      {(testing::BinDir() / "ingest-coordinator").string(), "run", "--config", (source / "examples/demo.yaml").string(),
       "--local-workers", "2", "--local-worker-slots", "1"},
      dir.path() / "out", dir.path() / "err",
      {"INGEST_ARTIFACT_ROOT=" + dir.path().string(), "INGEST_STATE_DB=" + (dir.path() / "state.db").string()});
  ASSERT_EQ(run.Wait(testing::Scaled(120s)), 0) << run.Stderr();
  std::filesystem::path env_dir = dir.path() / "ingest/demo";
  std::filesystem::path job = std::filesystem::directory_iterator(env_dir)->path();
  for (Pass p : kAllPasses) {
    std::string name = ArtifactFileName(p);
    std::string golden = ReadAll(source / "tests/golden/examples" / name);
    ASSERT_FALSE(golden.empty()) << "missing tests/golden/examples/" << name << "; run scripts/update-golden.sh";
    EXPECT_TRUE(ReadAll(job / name) == golden)
        << name << " differs from tests/golden/examples/" << name
        << "; if the change is intended, run scripts/update-golden.sh and review the diff";
  }
}

}  // namespace
}  // namespace ingest
