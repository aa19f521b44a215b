#pragma once

#include <string>
#include <string_view>

#include "common/config.h"
#include "common/status.h"

namespace ingest {

// What an admin call may do: read (Get, List, Watch, report, log) or
// operate (trigger, cancel, resume, and every read).
enum class Access { kRead, kOperate };

// Bearer tokens of the admin API (SPEC §12), read once from
// admin.token_file and admin.read_token_file. Tokens are compared in
// constant time (as sha256 digests, so their length leaks nothing either)
// and never logged. Thread-safe once loaded.
class TokenAuth {
 public:
  // No token configured: every call is allowed (the server then listens on
  // loopback only). Errors name the file: NotFound, PermissionDenied, or
  // InvalidArgument for an empty one.
  static Result<TokenAuth> Load(const AdminConfig& config);

  bool enabled() const { return !operate_digest_.empty(); }
  // `authorization` is the request's metadata value ("Bearer <token>"), ""
  // when absent. Unauthenticated when missing or wrong; PermissionDenied
  // for the read token on an operate call.
  Status Check(std::string_view authorization, Access access) const;

 private:
  std::string operate_digest_;
  std::string read_digest_;
};

}  // namespace ingest
