// Writes seed inputs for the fuzz targets that read our own formats (fleet
// envelopes, journals, the manifest, the PDF helper's answer), made by the
// code that writes them and from real task results, so the seeds follow the
// formats as they change. scripts/fuzz.sh adds the example corpus and
// configs for the text targets.
// Usage: fuzz_seeds OUT_DIR   (writes OUT_DIR/<target>/<seed>)

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/fleet_protocol.h"
#include "common/manifest.h"
#include "common/result_seal.h"
#include "coordinator/pass/task_journal.h"
#include "worker/task_runner.h"

namespace ingest::fuzz {
namespace {

constexpr char kMarkdown[] =
    "# Night Shift Handbook\n\nThe Control Unit logs every reading.\n\n## Before dawn\n\n"
    "Operators check the Control Unit.\n\n```\ncode block\n```\n\n## After dawn\n\nNothing.\n";

void Write(const std::filesystem::path& dir, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary | std::ios::trunc) << bytes;
}

Task MakeTask(Pass pass, const std::string& inputs) {
  Task task;
  task.set_task_id(std::string(1, static_cast<char>('A' + pass - PASS_A)) + "-doc_0123456789abcdef-0");
  task.set_attempt(1);
  task.set_pass(pass);
  DocumentRef* doc = task.mutable_document();
  doc->set_source_id("doc_0123456789abcdef");
  doc->set_source("handbook");
  doc->set_path("handbook/night-shift.md");
  doc->set_checksum(std::string(64, 'a'));
  doc->set_content(kMarkdown);
  task.set_inputs(inputs);
  if (pass == PASS_B) task.mutable_split()->set_split_threshold_mb(1);
  return task;
}

TaskResult Run(const Task& task) {
  TaskResult result = RunTask(task);
  SealResult(task, &result);
  return result;
}

}  // namespace
}  // namespace ingest::fuzz

int main(int argc, char** argv) {
  using namespace ingest;
  using fuzz::Write;
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds OUT_DIR\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const Task task_a = fuzz::MakeTask(PASS_A, "");
  const TaskResult result_a = fuzz::Run(task_a);
  const Task task_b = fuzz::MakeTask(PASS_B, result_a.record_bytes());
  const TaskResult result_b = fuzz::Run(task_b);
  if (result_a.has_error() || result_b.has_error()) {
    std::fprintf(stderr, "fuzz_seeds: a seed task failed: %s%s\n", result_a.error().message().c_str(),
                 result_b.error().message().c_str());
    return 1;
  }

  // Envelopes, and the same frames from a known peer, a stranger, whole
  // and split (the broker target's first byte).
  std::vector<std::pair<std::string, Envelope>> envelopes(6);
  envelopes[0].first = "ready";
  envelopes[0].second.mutable_ready()->set_worker_id("w1");
  envelopes[0].second.mutable_ready()->set_slots(2);
  envelopes[0].second.mutable_ready()->set_version("ingestfleet-worker/0.1.0");
  envelopes[1].first = "heartbeat";
  envelopes[1].second.mutable_heartbeat();
  envelopes[2].first = "tasks";
  *envelopes[2].second.mutable_tasks()->add_tasks() = task_a;
  *envelopes[2].second.mutable_tasks()->add_tasks() = task_b;
  envelopes[3].first = "results";
  *envelopes[3].second.mutable_results()->add_results() = result_a;
  *envelopes[3].second.mutable_results()->add_results() = result_b;
  envelopes[4].first = "drain";
  envelopes[4].second.mutable_drain()->add_unstarted(task_b.task_id());
  envelopes[5].first = "result";
  *envelopes[5].second.mutable_result() = result_a;
  for (const auto& [name, envelope] : envelopes) {
    const std::string frame = EncodeEnvelope(envelope);
    Write(out / "fuzz_envelope", name, frame);
    for (char first : {'\0', '\1', '\2', '\3'}) {
      Write(out / "fuzz_broker", name + "-" + std::to_string(static_cast<int>(first)), std::string(1, first) + frame);
    }
  }

  // A journal as a file ("\0" + its bytes) and as entries ("\1" + each
  // entry's length, two bytes little endian, and bytes).
  const std::filesystem::path journal_path = out / "seed.journal";
  std::string entries = "\1";
  {
    Result<TaskJournal> journal = TaskJournal::Open(journal_path, /*fresh=*/true);
    if (!journal.ok()) {
      std::fprintf(stderr, "fuzz_seeds: %s\n", journal.status().message().c_str());
      return 1;
    }
    for (const TaskResult* result : {&result_a, &result_b}) {
      JournalEntry entry;
      entry.set_task_id(result->task_id());
      entry.set_task_digest(std::string(32, '\x5a'));
      *entry.mutable_result() = *result;
      (void)journal->Append(entry);
      const std::string bytes = entry.SerializeAsString();
      if (bytes.size() > 0xFFFF) continue;
      const auto length = static_cast<uint16_t>(bytes.size());
      entries += std::string{static_cast<char>(length & 0xFF), static_cast<char>(length >> 8)} + bytes;
    }
    (void)journal->Sync();
  }
  std::ifstream journal_file(journal_path, std::ios::binary);
  Write(out / "fuzz_journal", "file", "\0" + std::string(std::istreambuf_iterator<char>(journal_file), {}));
  Write(out / "fuzz_journal", "entries", entries);
  std::filesystem::remove(journal_path);

  Manifest manifest = NewManifest("job_2026-12-06T02-00-00", "prod");
  DocumentRecord& doc = (*manifest.mutable_documents())["doc_0123456789abcdef"];
  doc.set_source("handbook");
  doc.set_path("handbook/night-shift.md");
  doc.set_checksum(std::string(64, 'a'));
  doc.set_status(kDocProcessed);
  (*manifest.mutable_source_sha_map())["doc_0123456789abcdef"] = std::string(64, 'a');
  PassRecord& pass_a = PassEntry(manifest, PASS_A);
  pass_a.set_status(kPassSuccess);
  ArtifactRecord* artifact = pass_a.add_artifacts();
  artifact->set_path("passA_toc.json");
  artifact->set_sha256(std::string(64, 'b'));
  artifact->set_bytes(1234);
  artifact->set_records(1);
  RunRecord* run = manifest.add_runs();
  run->set_run_id("run_20261206_020000_1");
  run->set_trigger("schedule");
  run->set_status(kJobCompleted);
  Write(out / "fuzz_manifest", "job", ManifestJson(manifest));

  PdfExtract pdf;
  pdf.set_page_count(3);
  pdf.set_title("Service Manual");
  pdf.set_first_page(1);
  for (const char* page : {"Service Manual\n\n1 Safety\nKeep clear.", "2 Operation\nStart the unit.", "3 Index"}) {
    pdf.add_pages(page);
  }
  for (uint32_t page : {1u, 2u, 3u}) {
    PdfOutlineEntry* entry = pdf.add_outline();
    entry->set_title("Section " + std::to_string(page));
    entry->set_level(page == 3 ? 1 : 2);
    entry->set_page(page);
  }
  Write(out / "fuzz_pdf_answer", "manual", pdf.SerializeAsString());
  return 0;
}
