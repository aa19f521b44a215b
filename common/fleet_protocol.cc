#include "common/fleet_protocol.h"

namespace ingest {

std::string EncodeEnvelope(Envelope envelope) {
  envelope.set_protocol_version(kProtocolVersion);
  std::string out;
  envelope.SerializeToString(&out);
  return out;
}

Result<Envelope> DecodeEnvelope(std::string_view frame) {
  Envelope envelope;
  if (!envelope.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    return InvalidArgument("frame of " + std::to_string(frame.size()) + " bytes does not parse");
  }
  if (envelope.protocol_version() != kProtocolVersion) {
    return FailedPrecondition("protocol version " + std::to_string(envelope.protocol_version()) + ", expected " +
                              std::to_string(kProtocolVersion));
  }
  if (envelope.body_case() == Envelope::BODY_NOT_SET) return InvalidArgument("envelope without a body");
  return envelope;
}

}  // namespace ingest
