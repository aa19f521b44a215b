// The manifest loader: a job directory's manifest.json is read back by
// --resume, carry-forward, verify and the admin API. What loads must print
// and load again to the same manifest; what loads whole loads without its
// documents (carry-forward's read) to the same manifest but those.

#include <google/protobuf/util/message_differencer.h>

#include "common/manifest.h"
#include "fuzz/fuzz_scratch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ingest;
  const std::filesystem::path file = fuzz::WriteScratch("manifest.json", fuzz::AsText(data, size));
  Result<Manifest> manifest = LoadManifest(file);
  (void)ReadManifestStatus(file);
  if (!manifest.ok()) return 0;
  Result<Manifest> head = LoadManifestWithoutDocuments(file);
  fuzz::Require(head.ok());
  // A key spelled with escapes ("d\u006fcuments") is parsed, not skipped.
  head->clear_documents();
  head->clear_source_sha_map();
  Manifest expected = *manifest;
  expected.clear_documents();
  expected.clear_source_sha_map();
  fuzz::Require(google::protobuf::util::MessageDifferencer::Equals(expected, *head));
  const std::string printed = ManifestJson(*manifest);
  Result<Manifest> again = LoadManifest(fuzz::WriteScratch("again.json", printed));
  fuzz::Require(again.ok());
  fuzz::Require(google::protobuf::util::MessageDifferencer::Equals(*manifest, *again));
  fuzz::Require(ManifestJson(*again) == printed);
  return 0;
}
