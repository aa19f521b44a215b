// The configuration loader and ${VAR} interpolation: an ingest.yaml is
// written by hand and templated by deploy tooling.

#include <optional>
#include <string>

#include "common/config.h"
#include "fuzz/fuzz_scratch.h"

namespace ingest::fuzz {
namespace {

std::optional<std::string> Env(const std::string& name) {
  if (name == "HOME") return "/home/ingest";
  if (name == "EMPTY") return "";
  if (name == "NESTED") return "${HOME}/x";  // not interpolated again
  if (name == "TOKEN") return "s3cr3t\n";
  return std::nullopt;
}

}  // namespace
}  // namespace ingest::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ingest;
  const std::string_view text = fuzz::AsText(data, size);
  (void)Interpolate(text, fuzz::Env);
  Result<Config> config = LoadConfig(fuzz::WriteScratch("ingest.yaml", text), fuzz::Env);
  if (config.ok()) (void)CheckSourceRoots(*config);
  return 0;
}
