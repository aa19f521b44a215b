// What a worker reads back from the PDF helper (ingest-pdf-extract): the
// helper parses PDFs nobody checked, so a crashed, confused or compromised
// helper's stdout must not take the worker down or yield offsets outside
// the text.

#include "fuzz/extract_invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ingest;
  Result<PdfExtract> answer = ParsePdfAnswer(fuzz::AsText(data, size), "fuzz.pdf");
  if (!answer.ok()) return 0;
  ExtractLimits limits;
  limits.max_sections = 64;
  Result<ExtractedDocument> doc = DocumentFromPdfAnswer(*answer, limits, "fuzz.pdf");
  if (!doc.ok()) return 0;
  fuzz::RequireWellFormed(*doc);
  return 0;
}
