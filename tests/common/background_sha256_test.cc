#include "common/background_sha256.h"

#include <string>

#include "tests/testing/testing.h"

namespace ingest {
namespace {

// Bytes that differ at every position, so a block hashed twice, dropped or
// out of order changes the digest.
std::string Stream(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + i / 997) & 0xff);
  return bytes;
}

TEST(BackgroundSha256Test, DigestsWhatSha256DigestsWhateverThePieces) {
  for (size_t size : {size_t{0}, size_t{5}, size_t{1} << 20, (size_t{1} << 20) + 1, size_t{11} << 20}) {
    const std::string bytes = Stream(size);
    for (size_t piece : {size_t{1} << 20, size_t{70001}, size_t{3} << 20}) {
      BackgroundSha256 hash;
      for (size_t at = 0; at < bytes.size(); at += piece) hash.Update(std::string_view(bytes).substr(at, piece));
      EXPECT_EQ(hash.HexDigest(), Sha256Hex(bytes)) << size << " bytes in pieces of " << piece;
    }
  }
}

TEST(BackgroundSha256Test, ItsDestructorStopsTheHasherWithBlocksStillWaiting) {
  const std::string bytes = Stream(size_t{3} << 20);
  for (int i = 0; i < 20; ++i) {
    BackgroundSha256 hash;
    hash.Update(bytes);
    hash.Update(bytes);
  }
}

}  // namespace
}  // namespace ingest
