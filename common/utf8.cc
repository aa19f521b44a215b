#include "common/utf8.h"

#include <cstdint>
#include <cstring>

namespace ingest {

size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (!IsUtf8Continuation(b(i + k))) return 0;
  }
  return n;
}

namespace {

// Where the valid UTF-8 that starts at `i` ends: text.size(), or the first
// byte that starts no valid sequence.
size_t ValidUntil(std::string_view text, size_t i) {
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  while (i < text.size()) {
    // Most text is ASCII: eight bytes at a time while no byte has its high bit.
    uint64_t word = 0;
    while (i + sizeof word <= text.size()) {
      std::memcpy(&word, text.data() + i, sizeof word);
      if ((word & kHighBits) != 0) break;
      i += sizeof word;
    }
    if (i >= text.size()) break;
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0) break;
    i += n;
  }
  return i;
}

}  // namespace

bool IsValidUtf8(std::string_view text) { return ValidUntil(text, 0) == text.size(); }

size_t CountCodePoints(std::string_view text) {
  size_t count = 0;
  for (unsigned char c : text) {
    if (!IsUtf8Continuation(c)) ++count;
  }
  return count;
}

namespace {

// Copy of `text` with each invalid byte given to `replace`; returns how many.
template <typename Replace>
size_t ReplaceInvalidBytes(std::string_view text, std::string* out, Replace replace) {
  out->reserve(text.size());
  size_t count = 0;
  for (size_t i = 0; i < text.size();) {
    const size_t valid = ValidUntil(text, i);
    out->append(text.substr(i, valid - i));
    if (valid == text.size()) break;
    replace(static_cast<unsigned char>(text[valid]), out);
    ++count;
    i = valid + 1;
  }
  return count;
}

}  // namespace

std::string SanitizeUtf8(std::string_view text, size_t* replaced) {
  std::string out;
  size_t count = ReplaceInvalidBytes(text, &out, [](unsigned char, std::string* o) { o->append("\xEF\xBF\xBD"); });
  if (replaced != nullptr) *replaced = count;
  return out;
}

std::string EscapeInvalidUtf8(std::string_view text) {
  std::string out;
  ReplaceInvalidBytes(text, &out, [](unsigned char byte, std::string* o) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    o->append("\\x");
    o->push_back(kHex[byte >> 4]);
    o->push_back(kHex[byte & 0xF]);
  });
  return out;
}

void AppendCodePoint(uint32_t cp, std::string* out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t Utf8FloorBoundary(std::string_view text, size_t pos) {
  if (pos >= text.size()) return text.size();
  while (pos > 0 && IsUtf8Continuation(static_cast<unsigned char>(text[pos]))) --pos;
  return pos;
}

std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

}  // namespace ingest
