// What the coordinator writes of a job itself. The manifest's save, which a
// run makes at every pass's start and end: a job of 4,000 documents (about
// 1.5 MB of JSON, most of it the entries per document), written, fsynced
// and renamed as the coordinator does. And a pass C artifact of as many
// documents written from their workers' rendered records (AddRendered:
// checked for one record a line, hashed, written). Linked with the
// coordinator's allocator, since fresh buffers are part of the cost.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/artifact.h"
#include "common/manifest.h"
#include "common/sha256.h"

namespace ingest {
namespace {

Manifest JobOf(int documents) {
  Manifest manifest;
  manifest.set_job_id("job_2026-12-07T03-10-16");
  manifest.set_env("bench");
  manifest.set_status("running");
  for (const char* letter : {"A", "B", "C", "D", "E", "F"}) {
    PassRecord& pass = (*manifest.mutable_passes())[letter];
    pass.set_status("success");
    pass.mutable_metrics()->set_tasks_total(static_cast<uint32_t>(documents));
  }
  for (int i = 0; i < documents; ++i) {
    const std::string digest = Sha256Hex(std::to_string(i));
    const std::string id = "doc_" + digest.substr(0, 16);
    DocumentRecord& doc = (*manifest.mutable_documents())[id];
    char path[32];
    std::snprintf(path, sizeof path, "doc_%06d.md", i);
    doc.set_source("corpus");
    doc.set_path(path);
    doc.set_checksum(digest);
    doc.set_status("processed");
    doc.set_bytes(8192 + static_cast<uint64_t>(i % 100));
    (*manifest.mutable_source_sha_map())[id] = digest;
  }
  return manifest;
}

void BM_SaveManifest(benchmark::State& state) {
  const Manifest manifest = JobOf(static_cast<int>(state.range(0)));
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "ingest_manifest_bench";
  std::filesystem::create_directories(dir);
  size_t bytes = 0;
  for (auto _ : state) {
    if (!SaveManifest(dir / "manifest.json", manifest).ok()) state.SkipWithError("save failed");
    bytes = std::filesystem::file_size(dir / "manifest.json");
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SaveManifest)->Arg(4000)->Unit(benchmark::kMillisecond)->UseRealTime();

// Ten chunk records of about 1.1 KB per document, rendered as a worker
// sends them: 45 MB over 4,000 documents.
void BM_WriteRenderedArtifact(benchmark::State& state) {
  const int documents = static_cast<int>(state.range(0));
  std::string record = R"({"chunk_id": "chk_0123456789abcdef", "text": ")";
  record.append(1024, 'x');
  record += R"("})";
  std::string json;
  for (int i = 0; i < 10; ++i) json += (i == 0 ? "" : ",\n") + record;
  std::vector<std::string> ids;
  for (int i = 0; i < documents; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "doc_%016d", i);
    ids.emplace_back(id);
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "ingest_artifact_bench";
  std::filesystem::create_directories(dir);
  for (auto _ : state) {
    Result<ArtifactWriter> writer = ArtifactWriter::Open(dir / "passC_chunks.json", Pass::PASS_C);
    if (!writer.ok()) state.SkipWithError("open failed");
    for (const std::string& id : ids) {
      if (!writer->AddRendered(id, json, 10).ok()) state.SkipWithError("write failed");
    }
    if (!writer->Commit().ok()) state.SkipWithError("commit failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(json.size()) * documents * state.iterations());
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_WriteRenderedArtifact)->Arg(4000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ingest

BENCHMARK_MAIN();
