// Pass C per format: extraction plus chunking, MB/s for text, Markdown and
// HTML, pages/s for PDF (through the ingest-pdf-extract helper process, as a
// worker runs it).

#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <string>

#include "tests/testing/pdf_fixture.h"
#include "worker/formats/formats.h"
#include "worker/passes/passes.h"

namespace ingest {
namespace {

std::string Sentence(std::mt19937& rng) {
  static const char* kWords[] = {"the",      "coordinator", "merges",   "results",  "into",  "artifacts",
                                 "worker",   "reads",       "sources",  "gate",     "opens", "after",
                                 "manifest", "records",     "checksum", "Operators"};
  std::string s;
  int n = 8 + static_cast<int>(rng() % 10);
  for (int i = 0; i < n; ++i) s += std::string(kWords[rng() % 16]) + (i + 1 == n ? ". " : " ");
  return s;
}

// ~`bytes` of a document in `format`, headings every few paragraphs.
std::string MakeDocument(const std::string& format, size_t bytes) {
  std::mt19937 rng(7);
  std::string out = format == kFormatHtml ? "<!doctype html><html><head><title>Bench</title></head><body>\n" : "";
  for (int section = 0; out.size() < bytes; ++section) {
    std::string title = "Section " + std::to_string(section);
    if (format == kFormatMarkdown) out += "## " + title + "\n\n";
    if (format == kFormatHtml) out += "<h2>" + title + "</h2>\n";
    if (format == kFormatText) out += std::to_string(section + 1) + ". " + title + "\n\n";
    for (int p = 0; p < 4; ++p) {
      std::string para;
      for (int s = 0; s < 5; ++s) para += Sentence(rng);
      out += format == kFormatHtml ? "<p>" + para + "</p>\n" : para + "\n\n";
    }
  }
  return out + (format == kFormatHtml ? "</body></html>\n" : "");
}

void ChunkWhole(const ExtractedDocument& doc) {
  SplitRecord part;
  part.set_source_id("doc_bench");
  part.set_byte_end(doc.text.size());
  PartLayout layout;
  layout.sections = doc.sections;
  layout.page_starts = doc.page_starts;
  benchmark::DoNotOptimize(ChunkPart(doc.text, part, layout, doc.format, {1200, 150}));
}

void BM_PassC_Text(benchmark::State& state) {
  std::string source = MakeDocument(kFormatText, 4 << 20);
  for (auto _ : state) {
    ExtractedDocument doc;
    uint64_t replaced = 0;
    doc.format = kFormatText;
    doc.text = DecodeText(source, &replaced);
    doc.sections = TextHeadings(doc.text, 20000);
    doc.page_starts = FormFeedPageStarts(doc.text);
    ChunkWhole(doc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * source.size()));
}
BENCHMARK(BM_PassC_Text)->Unit(benchmark::kMillisecond);

void BM_PassC_Markdown(benchmark::State& state) {
  std::string source = MakeDocument(kFormatMarkdown, 4 << 20);
  for (auto _ : state) ChunkWhole(ExtractMarkdown(source, 20000));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * source.size()));
}
BENCHMARK(BM_PassC_Markdown)->Unit(benchmark::kMillisecond);

void BM_PassC_Html(benchmark::State& state) {
  std::string source = MakeDocument(kFormatHtml, 4 << 20);
  for (auto _ : state) ChunkWhole(ExtractHtml(source, 20000));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * source.size()));
}
BENCHMARK(BM_PassC_Html)->Unit(benchmark::kMillisecond);

void BM_PassC_Pdf(benchmark::State& state) {
  const int pages = 100;
  std::filesystem::path path = std::filesystem::temp_directory_path() / "ingest-bench.pdf";
  std::mt19937 rng(7);
  std::vector<std::string> texts;
  for (int p = 0; p < pages; ++p) {
    std::string page = "Chapter " + std::to_string(p + 1) + "\n";
    for (int line = 0; line < 40; ++line) page += Sentence(rng) + "\n";
    texts.push_back(page);
  }
  std::vector<testing::OutlineEntry> outline;
  for (int p = 1; p <= pages; p += 5) outline.push_back({"Chapter " + std::to_string(p), 1, p});
  testing::WritePdf(path, texts, outline);
  ExtractLimits limits;
  limits.pdf_helper = (std::filesystem::path(INGEST_BIN_DIR) / "ingest-pdf-extract").string();
  for (auto _ : state) {
    Result<ExtractedDocument> doc = ExtractPdf(path.string(), limits, 0, 0);
    if (!doc.ok()) {
      state.SkipWithError(doc.status().ToString().c_str());
      break;
    }
    ChunkWhole(*doc);
  }
  state.counters["pages_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations() * pages), benchmark::Counter::kIsRate);
  std::filesystem::remove(path);
}
BENCHMARK(BM_PassC_Pdf)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ingest

BENCHMARK_MAIN();
