#pragma once

#include <filesystem>
#include <string_view>

#include "common/status.h"

namespace ingest {

// PermissionDenied when `relative` is absolute or contains "..",
// InvalidArgument when empty: the lexical half of ResolveInsideRoot, for
// paths about to be created under `root`.
Status CheckRelativePath(const std::filesystem::path& root, const std::filesystem::path& relative);

// Resolves `relative` under `root` and returns the real path (symlinks
// resolved). PermissionDenied when `relative` is absolute, contains "..", or
// resolves (through a symlink) to a place outside `root`; NotFound when it
// does not exist. Nothing outside a root is ever opened through this.
Result<std::filesystem::path> ResolveInsideRoot(const std::filesystem::path& root,
                                                const std::filesystem::path& relative);

// True when `path` equals `root` or lies below it, compared component-wise on
// already-canonical paths ("/a/bc" is not inside "/a/b").
bool IsWithin(const std::filesystem::path& root, const std::filesystem::path& path);

}  // namespace ingest
