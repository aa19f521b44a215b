#include "common/result_seal.h"

#include <map>
#include <string>

#include "common/artifact.h"
#include "common/pass.h"
#include "common/proto_json.h"

namespace ingest {
namespace {

void FailContract(const Task& task, int index, const std::string& what, TaskResult* result) {
  result->Clear();
  result->set_task_id(task.task_id());
  result->set_attempt(task.attempt());
  TaskError* error = result->mutable_error();
  error->set_error_class(ERROR_CLASS_PERMANENT);
  error->set_kind(kContractViolation);
  error->set_message(ArtifactFileName(task.pass()) + " record " + std::to_string(index + 1) + " of " +
                     task.document().path() + ": " + what);
}

}  // namespace

void SealResult(const Task& task, TaskResult* result) {
  if (result->has_error() || task.pass() < Pass::PASS_A || task.pass() > Pass::PASS_F) {
    result->clear_records();
    return;
  }
  const Pass pass = task.pass();
  const PassInfo& info = Describe(pass);
  RecordBatch* records = result->mutable_records();
  if (info.batch_field == nullptr) {  // pass F: checks of the document, not records
    records->SerializeToString(result->mutable_record_bytes());
    result->clear_records();
    return;
  }
  const std::string& document = task.document().source_id();
  std::string json;
  uint32_t count = 0;
  struct Shared {
    std::string json;
    Metrics totals;
  };
  std::map<std::string, Shared> shared;  // by key: sorted, each once
  bool all_own = true;
  const int size = BatchSize(pass, *records);
  for (int i = 0; i < size; ++i) {
    const google::protobuf::Message& record = BatchRecord(pass, *records, i);
    if (Status valid = ValidateRecord(pass, record); !valid.ok()) return FailContract(task, i, valid.message(), result);
    const std::string& source_id = RecordSourceId(pass, record);
    if (source_id.empty() && info.shared_key != nullptr) {
      all_own = false;
      auto [at, inserted] = shared.try_emplace(info.shared_key(record));
      if (inserted) {
        AppendJson(record, &at->second.json);
        info.tally(record, &at->second.totals);
      }
      continue;
    }
    if (source_id != document) {
      return FailContract(task, i, "belongs to document '" + source_id + "', not to " + document, result);
    }
    if (count++ > 0) json += ",\n";
    AppendJson(record, &json);
    info.tally(record, result->mutable_totals());
  }
  if (all_own) {
    KeepOnlyRecords(pass, records);
    records->SerializeToString(result->mutable_record_bytes());
  } else {
    RecordBatch own;
    for (int i = 0; i < size; ++i) {
      const google::protobuf::Message& record = BatchRecord(pass, *records, i);
      if (!RecordSourceId(pass, record).empty()) AddToBatch(pass, record, &own);
    }
    own.SerializeToString(result->mutable_record_bytes());
  }
  result->set_artifact_json(std::move(json));
  result->set_record_count(count);
  for (auto& [key, one] : shared) {
    SharedRecord* record = result->add_shared();
    record->set_key(key);
    record->set_json(std::move(one.json));
    *record->mutable_totals() = one.totals;
  }
  result->clear_records();
}

}  // namespace ingest
