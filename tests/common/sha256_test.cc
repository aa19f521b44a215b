#include "common/sha256.h"

#include <string>
#include <thread>
#include <vector>

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

TEST(Sha256Test, OneShotDigestsOnManyThreadsAreThoseOfTheIncrementalHasher) {
  // Sha256Hex keeps a context per thread and sets it up again for each
  // digest: nothing of one input may reach the next, on any thread.
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &mismatches] {
      std::string input;
      for (int i = 0; i < 300; ++i) {
        input += static_cast<char>('a' + (i + t) % 26);
        Sha256 incremental;
        incremental.Update(input.substr(0, input.size() / 2));
        incremental.Update(input.substr(input.size() / 2));
        if (Sha256Hex(input) != incremental.HexDigest()) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
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
