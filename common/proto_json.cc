#include "common/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <memory>

namespace ingest {
namespace {

std::string Print(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  // Maps print in key order only when the binary form is deterministic, so
  // serialize deterministically and convert: same message, same bytes.
  static const std::unique_ptr<google::protobuf::util::TypeResolver> kResolver(
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          "type.googleapis.com", google::protobuf::DescriptorPool::generated_pool()));
  std::string binary;
  {
    google::protobuf::io::StringOutputStream stream(&binary);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  std::string out;
  auto status = google::protobuf::util::BinaryToJsonString(
      kResolver.get(), "type.googleapis.com/" + message.GetDescriptor()->full_name(), binary, &out,
      options);
  // Printing a well-formed message cannot fail.
  INGEST_CHECK(status.ok());
  return out;
}

}  // namespace

std::string ToJson(const google::protobuf::Message& message) { return Print(message, false); }

std::string ToPrettyJson(const google::protobuf::Message& message) { return Print(message, true); }

Status FromJson(std::string_view json, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message, options);
  if (!status.ok()) return InvalidArgument(std::string(status.message()));
  return Status::Ok();
}

}  // namespace ingest
