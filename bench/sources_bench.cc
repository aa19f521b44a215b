// The walk of a `files` source: what a rerun with nothing changed spends
// most of its scan on, beside the state store's read (README, Performance).
// 4,000 files as ../shared/peers/celery/gen_corpus.py lays them out (one
// directory), and as many spread over 40 directories.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "coordinator/sources/discovery.h"

namespace ingest {
namespace {

std::filesystem::path MakeTree(int files, int directories) {
  std::filesystem::path root =
      std::filesystem::temp_directory_path() /
      ("ingest_sources_bench_" + std::to_string(::getpid()) + "_" + std::to_string(directories));
  std::filesystem::remove_all(root);
  for (int i = 0; i < files; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "dir%03d/doc_%06d.md", i % directories, i);
    const std::filesystem::path path = root / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << "# Document " << i << "\n";
  }
  return root;
}

void BM_DiscoverDocuments(benchmark::State& state) {
  SourceConfig source;
  source.name = "corpus";
  source.kind = "files";
  source.root = MakeTree(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  source.include = {"**/*"};
  size_t found = 0;
  for (auto _ : state) {
    Result<std::vector<DiscoveredDocument>> docs = DiscoverDocuments(source);
    if (!docs.ok()) state.SkipWithError(docs.status().message().c_str());
    found = docs.ok() ? docs->size() : 0;
  }
  state.counters["documents"] = static_cast<double>(found);
  state.SetItemsProcessed(static_cast<int64_t>(found) * state.iterations());
  std::filesystem::remove_all(source.root);
}
BENCHMARK(BM_DiscoverDocuments)->Args({4000, 1})->Args({4000, 40})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ingest

BENCHMARK_MAIN();
