#pragma once

#include <string_view>

namespace ingest {

// Matches a '/'-separated relative path against a glob as .gitignore reads
// them: `*` and `?` stay within one path segment, `[abc]` is a class, and `**`
// spans segments ("**/*.md" matches "a.md" and "x/y/a.md"; "drafts/**"
// matches everything below drafts/).
bool GlobMatch(std::string_view pattern, std::string_view path);

}  // namespace ingest
