#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ingest {

inline bool IsUtf8Continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the well-formed sequence starting at text[i], or 0 if it is
// malformed (overlong, a surrogate, beyond U+10FFFF, cut off).
size_t Utf8SequenceLength(std::string_view text, size_t i);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or >U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Number of code points, counting each invalid byte as one.
size_t CountCodePoints(std::string_view text);

// Copy of `text` with each invalid byte replaced by U+FFFD; `replaced` (if
// given) receives the number of replacements.
std::string SanitizeUtf8(std::string_view text, size_t* replaced = nullptr);

// Copy of `text` with each invalid byte written as \xNN (hex, upper case):
// a readable, valid name for what cannot be shown as it is.
std::string EscapeInvalidUtf8(std::string_view text);

// Appends the UTF-8 encoding of code point `cp` (U+FFFD if it is not one).
void AppendCodePoint(uint32_t cp, std::string* out);

// Largest index <= `pos` that does not split a UTF-8 sequence.
size_t Utf8FloorBoundary(std::string_view text, size_t pos);

// Copy of `text` with the ASCII letters lowered and every other byte as it
// is: what std::tolower does byte by byte in the C locale (the only one our
// processes use), without a call per byte. Format detection lowers the
// first 2 KiB of every document it reads.
std::string AsciiLower(std::string_view text);

}  // namespace ingest
