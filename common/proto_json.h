#pragma once

#include <google/protobuf/message.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace ingest {

// Canonical single-line JSON of `message`: original field names, every
// primitive field printed (so records have a fixed shape), no whitespace.
// Written by our own printer, byte for byte what protobuf's JSON printer
// writes (a test compares them); it falls back to protobuf's for what it does
// not render itself. Records are printed by the million: protobuf's generic
// converter was most of the coordinator's merge time.
std::string ToJson(const google::protobuf::Message& message);
// ToJson appended to `out`, without a temporary.
void AppendJson(const google::protobuf::Message& message, std::string* out);
// Appends the JSON object of map `field` of `message` (keys in order) to
// `out`; false leaves the whole message to protobuf's printer.
using MapFieldPrinter = std::function<bool(const google::protobuf::Message& message,
                                           const google::protobuf::FieldDescriptor* field, std::string* out)>;
// AppendJson with `maps` printing map fields. Our printer reads no map by
// reflection: that syncs the map's repeated view, a write inside a const
// message (a race with any other reader); `maps` uses typed accessors.
void AppendJson(const google::protobuf::Message& message, const MapFieldPrinter& maps, std::string* out);
// The same without protobuf's printer to fall back on: false (and `out`
// half-written) for what only protobuf's printer renders. For callers that
// take `out` away while it is written (a map printer may).
bool AppendOwnJson(const google::protobuf::Message& message, const MapFieldPrinter& maps, std::string* out);
// `text` as a JSON string, escaped as protobuf escapes it; false when it is
// not UTF-8.
bool AppendJsonString(std::string_view text, std::string* out);
// Where the JSON string that `text` is inside of at `from` stops or escapes:
// the first '"' or '\\' at or after `from`, or npos.
size_t FindQuoteOrBackslash(std::string_view text, size_t from);
// Compact JSON (ours or protobuf's) indented as protobuf's printer indents:
// one space a level, `"key": value`, empty objects and arrays as {} and [],
// a newline at the end. The same bytes as ToPrettyJson of the same message.
std::string IndentJson(std::string_view compact);
// IndentJson for JSON fed in pieces (cut anywhere), handing the indented
// text to `sink` about a megabyte at a time: a large document need not be
// held twice. Not thread-safe.
class JsonIndenter {
 public:
  explicit JsonIndenter(std::function<Status(std::string_view)> sink);
  // The sink's error, if it gives one.
  Status Feed(std::string_view compact);
  // A value printed indented already, as Feed would indent it where it
  // stands (after a key's colon): written as it is. A printer that knows a
  // large value's layout spares it the indenter's look at every byte.
  Status FeedIndented(std::string_view indented);
  // The final newline and what is still held.
  Status Finish();

 private:
  static constexpr size_t kBlockBytes = 1 << 20;
  void Newline();
  // Hands out_ to the sink once it holds a block.
  Status SendFullBlock();

  std::function<Status(std::string_view)> sink_;
  std::string out_;
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  char open_ = 0;  // a '{' or '[' not written yet: {} and [] stay on one line
};
// The same JSON through protobuf's own printer: the reference ToJson is
// tested against, and what it falls back to.
std::string ReferenceJson(const google::protobuf::Message& message);
// Indented form for files people read (manifest).
std::string ToPrettyJson(const google::protobuf::Message& message);

// Strict parse: unknown fields and type mismatches are InvalidArgument.
Status FromJson(std::string_view json, google::protobuf::Message* message);
// For answers of foreign services: fields the message does not declare are
// skipped; type mismatches are still InvalidArgument.
Status FromForeignJson(std::string_view json, google::protobuf::Message* message);

// JSON text for payloads that have no schema of ours (Slack blocks, chat
// requests): a quoted, escaped string; an object or array of members whose
// values are already JSON text.
std::string JsonQuote(std::string_view text);
std::string JsonObject(const std::vector<std::pair<std::string, std::string>>& members);
std::string JsonArray(const std::vector<std::string>& values);

}  // namespace ingest
