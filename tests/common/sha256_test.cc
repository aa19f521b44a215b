#include "common/sha256.h"

#include <string>

#include "tests/testing/testing.h"

namespace ingest {
namespace {

TEST(Sha256Test, AFileHashesAsItsBytesDoAcrossBlocks) {
  testing::TempDir dir;
  EXPECT_EQ(*Sha256File(dir.Write("abc.txt", "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(*Sha256File(dir.Write("empty.txt", "")), Sha256Hex(""));
  // Read in 64 KiB blocks: a file of several, the last one partial.
  std::string large;
  for (int i = 0; large.size() < 200000; ++i) large += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(*Sha256File(dir.Write("large.txt", large)), Sha256Hex(large));
}

TEST(Sha256Test, AFileThatCannotBeReadIsAnErrorNamingIt) {
  testing::TempDir dir;
  Result<std::string> missing = Sha256File(dir.path() / "missing.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing.txt"), std::string::npos) << missing.status().message();
  Result<std::string> directory = Sha256File(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.status().message().find(dir.path().string()), std::string::npos) << directory.status().message();
}

}  // namespace
}  // namespace ingest
