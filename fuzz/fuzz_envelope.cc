// Fleet envelopes as both ends decode them: the coordinator decodes every
// frame a peer sends, the worker every frame from the coordinator, and a
// worker answers a frame it cannot parse by salvaging the tasks it can
// (SalvageTasks) instead of dropping it.

#include "common/fleet_protocol.h"
#include "fuzz/fuzz_scratch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ingest;
  const std::string_view frame = fuzz::AsText(data, size);
  Result<Envelope> envelope = DecodeEnvelope(frame);
  if (envelope.ok()) {
    // What decodes encodes, and decodes again to the same body.
    Result<Envelope> again = DecodeEnvelope(EncodeEnvelope(*envelope));
    fuzz::Require(again.ok());
    fuzz::Require(again->body_case() == envelope->body_case());
    return 0;
  }
  std::optional<SalvagedTasks> salvaged = SalvageTasks(frame, envelope.status());
  if (salvaged && !salvaged->refused.empty()) {
    // The refusals go back to the coordinator, which must be able to read
    // them: otherwise the task would wait out its timeout after all.
    Envelope refusals;
    for (const TaskResult& refused : salvaged->refused) *refusals.mutable_results()->add_results() = refused;
    Result<Envelope> answer = DecodeEnvelope(EncodeEnvelope(std::move(refusals)));
    fuzz::Require(answer.ok());
    fuzz::Require(answer->results().results_size() == static_cast<int>(salvaged->refused.size()));
  }
  return 0;
}
