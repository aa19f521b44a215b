// The state store's part of a rerun with nothing changed (README,
// Performance): reading a source's documents as the scan compares with
// them, and settling them all unchanged as the run ends, closing the store
// (its checkpoint) included. 4,000 documents, as in bench/throughput.py.

#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/manifest.h"
#include "coordinator/state/state_store.h"

namespace ingest {
namespace {

struct Store {
  std::filesystem::path dir;
  std::vector<StoredDocument> documents;
  std::vector<DocumentOutcome> unchanged;

  explicit Store(int count)
      : dir(std::filesystem::temp_directory_path() / ("ingest_state_bench_" + std::to_string(::getpid()))) {
    spdlog::set_level(spdlog::level::warn);  // not a line per migration of each new store
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    for (int i = 0; i < count; ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "doc_%016x", i * 2654435761u);
      documents.push_back({.source_id = id,
                           .source = "corpus",
                           .path = "doc_" + std::to_string(i) + ".md",
                           .checksum = std::string(64, static_cast<char>('a' + i % 26)),
                           .size = 8192,
                           .mtime_ns = 1'700'000'000'000'000'000 + i,
                           .last_status = kDocProcessed});
    }
    for (const StoredDocument& d : documents) {
      unchanged.push_back({.source_id = d.source_id,
                           .source = d.source,
                           .path = d.path,
                           .checksum = d.checksum,
                           .size = d.size,
                           .status = kDocUnchanged});
    }
    Result<StateStore> store = StateStore::Open(path());
    if (store.ok()) (void)store->PutDocuments("bench", documents, "t0");
  }
  ~Store() { std::filesystem::remove_all(dir); }
  std::filesystem::path path() const { return dir / "state.db"; }
};

void BM_ReadDocuments(benchmark::State& state) {
  Store fixture(static_cast<int>(state.range(0)));
  Result<StateStore> store = StateStore::Open(fixture.path());
  if (!store.ok()) return state.SkipWithError(store.status().message().c_str());
  for (auto _ : state) {
    Result<std::map<std::string, StoredDocument>> docs = store->Documents("bench", "corpus");
    if (!docs.ok()) return state.SkipWithError(docs.status().message().c_str());
    benchmark::DoNotOptimize(docs->size());
  }
  state.SetItemsProcessed(state.range(0) * state.iterations());
}
BENCHMARK(BM_ReadDocuments)->Arg(4000)->Unit(benchmark::kMillisecond)->UseRealTime();

// Every night but the first after a change: the rows say unchanged already.
void BM_SettleUnchangedDocuments(benchmark::State& state) {
  Store fixture(static_cast<int>(state.range(0)));
  int night = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Result<StateStore> opened = StateStore::Open(fixture.path());
    if (!opened.ok()) return state.SkipWithError(opened.status().message().c_str());
    std::optional<StateStore> store(std::move(opened).value());
    std::string now = "t";
    now += std::to_string(++night);
    state.ResumeTiming();
    if (Status s = store->SettleDocuments("bench", fixture.unchanged, now); !s.ok()) {
      return state.SkipWithError(s.message().c_str());
    }
    store.reset();  // closing it checkpoints: part of the run's end
  }
  state.SetItemsProcessed(state.range(0) * state.iterations());
}
BENCHMARK(BM_SettleUnchangedDocuments)->Arg(4000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ingest

BENCHMARK_MAIN();
