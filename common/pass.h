#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "proto/fleet.pb.h"
#include "proto/manifest.pb.h"

namespace ingest {

// The passes in execution order.
inline constexpr Pass kAllPasses[] = {Pass::PASS_A, Pass::PASS_B, Pass::PASS_C,
                                      Pass::PASS_D, Pass::PASS_E, Pass::PASS_F};

// How the coordinator turns a pass's task results into its artifact.
enum class MergeKind {
  // Every document's records, in source_id order.
  kConcatenate,
  // Entity nodes are shared by documents: each is written once, first (its
  // source_id "" sorts first), then every document's own nodes and edges.
  kGraph,
  // One corpus-wide record: the per-document checks summed, duplicates
  // across documents, dangling references, and retention's count.
  kCleanup,
};

// What one task of a pass covers.
enum class TaskUnit {
  kDocument,
  kPart,  // one task per record of the planning pass (pass B's parts)
};

// Everything the coordinator and the workers need to know about one pass
// (SPEC §4), in one place: the code that plans, dispatches, merges, gates
// and carries passes forward looks it up here rather than switching on the
// pass. Immutable after start-up; safe to read from any thread.
struct PassInfo {
  Pass pass = Pass::PASS_UNSPECIFIED;
  std::string letter;    // "A"
  std::string title;     // "TOC / dictionary prime"
  std::string artifact;  // "passA_toc.json", in the job directory
  // The contract record type of the artifact (its default instance).
  const google::protobuf::Message* record = nullptr;
  // The RecordBatch field that carries these records between coordinator
  // and workers; null for pass F, whose task results are checks and whose
  // one record is made by the merge.
  const google::protobuf::FieldDescriptor* batch_field = nullptr;
  // The artifacts the pass reads; its gate checks exactly these.
  std::vector<Pass> upstream;
  // The pass whose artifact lists the documents (or parts) to plan;
  // PASS_UNSPECIFIED for the manifest's documents.
  Pass planned_from = Pass::PASS_UNSPECIFIED;
  TaskUnit unit = TaskUnit::kDocument;
  // Upstream records of the task's document, sent in Task.inputs.
  std::vector<Pass> task_inputs;
  // The Task.params the pass is given; PARAMS_NOT_SET for none.
  Task::ParamsCase params = Task::PARAMS_NOT_SET;
  // The task reads the document itself (an http page's body travels with it).
  bool reads_document = false;
  // Its records say what each document is (checksum, size): they update the
  // manifest's documents, and rerunning the pass rediscovers the sources.
  bool defines_documents = false;
  MergeKind merge = MergeKind::kConcatenate;
  // The job totals (Metrics fields) the artifact sets, and how one record
  // counts towards them. A pass carried forward copies these fields.
  std::vector<std::string> totals;
  void (*tally)(const google::protobuf::Message& record, Metrics* totals) = nullptr;
  // The contract: InvalidArgument names the field.
  Status (*validate)(const google::protobuf::Message& record) = nullptr;
  // The document a record belongs to; "" for corpus-wide records. Artifacts
  // are sorted by it.
  const std::string& (*source_id)(const google::protobuf::Message& record) = nullptr;
  // What identifies a corpus-wide record a task makes (pass E's entity
  // nodes: their id); the merge keeps one per key, in key order. Null for a
  // pass whose tasks make none.
  const std::string& (*shared_key)(const google::protobuf::Message& record) = nullptr;
};

// The description of `pass` (A..F; anything else is a bug).
const PassInfo& Describe(Pass pass);

// "A".."F".
const std::string& PassLetter(Pass pass);
// Accepts "A".."F" (either case). InvalidArgument names the text.
Result<Pass> ParsePass(std::string_view text);
// Parses "A,C" into passes in execution order, without duplicates.
Result<std::vector<Pass>> ParsePassList(std::string_view text);
// passA_toc.json ... passF_cleanup.json
const std::string& ArtifactFileName(Pass pass);
// Passes whose artifacts `pass` reads; its gate checks exactly these.
const std::vector<Pass>& UpstreamPasses(Pass pass);
// Sets the job totals that `pass` owns (PassInfo::totals) in `to` from `from`.
void CopyTotals(Pass pass, const Metrics& from, Metrics* to);
// Adds every figure of `from` to `to`.
void AddTotals(const Metrics& from, Metrics* to);

}  // namespace ingest
