#include "common/file_syncer.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "common/positional_io.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

TEST(FileSyncerTest, RequestsReturnAtOnceAndWaitSeesThemAllDone) {
  testing::TempDir dir;
  const std::filesystem::path path = dir.path() / "journal";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  {
    FileSyncer syncer(fd, path);
    for (int i = 0; i < 50; ++i) {
      ASSERT_OK(WriteAt(fd, "entry " + std::to_string(i) + "\n", static_cast<uint64_t>(i) * 9, path));
      syncer.Request();
      ASSERT_OK(syncer.error());
    }
    EXPECT_OK(syncer.Wait());
    EXPECT_OK(syncer.Wait());  // nothing requested since: at once
    syncer.Request();          // left under way for the destructor
  }
  ::close(fd);
}

TEST(FileSyncerTest, AFailedSyncFailsEveryLaterCallNamingTheFile) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  {
    // fdatasync of a pipe fails (EINVAL), as a disk error would.
    FileSyncer syncer(pipe_fds[1], "journal/passC.journal");
    syncer.Request();
    Status failed = syncer.Wait();
    EXPECT_FALSE(failed.ok());
    EXPECT_NE(failed.message().find("passC.journal"), std::string::npos) << failed.message();
    // Nothing written is known to be durable any more.
    EXPECT_EQ(syncer.error().code(), failed.code());
    EXPECT_EQ(syncer.Wait().message(), failed.message());
  }
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

}  // namespace
}  // namespace ingest
