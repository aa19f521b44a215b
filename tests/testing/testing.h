#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace ingest::testing {

// EXPECT_OK(status_or_result)
#define EXPECT_OK(expr) \
  EXPECT_TRUE(::ingest::testing::StatusOf(expr).ok()) << ::ingest::testing::StatusOf(expr).ToString()
#define ASSERT_OK(expr) \
  ASSERT_TRUE(::ingest::testing::StatusOf(expr).ok()) << ::ingest::testing::StatusOf(expr).ToString()

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to path()/relative, creating parent directories.
  std::filesystem::path Write(const std::string& relative, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

std::string ReadAll(const std::filesystem::path& path);

// The last line of `text`, without its newline.
std::string LastLine(const std::string& text);

// The JSON strings that follow `prefix` (a key and its colon) in `json`,
// decoded, in order. Tests read JSON objects this way, not through
// google::protobuf::Struct: its map lookups crash in the ThreadSanitizer
// build, whose code meets the system's uninstrumented protobuf.
std::vector<std::string> JsonStringsAfter(const std::string& json, const std::string& prefix);

// A child process started from argv, with stdout and stderr in files. The
// destructor kills (SIGKILL) and reaps it if it is still running, so a
// failing test never leaves processes behind.
class Subprocess {
 public:
  Subprocess(std::vector<std::string> argv, std::filesystem::path stdout_file, std::filesystem::path stderr_file,
             const std::vector<std::string>& env = {});
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `signal`; no-op once reaped.
  void Signal(int signal);
  // Waits up to `timeout` for exit; returns the exit code, 128+signal when
  // killed by one, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  bool running();
  std::string Stdout() const { return ReadAll(stdout_file_); }
  std::string Stderr() const { return ReadAll(stderr_file_); }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::filesystem::path stdout_file_;
  std::filesystem::path stderr_file_;
};

// Polls `file` until a line contains `marker`; returns the rest of that line
// after the marker, or "" after `timeout`, or as soon as `still_waiting`
// (optional, e.g. whether the process writing the file runs) says no.
std::string WaitForLine(const std::filesystem::path& file, const std::string& marker, std::chrono::milliseconds timeout,
                        const std::function<bool()>& still_waiting = {});

// `d` times INGEST_TEST_TIME_SCALE (default 1): sanitizer builds run the same
// waits several times slower, so scripts/test.sh scales them there.
std::chrono::milliseconds Scaled(std::chrono::milliseconds d);

// `fleet.liveness` for the tests' fleets at heartbeat_ms 200: two seconds
// of silence, scaled like every other wait.
int64_t FleetLiveness();

// HMAC-SHA256 with OpenSSL's one-shot HMAC(), not through the code under
// test: signatures are checked independently.
std::string IndependentHmacSha256(const std::string& key, const std::string& data);

// A TCP port on 127.0.0.1 that was free a moment ago, for a process that
// must bind the same address twice (a restarted coordinator).
uint16_t FreeLoopbackPort();

// Directory of the built binaries (build/bin).
std::filesystem::path BinDir();

}  // namespace ingest::testing
