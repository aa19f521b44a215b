#include "common/glob.h"

namespace ingest {
namespace {

// Returns the index just past a [...] class starting at p[i] == '[', and
// whether `c` is in it; npos when the class is not closed (then '[' is literal).
size_t MatchClass(std::string_view p, size_t i, char c, bool* matched) {
  size_t j = i + 1;
  bool negate = j < p.size() && (p[j] == '!' || p[j] == '^');
  if (negate) ++j;
  bool found = false;
  bool first = true;
  while (j < p.size() && (p[j] != ']' || first)) {
    first = false;
    if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
      if (p[j] <= c && c <= p[j + 2]) found = true;
      j += 3;
    } else {
      if (p[j] == c) found = true;
      ++j;
    }
  }
  if (j >= p.size()) return std::string_view::npos;
  *matched = (found != negate);
  return j + 1;
}

bool Match(std::string_view p, std::string_view s) {
  size_t pi = 0;
  size_t si = 0;
  while (pi < p.size()) {
    if (p.compare(pi, 2, "**") == 0) {
      // "**/" matches zero or more whole segments; a trailing "**" matches the rest.
      size_t rest = pi + 2;
      if (rest < p.size() && p[rest] == '/') {
        std::string_view tail = p.substr(rest + 1);
        for (size_t k = si; k <= s.size(); ++k) {
          if ((k == si || s[k - 1] == '/') && Match(tail, s.substr(k))) return true;
        }
        return false;
      }
      std::string_view tail = p.substr(rest);
      for (size_t k = si; k <= s.size(); ++k) {
        if (Match(tail, s.substr(k))) return true;
      }
      return false;
    }
    char c = p[pi];
    if (c == '*') {
      std::string_view tail = p.substr(pi + 1);
      for (size_t k = si; k <= s.size(); ++k) {
        if (Match(tail, s.substr(k))) return true;
        if (k < s.size() && s[k] == '/') break;
      }
      return false;
    }
    if (si >= s.size()) return false;
    if (c == '?') {
      if (s[si] == '/') return false;
    } else if (c == '[') {
      bool matched = false;
      size_t next = MatchClass(p, pi, s[si], &matched);
      if (next != std::string_view::npos) {
        if (!matched || s[si] == '/') return false;
        pi = next;
        ++si;
        continue;
      }
      if (s[si] != '[') return false;
    } else if (c != s[si]) {
      return false;
    }
    ++pi;
    ++si;
  }
  return si == s.size();
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view path) { return Match(pattern, path); }

}  // namespace ingest
