// Pass D: normalized text, entities (dictionary terms and capitalized
// phrases) and keywords of each chunk. Deterministic: ties break by name.

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <unordered_set>

#include "worker/passes/passes.h"

namespace ingest {
namespace {

constexpr size_t kMaxKeywords = 5;

// The bytes of a word: std::isalnum of the "C" locale, any byte of a UTF-8
// sequence, '-' and '\''. A table, since it is asked of every byte of the
// corpus, twice.
constexpr std::array<bool, 256> kWordBytes = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    const int lower = c | 0x20;
    table[c] = (c >= '0' && c <= '9') || (lower >= 'a' && lower <= 'z') || c >= 0x80 || c == '-' || c == '\'';
  }
  return table;
}();
bool IsWordByte(unsigned char c) { return kWordBytes[c]; }

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  words.reserve(text.size() / 6 + 1);  // English averages about six bytes a word with its space
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

const std::unordered_set<std::string_view>& StopWords() {
  static const std::unordered_set<std::string_view> kWords = {
      "about", "above", "anything", "else",   "every",   "everything", "nothing", "something", "after",
      "again", "also",  "been",     "before", "being",   "below",      "between", "both",      "could",
      "does",  "doing", "down",     "during", "each",    "from",       "further", "have",      "having",
      "here",  "into",  "just",     "more",   "most",    "must",       "only",    "other",     "over",
      "same",  "shall", "should",   "some",   "such",    "than",       "that",    "their",     "them",
      "then",  "there", "these",    "they",   "this",    "those",      "through", "under",     "until",
      "very",  "were",  "what",     "when",   "where",   "which",      "while",   "will",      "with",
      "would", "your",  "yours",    "within", "without", "upon",       "onto",    "because",   "however"};
  return kWords;
}

// Words that may sit inside a capitalized phrase ("Bank of England").
bool IsConnector(std::string_view w) { return w == "of" || w == "and" || w == "for" || w == "the" || w == "de"; }
// Capitalized words that only start a sentence, not a name.
bool IsLeadingFiller(std::string_view w) {
  return w == "The" || w == "A" || w == "An" || w == "This" || w == "That" || w == "These" || w == "Those" ||
         w == "In" || w == "On" || w == "At" || w == "If" || w == "For" || w == "When" || w == "Each" || w == "Every" ||
         w == "All" || w == "Any" || w == "It" || w == "We" || w == "You";
}
bool IsCapitalized(std::string_view w) {
  return w.size() >= 2 && w[0] >= 'A' && w[0] <= 'Z' &&
         std::any_of(w.begin() + 1, w.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// True when only one space separates two words of `text`: a phrase never
// spans punctuation or a line break ("Archive. It", "Heading\n\nThe").
bool Adjacent(std::string_view a, std::string_view b) {
  const char* gap = a.data() + a.size();
  return b.data() - gap == 1 && *gap == ' ';
}

void AddCapitalizedPhrases(std::string_view text, std::map<std::string, Entity>* entities) {
  std::vector<std::string_view> words = Words(text);
  size_t i = 0;
  while (i < words.size()) {
    if (!IsCapitalized(words[i]) || IsLeadingFiller(words[i])) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    size_t last_cap = i;
    while (j < words.size() && Adjacent(words[j - 1], words[j]) &&
           (IsCapitalized(words[j]) || (IsConnector(words[j]) && j + 1 < words.size()))) {
      if (IsCapitalized(words[j])) last_cap = j;
      ++j;
    }
    if (last_cap > i) {
      // The phrase as written: from the first word's start to the last word's end.
      const char* begin = words[i].data();
      const char* end = words[last_cap].data() + words[last_cap].size();
      std::string phrase(begin, end);
      std::string key = NormalizeText(phrase);
      auto [it, inserted] = entities->try_emplace("phrase\x1f" + key);
      if (inserted) {
        it->second.set_name(phrase);
        it->second.set_kind("phrase");
      }
      it->second.set_count(it->second.count() + 1);
    }
    i = last_cap + 1;
  }
}

// How often each keyword candidate occurs in one chunk: open addressing
// in one table at most half full, since it runs for every word of the
// corpus and std::unordered_map allocated a node for each distinct word
// and hashed every byte (a quarter of pass D's time, BM_EnrichChunk).
class KeywordCounts {
 public:
  // Shorter words are not keywords; the hash reads four bytes at each end.
  static constexpr size_t kMinLength = 4;

  explicit KeywordCounts(size_t words) {
    size_t size = 16;
    while (size < 2 * words) size <<= 1;
    slots_.resize(size);
  }
  void Add(std::string_view word) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = Hash(word) & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.count == 0) {
        slot = {word, 1};
        ++distinct_;
        return;
      }
      if (slot.word == word) {
        ++slot.count;
        return;
      }
    }
  }
  size_t distinct() const { return distinct_; }
  template <typename Visit>
  void ForEach(Visit visit) const {
    for (const Slot& slot : slots_) {
      if (slot.count > 0) visit(slot.word, slot.count);
    }
  }

 private:
  struct Slot {
    std::string_view word;
    uint32_t count = 0;
  };
  static uint64_t Hash(std::string_view word) {
    uint32_t head = 0;
    uint32_t tail = 0;
    std::memcpy(&head, word.data(), sizeof head);
    std::memcpy(&tail, word.data() + word.size() - sizeof tail, sizeof tail);
    uint64_t h = ((uint64_t{head} << 32) | tail) ^ (word.size() * 0x9E3779B97F4A7C15ULL);
    h *= 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 31);
  }

  std::vector<Slot> slots_;
  size_t distinct_ = 0;
};

}  // namespace

namespace {

// Whitespace collapsed to single spaces and trimmed, after `fold` mapped each byte.
template <typename Fold>
std::string CollapseSpaces(std::string_view text, Fold fold) {
  // Never longer than the text: written through a pointer, without
  // push_back's capacity check for every byte of the corpus.
  std::string out(text.size(), '\0');
  char* const begin = out.data();
  char* end = begin;
  bool pending_space = false;
  for (char c : text) {
    // std::isspace of the "C" locale, inline: it runs for every byte.
    if (c == ' ' || (c >= '\t' && c <= '\r')) {
      pending_space = end != begin;
      continue;
    }
    if (pending_space) *end++ = ' ';
    pending_space = false;
    *end++ = fold(c);
  }
  out.resize(static_cast<size_t>(end - begin));
  return out;
}

bool IsAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace

std::string NormalizeText(std::string_view text) {
  // ASCII is already composed, and none of it is lumped: folding is
  // lowercasing, which spares utf8proc's per-character work on most text.
  if (IsAscii(text)) {
    return CollapseSpaces(text, [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  }
  // utf8proc: compose (NFC), fold case, and map every Unicode space and line
  // separator to an ASCII space (LUMP) so the collapse below sees them.
  utf8proc_uint8_t* mapped = nullptr;
  utf8proc_ssize_t n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()), &mapped,
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_LUMP));
  std::string folded;
  if (n >= 0) {
    folded.assign(reinterpret_cast<const char*>(mapped), static_cast<size_t>(n));
  } else {
    folded.assign(text);  // invalid UTF-8 cannot reach here (C sanitizes); keep the text as is
  }
  std::free(mapped);
  return CollapseSpaces(folded, [](char c) { return c; });
}

EnrichDictionary::EnrichDictionary(const std::vector<std::string>& terms) {
  for (const std::string& name : terms) {
    std::string norm = NormalizeText(name);
    Term term{.key = "term\x1f" + norm, .name = name};
    for (std::string_view w : Words(norm)) term.words.emplace_back(w);
    if (term.words.empty()) continue;
    std::string first = term.words.front();
    by_first_[first].push_back(std::move(term));
  }
}

const std::vector<EnrichDictionary::Term>* EnrichDictionary::StartingWith(std::string_view word) const {
  if (by_first_.empty()) return nullptr;
  auto it = by_first_.find(word);
  return it == by_first_.end() ? nullptr : &it->second;
}

EnrichedRecord EnrichChunk(const ChunkRecord& chunk, const std::vector<std::string>& dictionary) {
  return EnrichChunk(chunk, EnrichDictionary(dictionary));
}

EnrichedRecord EnrichChunk(const ChunkRecord& chunk, const EnrichDictionary& dictionary) {
  EnrichedRecord r;
  r.set_chunk_id(chunk.chunk_id());
  r.set_source_id(chunk.source_id());
  r.set_normalized(NormalizeText(chunk.text()));
  const std::string& normalized = r.normalized();
  std::vector<std::string_view> words = Words(normalized);

  std::map<std::string, Entity> entities;  // ordered: deterministic output
  // Dictionary terms, matched on whole words of the normalized text.
  for (size_t i = 0; i < words.size(); ++i) {
    const std::vector<EnrichDictionary::Term>* terms = dictionary.StartingWith(words[i]);
    if (terms == nullptr) continue;
    for (const EnrichDictionary::Term& term : *terms) {
      if (i + term.words.size() > words.size()) continue;
      bool match = true;
      for (size_t k = 1; k < term.words.size() && match; ++k) match = words[i + k] == term.words[k];
      if (!match) continue;
      auto [e, inserted] = entities.try_emplace(term.key);
      if (inserted) {
        e->second.set_name(term.name);
        e->second.set_kind("term");
      }
      e->second.set_count(e->second.count() + 1);
    }
  }
  AddCapitalizedPhrases(chunk.text(), &entities);
  for (auto& [key, entity] : entities) *r.add_entities() = std::move(entity);

  KeywordCounts counts(words.size());
  for (std::string_view w : words) {
    if (w.size() >= KeywordCounts::kMinLength) counts.Add(w);
  }
  // Stop words and numbers are left out once per distinct word, not at
  // every occurrence.
  const std::unordered_set<std::string_view>& stop_words = StopWords();
  std::vector<std::pair<std::string_view, uint32_t>> ranked;
  ranked.reserve(counts.distinct());
  counts.ForEach([&](std::string_view w, uint32_t count) {
    if (stop_words.contains(w)) return;
    if (std::all_of(w.begin(), w.end(), [](unsigned char c) { return (c >= '0' && c <= '9') || c == '-'; })) return;
    ranked.emplace_back(w, count);
  });
  // The most frequent first, ties in word order: deterministic.
  const size_t keep = std::min(ranked.size(), kMaxKeywords);
  std::partial_sort(
      ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep), ranked.end(),
      [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  for (size_t i = 0; i < keep; ++i) r.add_keywords(std::string(ranked[i].first));
  return r;
}

}  // namespace ingest
