#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ingest {

// Incremental SHA-256 (OpenSSL EVP). Not thread-safe; one hasher per stream.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // Lower-case hex digest; the hasher cannot be updated afterwards, until
  // Reset.
  std::string HexDigest();
  // Starts a new digest with the same context (no allocation).
  void Reset();

 private:
  struct Impl;
  Impl* impl_;
};

std::string Sha256Hex(std::string_view bytes);

// Hashes a file in fixed-size blocks. NotFound / PermissionDenied name the path.
Result<std::string> Sha256File(const std::filesystem::path& path);

// HMAC-SHA256 of `data` under `key`: the raw 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view data);
std::string HexEncode(std::string_view bytes);
std::string Base64Encode(std::string_view bytes);
// InvalidArgument on characters outside the standard alphabet.
Result<std::string> Base64Decode(std::string_view text);

// A short stable id: `prefix` followed by the first 16 hex digits of sha256 of `content`.
std::string ContentId(std::string_view prefix, std::string_view content);

}  // namespace ingest
