#include "common/path_safety.h"

#include <algorithm>
#include <system_error>

namespace ingest {

bool IsWithin(const std::filesystem::path& root, const std::filesystem::path& path) {
  auto r = root.begin();
  auto p = path.begin();
  for (; r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // trailing separator of root
    if (p == path.end() || *r != *p) return false;
  }
  return true;
}

Status CheckRelativePath(const std::filesystem::path& root, const std::filesystem::path& relative) {
  if (relative.empty()) return InvalidArgument("empty path under root " + root.string());
  if (relative.is_absolute()) {
    return PermissionDenied(relative.string() + ": absolute path refused under root " + root.string());
  }
  for (const auto& part : relative) {
    if (part == "..") {
      return PermissionDenied(relative.string() + ": '..' refused under root " + root.string());
    }
  }
  return Status::Ok();
}

Result<std::filesystem::path> ResolveInsideRoot(const std::filesystem::path& root,
                                                const std::filesystem::path& relative) {
  INGEST_RETURN_IF_ERROR(CheckRelativePath(root, relative));
  std::error_code ec;
  std::filesystem::path real_root = std::filesystem::canonical(root, ec);
  if (ec) return ErrnoStatus(ec.value(), "source root " + root.string());
  std::filesystem::path real = std::filesystem::canonical(real_root / relative, ec);
  if (ec) return ErrnoStatus(ec.value(), (root / relative).string());
  if (!IsWithin(real_root, real)) {
    return PermissionDenied(relative.string() + ": resolves to " + real.string() + ", outside source root " +
                            real_root.string());
  }
  return real;
}

}  // namespace ingest
