#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ingest {

// Reads and writes at a file offset, retrying short transfers and EINTR, so
// one descriptor can serve many readers without seeking. Errors name `path`.
Status WriteAt(int fd, std::string_view bytes, uint64_t offset, const std::filesystem::path& path);
// Fills `bytes` (sized by the caller) from `offset`; false when the file ends
// inside the range.
Result<bool> ReadAt(int fd, std::string* bytes, uint64_t offset, const std::filesystem::path& path);
// Fills what it can of `bytes` from `offset`; returns how many bytes that
// is (fewer when the file ends first).
Result<uint64_t> ReadUpTo(int fd, std::string* bytes, uint64_t offset, const std::filesystem::path& path);
// The same into `size` bytes at `data`: a buffer kept between reads need not
// be zero-filled as a string's resize would.
Result<uint64_t> ReadUpTo(int fd, char* data, uint64_t size, uint64_t offset, const std::filesystem::path& path);

}  // namespace ingest
