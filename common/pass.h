#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "proto/fleet.pb.h"

namespace ingest {

// The passes in execution order.
inline constexpr Pass kAllPasses[] = {Pass::PASS_A, Pass::PASS_B, Pass::PASS_C,
                                      Pass::PASS_D, Pass::PASS_E, Pass::PASS_F};

// "A".."F".
std::string PassLetter(Pass pass);
// Accepts "A".."F" (either case). InvalidArgument names the text.
Result<Pass> ParsePass(std::string_view text);
// Parses "A,C" into passes in execution order, without duplicates.
Result<std::vector<Pass>> ParsePassList(std::string_view text);
// passA_toc.json ... passF_cleanup.json
std::string ArtifactFileName(Pass pass);
// Passes whose artifacts `pass` reads; its gate checks exactly these.
std::vector<Pass> UpstreamPasses(Pass pass);

}  // namespace ingest
