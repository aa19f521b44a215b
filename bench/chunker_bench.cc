// Pass C chunking and pass D enrichment throughput, MB/s of input text.

#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "common/result_seal.h"
#include "worker/passes/passes.h"

namespace ingest {
namespace {

// Deterministic English-like text with headings every ~40 lines.
std::string MakeText(size_t bytes, std::vector<Section>* sections) {
  static const char* kWords[] = {"the",      "coordinator", "merges",  "results", "into",  "artifacts", "worker",
                                 "reads",    "sources",     "gate",    "opens",   "after", "manifest",  "records",
                                 "checksum", "document",    "section", "pass",    "chunk", "Operators", "nightly"};
  std::mt19937 rng(42);
  std::string text;
  int line = 0;
  while (text.size() < bytes) {
    if (line % 40 == 0) {
      Section s;
      s.set_title("Heading " + std::to_string(line / 40));
      s.set_level(1 + (line / 40) % 3);
      s.set_page_start(1);
      s.set_offset(text.size());
      sections->push_back(s);
      text += "## " + s.title() + "\n\n";
    }
    int words = 8 + static_cast<int>(rng() % 10);
    for (int w = 0; w < words; ++w) {
      text += kWords[rng() % (sizeof kWords / sizeof *kWords)];
      text += (w + 1 == words) ? ".\n" : " ";
    }
    ++line;
  }
  return text;
}

void BM_CutChunks(benchmark::State& state) {
  std::vector<Section> sections;
  std::string text = MakeText(4 << 20, &sections);
  std::vector<size_t> breaks;
  breaks.reserve(sections.size());
  for (const Section& s : sections) breaks.push_back(s.offset());
  ChunkerOptions options{static_cast<size_t>(state.range(0)), static_cast<size_t>(state.range(0) / 8)};
  for (auto _ : state) benchmark::DoNotOptimize(CutChunks(text, options, breaks));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_CutChunks)->Arg(400)->Arg(1200)->Arg(4000)->Unit(benchmark::kMillisecond);

// Pass C on all of `text`, one part of one Markdown document.
std::vector<ChunkRecord> ChunkWhole(const std::string& text, const std::vector<Section>& sections) {
  SplitRecord part;
  part.set_source_id("doc_bench");
  part.set_byte_end(text.size());
  part.set_page_start(1);
  PartLayout layout;
  layout.sections = sections;
  return ChunkPart(text, part, layout, "markdown", {1200, 150});
}

// The whole of pass C's work on a part: cutting, section paths, pages,
// UTF-8 checks and content-hash ids.
void BM_ChunkPart(benchmark::State& state) {
  std::vector<Section> sections;
  std::string text = MakeText(4 << 20, &sections);
  for (auto _ : state) benchmark::DoNotOptimize(ChunkWhole(text, sections));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_ChunkPart)->Unit(benchmark::kMillisecond);

// Pass D on the chunks of that text: normalization, dictionary terms,
// capitalized phrases and keywords. Arg: dictionary terms (0, as in a corpus
// without a glossary, or a glossary's worth).
void BM_EnrichChunk(benchmark::State& state) {
  std::vector<Section> sections;
  const std::string text = MakeText(1 << 20, &sections);
  std::vector<ChunkRecord> chunks;
  for (size_t at = 0; at < text.size(); at += 1200) {
    ChunkRecord& chunk = chunks.emplace_back();
    chunk.set_chunk_id("chunk_" + std::to_string(at));
    chunk.set_source_id("doc_bench");
    chunk.set_text(text.substr(at, 1200));
  }
  std::vector<std::string> terms;
  static const char* kTerms[] = {"coordinator merges", "worker", "the manifest records", "Operators", "gate opens"};
  for (int64_t i = 0; i < state.range(0); ++i) {
    terms.push_back(i < 5 ? kTerms[i] : "Glossary Term " + std::to_string(i));
  }
  const EnrichDictionary dictionary(terms);
  for (auto _ : state) {
    for (const ChunkRecord& chunk : chunks) benchmark::DoNotOptimize(EnrichChunk(chunk, dictionary));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_EnrichChunk)->Arg(0)->Arg(200)->Unit(benchmark::kMillisecond);

// What a pass D task costs before its first chunk: the corpus's dictionary
// (up to 200 terms, pass A's) prepared for matching, from the task's copy.
void BM_PrepareDictionary(benchmark::State& state) {
  std::vector<std::string> terms;
  for (int64_t i = 0; i < state.range(0); ++i) terms.push_back("Glossary Term " + std::to_string(i));
  for (auto _ : state) benchmark::DoNotOptimize(EnrichDictionary(terms));
}
BENCHMARK(BM_PrepareDictionary)->Arg(200)->Unit(benchmark::kMicrosecond);

// What a worker does with pass C's records before sending them: each checked
// against its contract, serialized, and printed as the artifact's canonical
// JSON (mostly the chunks' text, escaped).
void BM_SealChunks(benchmark::State& state) {
  std::vector<Section> sections;
  const std::string text = MakeText(1 << 20, &sections);
  Task task;
  task.set_pass(PASS_C);
  task.mutable_document()->set_source_id("doc_bench");
  const std::vector<ChunkRecord> chunks = ChunkWhole(text, sections);
  for (auto _ : state) {
    state.PauseTiming();
    TaskResult result;
    for (const ChunkRecord& chunk : chunks) *result.mutable_records()->add_chunks() = chunk;
    state.ResumeTiming();
    SealResult(task, &result);
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_SealChunks)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ingest

BENCHMARK_MAIN();
