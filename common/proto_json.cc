#include "common/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include "common/utf8.h"

namespace ingest {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

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

// The code points beyond ASCII that protobuf's printer writes as \u escapes
// (C1 controls and invisible format characters); a test compares every code
// point with protobuf's output.
bool EscapedByProtobuf(uint32_t cp) {
  static constexpr std::pair<uint32_t, uint32_t> kRanges[] = {
      {0x7f, 0x9f},     {0xad, 0xad},     {0x600, 0x603},     {0x6dd, 0x6dd},     {0x70f, 0x70f},
      {0x17b4, 0x17b5}, {0x200b, 0x200f}, {0x2028, 0x202e},   {0x2060, 0x2064},   {0x206a, 0x206f},
      {0xfeff, 0xfeff}, {0xfff9, 0xfffb}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001}, {0xe0020, 0xe007f}};
  if (cp < 0x7f) return false;
  for (const auto& [lo, hi] : kRanges) {
    if (cp < lo) return false;
    if (cp <= hi) return true;
  }
  return false;
}

void AppendUnicodeEscape(uint32_t unit, std::string* out) {
  char escaped[8];
  std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(unit));
  out->append(escaped, 6);
}

// The escape of each ASCII byte protobuf escapes, or null.
const char* AsciiEscape(unsigned char c) {
  static const auto* kTable = [] {
    static std::array<std::string, 128> table;
    for (unsigned c = 0; c < 0x20; ++c) {
      std::string e;
      AppendUnicodeEscape(c, &e);
      table[c] = e;
    }
    table['\b'] = "\\b";
    table['\t'] = "\\t";
    table['\n'] = "\\n";
    table['\f'] = "\\f";
    table['\r'] = "\\r";
    table['"'] = "\\\"";
    table['\\'] = "\\\\";
    table['<'] = "\\u003c";
    table['>'] = "\\u003e";
    return &table;
  }();
  const std::string& e = (*kTable)[c];
  return e.empty() ? nullptr : e.c_str();
}

// The bytes a string's JSON holds as they are: ASCII that AsciiEscape leaves
// alone. The rest are escaped, or start a UTF-8 sequence to look at.
const std::array<bool, 256>& PlainBytes() {
  static const std::array<bool, 256> plain = [] {
    std::array<bool, 256> table{};
    for (unsigned c = 0; c < 0x7f; ++c) table[c] = AsciiEscape(static_cast<unsigned char>(c)) == nullptr;
    return table;
  }();
  return plain;
}

// False on malformed UTF-8, which protobuf's printer repairs in its own way.
bool AppendString(std::string_view text, std::string* out) {
  out->push_back('"');
  size_t plain = 0;  // start of the run of bytes copied as they are
  size_t i = 0;
  auto flush = [&] { out->append(text.data() + plain, i - plain); };
  const std::array<bool, 256>& plain_bytes = PlainBytes();
  while (i < text.size()) {
    // Most of a record's text is plain: one table look-up a byte.
    while (i < text.size() && plain_bytes[static_cast<unsigned char>(text[i])]) ++i;
    if (i == text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x7f) {
      flush();
      out->append(AsciiEscape(c));
      plain = i + 1;
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0) return false;
    uint32_t cp = n == 1 ? c : c & (0xff >> (n + 1));
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
    if (EscapedByProtobuf(cp)) {
      flush();
      if (cp >= 0x10000) {
        AppendUnicodeEscape(0xd800 + ((cp - 0x10000) >> 10), out);
        AppendUnicodeEscape(0xdc00 + ((cp - 0x10000) & 0x3ff), out);
      } else {
        AppendUnicodeEscape(cp, out);
      }
      plain = i + n;
    }
    i += n;
  }
  flush();
  out->push_back('"');
  return true;
}

// As protobuf prints a double: the shortest of 15 or 17 digits that reads back.
void AppendDouble(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("\"NaN\"");
    return;
  }
  if (std::isinf(value)) {
    out->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    return;
  }
  char buffer[32];
  int n = std::snprintf(buffer, sizeof buffer, "%.15g", value);
  if (std::strtod(buffer, nullptr) != value) n = std::snprintf(buffer, sizeof buffer, "%.17g", value);
  out->append(buffer, static_cast<size_t>(n));
}

bool AppendMessage(const Message& message, const MapFieldPrinter& maps, std::string* out);

// Text that needs no escaping (digits, enum names) in quotes.
void AppendQuoted(std::string_view text, std::string* out) {
  out->push_back('"');
  out->append(text);
  out->push_back('"');
}

// One value of `field` (element `index` when repeated).
bool AppendValue(const Message& message, const FieldDescriptor* field, int index, const MapFieldPrinter& maps,
                 std::string* out) {
  const Reflection* r = message.GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      out->append(std::to_string(repeated ? r->GetRepeatedInt32(message, field, index) : r->GetInt32(message, field)));
      return true;
    case FieldDescriptor::CPPTYPE_UINT32:
      out->append(
          std::to_string(repeated ? r->GetRepeatedUInt32(message, field, index) : r->GetUInt32(message, field)));
      return true;
    case FieldDescriptor::CPPTYPE_INT64:  // quoted: JSON numbers lose 64-bit precision
      AppendQuoted(std::to_string(repeated ? r->GetRepeatedInt64(message, field, index) : r->GetInt64(message, field)),
                   out);
      return true;
    case FieldDescriptor::CPPTYPE_UINT64:
      AppendQuoted(
          std::to_string(repeated ? r->GetRepeatedUInt64(message, field, index) : r->GetUInt64(message, field)), out);
      return true;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendDouble(repeated ? r->GetRepeatedDouble(message, field, index) : r->GetDouble(message, field), out);
      return true;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((repeated ? r->GetRepeatedBool(message, field, index) : r->GetBool(message, field)) ? "true"
                                                                                                      : "false");
      return true;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = repeated ? r->GetRepeatedEnumValue(message, field, index) : r->GetEnumValue(message, field);
      const google::protobuf::EnumValueDescriptor* value = field->enum_type()->FindValueByNumber(number);
      if (value == nullptr) return false;  // printed as a number
      AppendQuoted(value->name(), out);
      return true;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      if (field->type() == FieldDescriptor::TYPE_BYTES) return false;  // base64: protobuf's
      std::string scratch;
      const std::string& text = repeated ? r->GetRepeatedStringReference(message, field, index, &scratch)
                                         : r->GetStringReference(message, field, &scratch);
      return AppendString(text, out);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return AppendMessage(repeated ? r->GetRepeatedMessage(message, field, index) : r->GetMessage(message, field),
                           maps, out);
    default:  // float: protobuf's own rounding
      return false;
  }
}

// Fields in declaration order, as protobuf prints them; a message field,
// oneof member or proto3 optional only when set, every other field always.
// False for what only protobuf's printer renders (maps `maps` does not
// print, bytes, floats, well-known types, proto2, unknown enum numbers).
bool AppendMessage(const Message& message, const MapFieldPrinter& maps, std::string* out) {
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  if (descriptor->file()->syntax() != google::protobuf::FileDescriptor::SYNTAX_PROTO3 ||
      descriptor->file()->package() == "google.protobuf") {
    return false;
  }
  const Reflection* r = message.GetReflection();
  out->push_back('{');
  bool first = true;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->is_map() && maps == nullptr) return false;
    if (!field->is_repeated() && field->has_presence() && !r->HasField(message, field)) continue;
    if (!first) out->push_back(',');
    first = false;
    out->push_back('"');
    out->append(field->name());
    out->append("\":");
    if (field->is_map()) {
      if (!maps(message, field, out)) return false;
      continue;
    }
    if (!field->is_repeated()) {
      if (!AppendValue(message, field, 0, maps, out)) return false;
      continue;
    }
    out->push_back('[');
    const int size = r->FieldSize(message, field);
    for (int k = 0; k < size; ++k) {
      if (k > 0) out->push_back(',');
      if (!AppendValue(message, field, k, maps, out)) return false;
    }
    out->push_back(']');
  }
  out->push_back('}');
  return true;
}

}  // namespace

void AppendJson(const google::protobuf::Message& message, std::string* out) { AppendJson(message, nullptr, out); }

void AppendJson(const google::protobuf::Message& message, const MapFieldPrinter& maps, std::string* out) {
  const size_t start = out->size();
  if (AppendMessage(message, maps, out)) return;
  out->resize(start);
  out->append(Print(message, false));
}

bool AppendOwnJson(const google::protobuf::Message& message, const MapFieldPrinter& maps, std::string* out) {
  return AppendMessage(message, maps, out);
}

bool AppendJsonString(std::string_view text, std::string* out) { return AppendString(text, out); }

size_t FindQuoteOrBackslash(std::string_view text, size_t from) {
  if (from >= text.size()) return std::string_view::npos;
  const char* begin = text.data() + from;
  const size_t size = text.size() - from;
  // Two memchr calls (vectorized) instead of a test of every byte.
  const auto* quote = static_cast<const char*>(std::memchr(begin, '"', size));
  const size_t limit = quote == nullptr ? size : static_cast<size_t>(quote - begin);
  const auto* backslash = static_cast<const char*>(std::memchr(begin, '\\', limit));
  if (backslash != nullptr) return from + static_cast<size_t>(backslash - begin);
  return quote == nullptr ? std::string_view::npos : from + limit;
}

JsonIndenter::JsonIndenter(std::function<Status(std::string_view)> sink) : sink_(std::move(sink)) {}

void JsonIndenter::Newline() {
  out_.push_back('\n');
  out_.append(static_cast<size_t>(depth_), ' ');
}

Status JsonIndenter::Feed(std::string_view compact) {
  for (size_t i = 0; i < compact.size(); ++i) {
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
        out_.push_back(compact[i]);
        continue;
      }
      // A string's bytes up to its quote or a backslash go in one append:
      // a manifest is mostly strings, and it is indented at every pass.
      const size_t stop = FindQuoteOrBackslash(compact, i);
      const size_t end = stop == std::string_view::npos ? compact.size() : stop + 1;
      out_.append(compact.data() + i, end - i);
      if (stop != std::string_view::npos) {
        if (compact[stop] == '\\') {
          escaped_ = true;
        } else {
          in_string_ = false;
        }
      }
      i = end - 1;
      continue;
    }
    const char c = compact[i];
    if (open_ != 0) {
      // An object or array opened: empty ones stay on their line.
      const char open = std::exchange(open_, 0);
      out_.push_back(open);
      if (c == (open == '{' ? '}' : ']')) {
        out_.push_back(c);
        continue;
      }
      ++depth_;
      Newline();
    }
    switch (c) {
      case '"':
        in_string_ = true;
        out_.push_back(c);
        break;
      case '{':
      case '[':
        open_ = c;
        break;
      case '}':
      case ']':
        --depth_;
        Newline();
        out_.push_back(c);
        break;
      case ',':
        out_.push_back(c);
        Newline();
        break;
      case ':':
        out_.append(": ");
        break;
      default:
        out_.push_back(c);
    }
  }
  return SendFullBlock();
}

Status JsonIndenter::FeedIndented(std::string_view indented) {
  INGEST_CHECK(!in_string_ && open_ == 0);
  if (indented.size() < kBlockBytes / 4) {
    out_.append(indented);
    return SendFullBlock();
  }
  // A large piece goes to the sink as it is, after what is held: not copied
  // into a block first.
  if (!out_.empty()) {
    INGEST_RETURN_IF_ERROR(sink_(out_));
    out_.clear();
  }
  return sink_(indented);
}

Status JsonIndenter::SendFullBlock() {
  if (out_.size() < kBlockBytes) return Status::Ok();
  Status sent = sink_(out_);
  out_.clear();
  return sent;
}

Status JsonIndenter::Finish() {
  if (open_ != 0) out_.push_back(std::exchange(open_, 0));
  out_.push_back('\n');
  Status sent = sink_(out_);
  out_.clear();
  return sent;
}

std::string IndentJson(std::string_view compact) {
  std::string out;
  JsonIndenter indenter([&out](std::string_view bytes) {
    out.append(bytes);
    return Status::Ok();
  });
  (void)indenter.Feed(compact);
  (void)indenter.Finish();
  return out;
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string out;
  AppendJson(message, &out);
  return out;
}

std::string ReferenceJson(const google::protobuf::Message& message) { return Print(message, false); }

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
