#pragma once

// What the fuzz targets share: a scratch file for the loaders that read
// paths (and, in fuzz_scratch.cc, LLVMFuzzerInitialize, which quiets the
// logs).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace ingest::fuzz {

// The bytes a fuzzer handed over, as text.
inline std::string_view AsText(const uint8_t* data, size_t size) { return {reinterpret_cast<const char*>(data), size}; }

// Writes `content` to `name` in this process's scratch directory (under the
// system's temp directory, removed at exit) and returns its path.
std::filesystem::path WriteScratch(const std::string& name, std::string_view content);

// Stops the fuzzer with a crash when an invariant of the code under test
// does not hold, so libFuzzer saves the input.
inline void Require(bool holds) {
  if (!holds) __builtin_trap();
}

}  // namespace ingest::fuzz
