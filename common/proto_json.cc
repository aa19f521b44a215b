#include "common/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <cstdio>
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
      google::protobuf::util::NewTypeResolverForDescriptorPool("type.googleapis.com",
                                                               google::protobuf::DescriptorPool::generated_pool()));
  std::string binary;
  {
    google::protobuf::io::StringOutputStream stream(&binary);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  std::string out;
  auto status = google::protobuf::util::BinaryToJsonString(
      kResolver.get(), "type.googleapis.com/" + message.GetDescriptor()->full_name(), binary, &out, options);
  // Printing a well-formed message cannot fail.
  INGEST_CHECK(status.ok());
  return out;
}

}  // namespace

std::string ToJson(const google::protobuf::Message& message) { return Print(message, false); }

std::string ToPrettyJson(const google::protobuf::Message& message) { return Print(message, true); }

namespace {

Status Parse(std::string_view json, google::protobuf::Message* message, bool ignore_unknown) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = ignore_unknown;
  auto status = google::protobuf::util::JsonStringToMessage(google::protobuf::StringPiece(json.data(), json.size()),
                                                            message, options);
  if (!status.ok()) return InvalidArgument(std::string(status.message()));
  return Status::Ok();
}

}  // namespace

Status FromJson(std::string_view json, google::protobuf::Message* message) { return Parse(json, message, false); }

Status FromForeignJson(std::string_view json, google::protobuf::Message* message) { return Parse(json, message, true); }

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out.push_back(c);  // UTF-8 passes through
        }
    }
  }
  return out + "\"";
}

std::string JsonObject(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out = "{";
  for (const auto& [name, value] : members) {
    if (out.size() > 1) out.push_back(',');
    out += JsonQuote(name) + ":" + value;
  }
  return out + "}";
}

std::string JsonArray(const std::vector<std::string>& values) {
  std::string out = "[";
  for (const std::string& v : values) {
    if (out.size() > 1) out.push_back(',');
    out += v;
  }
  return out + "]";
}

}  // namespace ingest
