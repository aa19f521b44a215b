#pragma once

// What every extractor promises the passes after it, whatever the input.

#include "common/utf8.h"
#include "fuzz/fuzz_scratch.h"
#include "worker/formats/formats.h"

namespace ingest::fuzz {

inline void RequireWellFormed(const ExtractedDocument& doc) {
  Require(IsValidUtf8(doc.text));
  Require(IsValidUtf8(doc.title));
  Require(!doc.page_starts.empty() && doc.page_starts.front() == 0);
  for (size_t i = 1; i < doc.page_starts.size(); ++i) {
    Require(doc.page_starts[i - 1] <= doc.page_starts[i] && doc.page_starts[i] <= doc.text.size());
  }
  uint64_t previous = 0;
  for (const Section& section : doc.sections) {
    Require(section.offset() >= previous && section.offset() <= doc.text.size());
    Require(IsValidUtf8(section.title()));
    previous = section.offset();
  }
  for (uint64_t at : doc.block_breaks) Require(at <= doc.text.size());
}

}  // namespace ingest::fuzz
