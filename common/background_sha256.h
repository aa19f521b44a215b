#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/sha256.h"

namespace ingest {

// SHA-256 of a stream, computed on a thread of its own: whoever writes a
// large file hands its bytes over and goes on writing. An artifact's hash
// took a third of the coordinator's time writing it, on the thread that
// also takes the workers' results. Update copies the bytes into 1 MiB
// blocks (a copy costs a tenth of hashing them); at most four blocks wait,
// then Update waits for the hasher. Not thread-safe itself: one writer.
class BackgroundSha256 {
 public:
  BackgroundSha256();
  // Stops the hasher without a digest.
  ~BackgroundSha256();
  BackgroundSha256(const BackgroundSha256&) = delete;
  BackgroundSha256& operator=(const BackgroundSha256&) = delete;

  void Update(std::string_view bytes);
  // Waits for every byte to be hashed; lower-case hex. Once: nothing can be
  // added afterwards.
  std::string HexDigest();

 private:
  // Hands the current block to the hasher.
  void HandOver();
  void Run();

  static constexpr size_t kBlockBytes = size_t{1} << 20;
  static constexpr size_t kMaxWaiting = 4;

  std::string block_;  // being filled, the writer's
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> waiting_;  // guarded by mu_: handed over, in order
  std::vector<std::string> spare_;   // guarded by mu_: hashed, to fill again
  bool finishing_ = false;           // guarded by mu_
  Sha256 hash_;                      // the hasher's until it stops
  std::thread thread_;               // last: starts once the rest is set
};

}  // namespace ingest
