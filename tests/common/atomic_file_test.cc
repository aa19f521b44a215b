#include "common/atomic_file.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "common/sha256.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using testing::ReadAll;
using testing::TempDir;

size_t CountEntries(const std::filesystem::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(AtomicFileTest, ReplacesContentAndLeavesNoTempFile) {
  TempDir dir;
  auto path = dir.path() / "out.json";
  ASSERT_OK(WriteFileAtomic(path, "first"));
  ASSERT_OK(WriteFileAtomic(path, "second"));
  EXPECT_EQ(ReadAll(path), "second");
  EXPECT_EQ(CountEntries(dir.path()), 1u);
}

TEST(AtomicFileTest, UncommittedWriterLeavesOldContent) {
  TempDir dir;
  auto path = dir.path() / "out.json";
  ASSERT_OK(WriteFileAtomic(path, "old"));
  {
    Result<AtomicFileWriter> writer = AtomicFileWriter::Open(path);
    ASSERT_OK(writer);
    ASSERT_OK(writer->Append("half-written new content"));
  }  // dropped without Commit, like a crash mid-write
  EXPECT_EQ(ReadAll(path), "old");
  EXPECT_EQ(CountEntries(dir.path()), 1u);
}

TEST(AtomicFileTest, StreamsLargeContent) {
  TempDir dir;
  auto path = dir.path() / "big";
  Result<AtomicFileWriter> writer = AtomicFileWriter::Open(path);
  ASSERT_OK(writer);
  // 20 MB: handed to the disk in 8 MiB ranges as it grows, before Commit.
  Sha256 expected;
  for (int i = 0; i < 20000; ++i) {
    const std::string block(1000, static_cast<char>('a' + i % 26));
    expected.Update(block);
    ASSERT_OK(writer->Append(block));
  }
  ASSERT_OK(writer->Commit());
  EXPECT_EQ(std::filesystem::file_size(path), 20000000u);
  EXPECT_EQ(*Sha256File(path), expected.HexDigest());
}

TEST(AtomicFileTest, LargeAndSmallPiecesKeepTheirOrder) {
  TempDir dir;
  auto path = dir.path() / "manifest.json";
  Result<AtomicFileWriter> writer = AtomicFileWriter::Open(path);
  ASSERT_OK(writer);
  // A large piece is written as it is, after what is buffered before it.
  std::string expected;
  for (const std::string& piece : {std::string("head "), std::string(600 << 10, 'L'), std::string("tail"),
                                   std::string(2 << 20, 'M'), std::string(" end")}) {
    expected += piece;
    ASSERT_OK(writer->Append(piece));
  }
  ASSERT_OK(writer->Commit());
  EXPECT_EQ(ReadAll(path), expected);
}

// Writes `pieces` into `dir`/out with `caching` and checks every byte.
void ExpectWrittenInOrder(const std::filesystem::path& dir, AtomicFileWriter::Caching caching,
                          const std::vector<std::string>& pieces) {
  const auto path = dir / "out";
  Result<AtomicFileWriter> writer = AtomicFileWriter::Open(path, caching);
  ASSERT_OK(writer);
  std::string expected;
  for (const std::string& piece : pieces) {
    expected += piece;
    ASSERT_OK(writer->Append(piece));
  }
  ASSERT_OK(writer->Commit());
  EXPECT_EQ(ReadAll(path), expected) << expected.size() << " bytes";
  EXPECT_EQ(CountEntries(dir), 1u);
}

// Pieces that meet O_DIRECT's blocks in every way: none, an exact block, a
// byte short of one, a piece across the 1 MiB write, a file that ends off a
// block boundary and one that ends on one.
std::vector<std::vector<std::string>> AwkwardPieces() {
  return {{},
          {"["},
          {std::string(4096, 'a')},
          {std::string(4095, 'b'), "c", std::string(1 << 20, 'd')},
          {"head ", std::string(600 << 10, 'L'), std::string(2 << 20, 'M'), std::string(3, 'x'), " end"},
          {std::string((1 << 20) - 1, 'e'), "fg", std::string(12288, 'h')}};
}

TEST(AtomicFileTest, AFileWrittenAroundThePageCacheHoldsEveryByteInOrder) {
  for (const auto& pieces : AwkwardPieces()) {
    TempDir dir;
    ExpectWrittenInOrder(dir.path(), AtomicFileWriter::Caching::kBypass, pieces);
    ExpectWrittenInOrder(dir.path(), AtomicFileWriter::Caching::kPageCache, pieces);
  }
}

TEST(AtomicFileTest, AFileOnTmpfsGetsTheSameBytes) {
  // tmpfs takes O_DIRECT from Linux 6.6 on and refuses it before, when the
  // writer falls back to the page cache: the bytes are the same either way.
  const std::filesystem::path shm = "/dev/shm";
  std::error_code ec;
  if (!std::filesystem::is_directory(shm, ec)) GTEST_SKIP() << "no /dev/shm (tmpfs) on this machine";
  const std::filesystem::path dir = shm / ("ingest-atomic-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const auto& pieces : AwkwardPieces()) {
    ExpectWrittenInOrder(dir, AtomicFileWriter::Caching::kBypass, pieces);
    std::filesystem::remove(dir / "out");
  }
  std::filesystem::remove_all(dir);
}

// Bytes that differ at every position, so a block hashed or written twice,
// dropped or out of order changes the digest and the file.
std::string Stream(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + i / 997) & 0xff);
  return bytes;
}

TEST(AtomicFileTest, ItsSha256IsThatOfEveryByteWhateverThePieces) {
  TempDir dir;
  const auto path = dir.path() / "artifact.json";
  for (size_t size : {size_t{0}, size_t{5}, size_t{1} << 20, (size_t{1} << 20) + 1, size_t{11} << 20}) {
    const std::string bytes = Stream(size);
    for (size_t piece : {size_t{1} << 20, size_t{70001}, size_t{3} << 20}) {
      for (auto caching : {AtomicFileWriter::Caching::kBypass, AtomicFileWriter::Caching::kPageCache}) {
        Result<AtomicFileWriter> writer = AtomicFileWriter::Open(path, caching, AtomicFileWriter::Hashing::kSha256);
        ASSERT_OK(writer);
        for (size_t at = 0; at < bytes.size(); at += piece) {
          ASSERT_OK(writer->Append(std::string_view(bytes).substr(at, piece)));
        }
        ASSERT_OK(writer->Commit());
        EXPECT_EQ(writer->sha256(), Sha256Hex(bytes)) << size << " bytes in pieces of " << piece;
        EXPECT_TRUE(ReadAll(path) == bytes) << size << " bytes in pieces of " << piece;
      }
    }
  }
  EXPECT_EQ(CountEntries(dir.path()), 1u);
}

TEST(AtomicFileTest, AnUncommittedWriterStopsItsThreadsAndLeavesNoTempFile) {
  // Destroyed with blocks still on their way to the disk and the hasher.
  TempDir dir;
  const std::string bytes = Stream(size_t{3} << 20);
  for (int i = 0; i < 20; ++i) {
    Result<AtomicFileWriter> writer = AtomicFileWriter::Open(
        dir.path() / "artifact.json", AtomicFileWriter::Caching::kBypass, AtomicFileWriter::Hashing::kSha256);
    ASSERT_OK(writer);
    ASSERT_OK(writer->Append(bytes));
    ASSERT_OK(writer->Append(bytes));
  }
  EXPECT_EQ(CountEntries(dir.path()), 0u);
}

TEST(AtomicFileTest, MissingDirectoryIsAnErrorNamingThePath) {
  TempDir dir;
  Status s = WriteFileAtomic(dir.path() / "no/such/dir/file", "x");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("no/such/dir/file"));
}

TEST(AtomicFileTest, ReadOnlyDirectoryIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  TempDir dir;
  std::filesystem::create_directory(dir.path() / "ro");
  std::filesystem::permissions(dir.path() / "ro",
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  EXPECT_EQ(WriteFileAtomic(dir.path() / "ro/file", "x").code(), StatusCode::kPermissionDenied);
}

uint64_t Links(const std::filesystem::path& path) { return std::filesystem::hard_link_count(path); }

TEST(AtomicFileTest, LinkOrCopyGivesTheContentWithoutWritingIt) {
  TempDir dir;
  const auto from = dir.path() / "passC_chunks.json";
  ASSERT_OK(WriteFileAtomic(from, "records"));
  std::filesystem::create_directory(dir.path() / "next");
  const auto to = dir.path() / "next" / "passC_chunks.json";
  Result<std::string> sha = LinkOrCopyFileAtomic(from, to);
  ASSERT_OK(sha);
  EXPECT_EQ(*sha, Sha256Hex("records"));
  EXPECT_EQ(ReadAll(to), "records");
  EXPECT_EQ(Links(to), 2u);  // a link, not a copy
  // Replacing one name by rename leaves the other's bytes.
  ASSERT_OK(WriteFileAtomic(to, "rewritten"));
  EXPECT_EQ(ReadAll(from), "records");
  EXPECT_EQ(Links(from), 1u);
  EXPECT_EQ(LinkOrCopyFileAtomic(dir.path() / "missing", to).status().code(), StatusCode::kNotFound);
}

TEST(AtomicFileTest, UnshareGivesALinkedFileItsOwnBytes) {
  TempDir dir;
  const auto a = dir.path() / "a.journal";
  const auto b = dir.path() / "b.journal";
  ASSERT_OK(WriteFileAtomic(a, "entries"));
  ASSERT_OK(LinkOrCopyFileAtomic(a, b));
  ASSERT_OK(UnshareFile(b, /*keep_content=*/true));
  EXPECT_EQ(Links(a), 1u);
  EXPECT_EQ(Links(b), 1u);
  EXPECT_EQ(ReadAll(b), "entries");
  ASSERT_OK(LinkOrCopyFileAtomic(a, b));
  ASSERT_OK(UnshareFile(b, /*keep_content=*/false));
  EXPECT_FALSE(std::filesystem::exists(b));
  EXPECT_EQ(ReadAll(a), "entries");
  ASSERT_OK(UnshareFile(b, true));  // missing: nothing to do
  ASSERT_OK(UnshareFile(a, true));  // one link: left as it is
}

}  // namespace
}  // namespace ingest
