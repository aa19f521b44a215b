#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ingest::testing {

struct OutlineEntry {
  std::string title;
  int level = 1;  // 1 = top
  int page = 1;   // 1-based
};

// Writes a real PDF with cairo: one page per entry of `pages` (lines split on
// '\n'), and an outline (bookmarks) pointing at pages.
void WritePdf(const std::filesystem::path& path, const std::vector<std::string>& pages,
              const std::vector<OutlineEntry>& outline = {});

}  // namespace ingest::testing
