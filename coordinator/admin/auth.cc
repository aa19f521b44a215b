#include "coordinator/admin/auth.h"

#include <openssl/crypto.h>

#include "common/atomic_file.h"
#include "common/sha256.h"

namespace ingest {
namespace {

Result<std::string> TokenDigest(const std::filesystem::path& file, const std::string& key) {
  INGEST_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  // The first line; files made with `echo` end in a newline.
  std::string token = text.substr(0, text.find_first_of("\r\n"));
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.pop_back();
  if (token.empty()) return InvalidArgument("key '" + key + "': " + file.string() + " holds no token");
  return Sha256Hex(token);
}

bool SameDigest(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Result<TokenAuth> TokenAuth::Load(const AdminConfig& config) {
  TokenAuth auth;
  if (!config.token_file.empty()) {
    INGEST_ASSIGN_OR_RETURN(auth.operate_digest_, TokenDigest(config.token_file, "admin.token_file"));
  }
  if (!config.read_token_file.empty()) {
    INGEST_ASSIGN_OR_RETURN(auth.read_digest_, TokenDigest(config.read_token_file, "admin.read_token_file"));
  }
  return auth;
}

Status TokenAuth::Check(std::string_view authorization, Access access) const {
  if (!enabled()) return Status::Ok();
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size() || authorization.substr(0, kScheme.size()) != kScheme) {
    return {StatusCode::kUnauthenticated, "missing 'authorization: Bearer <token>' metadata"};
  }
  const std::string digest = Sha256Hex(authorization.substr(kScheme.size()));
  if (SameDigest(digest, operate_digest_)) return Status::Ok();
  if (!read_digest_.empty() && SameDigest(digest, read_digest_)) {
    if (access == Access::kRead) return Status::Ok();
    return PermissionDenied("the read-only token may not trigger, cancel or resume runs");
  }
  return {StatusCode::kUnauthenticated, "the bearer token is not admin.token_file's or admin.read_token_file's"};
}

}  // namespace ingest
