// A document through the worker's extraction as pass A and C run it
// (ExtractDocument: format detection, decoding, the format's parser, page
// starts, section pages), read from a file in a source root as a worker
// reads it. Built three times, as a Markdown, an HTML and a text file name
// (FUZZ_DOCUMENT_NAME); content sniffing may still pick another parser.

#include "fuzz/extract_invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ingest;
  const std::filesystem::path file = fuzz::WriteScratch(FUZZ_DOCUMENT_NAME, fuzz::AsText(data, size));
  DocumentRef ref;
  ref.set_source("fuzz");
  ref.set_root(file.parent_path().string());
  ref.set_path(FUZZ_DOCUMENT_NAME);
  ExtractLimits limits;
  limits.max_sections = 64;
  limits.pdf_helper = "/nonexistent/ingest-pdf-extract";  // PDFs have their own target
  Result<ExtractedDocument> doc = ExtractDocument(ref, limits);
  if (!doc.ok()) return 0;
  fuzz::RequireWellFormed(*doc);
  fuzz::Require(doc->sections.size() <= limits.max_sections);
  return 0;
}
