#include "common/pass.h"

#include <algorithm>
#include <cctype>

namespace ingest {

std::string PassLetter(Pass pass) {
  INGEST_CHECK(pass >= Pass::PASS_A && pass <= Pass::PASS_F);
  return std::string(1, static_cast<char>('A' + (static_cast<int>(pass) - 1)));
}

Result<Pass> ParsePass(std::string_view text) {
  if (text.size() == 1) {
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
    if (c >= 'A' && c <= 'F') return static_cast<Pass>(c - 'A' + 1);
  }
  return InvalidArgument("unknown pass '" + std::string(text) + "' (expected one of A,B,C,D,E,F)");
}

Result<std::vector<Pass>> ParsePassList(std::string_view text) {
  std::vector<Pass> passes;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    INGEST_ASSIGN_OR_RETURN(Pass pass, ParsePass(item));
    if (std::find(passes.begin(), passes.end(), pass) == passes.end()) passes.push_back(pass);
    start = comma + 1;
  }
  std::sort(passes.begin(), passes.end());
  return passes;
}

std::string ArtifactFileName(Pass pass) {
  switch (pass) {
    case Pass::PASS_A: return "passA_toc.json";
    case Pass::PASS_B: return "passB_splits.json";
    case Pass::PASS_C: return "passC_chunks.json";
    case Pass::PASS_D: return "passD_enriched.json";
    case Pass::PASS_E: return "passE_graph.json";
    case Pass::PASS_F: return "passF_cleanup.json";
    default: break;
  }
  INGEST_CHECK(false);
}

std::vector<Pass> UpstreamPasses(Pass pass) {
  switch (pass) {
    case Pass::PASS_A: return {};
    case Pass::PASS_B: return {Pass::PASS_A};
    case Pass::PASS_C: return {Pass::PASS_A, Pass::PASS_B};
    case Pass::PASS_D: return {Pass::PASS_A, Pass::PASS_C};
    case Pass::PASS_E: return {Pass::PASS_A, Pass::PASS_C, Pass::PASS_D};
    case Pass::PASS_F: return {Pass::PASS_C, Pass::PASS_D, Pass::PASS_E};
    default: break;
  }
  INGEST_CHECK(false);
}

}  // namespace ingest
