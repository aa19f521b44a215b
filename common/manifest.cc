#include "common/manifest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <optional>
#include <set>
#include <vector>

#include "common/atomic_file.h"
#include "common/pass.h"
#include "common/positional_io.h"
#include "common/proto_json.h"

namespace ingest {
namespace {

Status CheckOneOf(const std::string& value, const std::set<std::string>& allowed, const std::string& what) {
  if (allowed.count(value) == 1) return Status::Ok();
  return InvalidArgument(what + ": unknown status '" + value + "'");
}

Status ValidateManifest(const Manifest& m) {
  if (m.job_id().empty()) return InvalidArgument("job_id is empty");
  if (m.env().empty()) return InvalidArgument("env is empty");
  INGEST_RETURN_IF_ERROR(CheckOneOf(
      m.status(), {kJobPending, kJobRunning, kJobCompleted, kJobFailed, kJobPartial, kJobCancelled}, "status"));
  for (Pass pass : kAllPasses) {
    auto it = m.passes().find(PassLetter(pass));
    if (it == m.passes().end()) return InvalidArgument("passes." + PassLetter(pass) + " is missing");
    INGEST_RETURN_IF_ERROR(CheckOneOf(
        it->second.status(), {kPassPending, kPassRunning, kPassSuccess, kPassFailed, kPassSkipped, kPassCancelled},
        "passes." + PassLetter(pass) + ".status"));
  }
  if (m.passes_size() != 6) return InvalidArgument("passes holds keys other than A..F");
  for (const auto& [id, doc] : m.documents()) {
    INGEST_RETURN_IF_ERROR(CheckOneOf(doc.status(), {kDocProcessed, kDocUnchanged, kDocFailed, kDocQuarantined},
                                      "documents." + id + ".status"));
  }
  for (const auto& [name, source] : m.sources()) {
    INGEST_RETURN_IF_ERROR(
        CheckOneOf(source.status(), {"processed", "unchanged", "not_due", "failed"}, "sources." + name + ".status"));
  }
  return Status::Ok();
}

}  // namespace

Manifest NewManifest(const std::string& job_id, const std::string& env) {
  Manifest m;
  m.set_job_id(job_id);
  m.set_env(env);
  m.set_status(kJobPending);
  for (Pass pass : kAllPasses) (*m.mutable_passes())[PassLetter(pass)].set_status(kPassPending);
  return m;
}

Result<Manifest> LoadManifest(const std::filesystem::path& path) {
  INGEST_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  Manifest m;
  INGEST_RETURN_IF_ERROR(FromJson(text, &m).WithContext(path.string()));
  INGEST_RETURN_IF_ERROR(ValidateManifest(m).WithContext(path.string()));
  return m;
}

namespace {

// A file opened read-only for the scope.
struct ReadOnlyFile {
  explicit ReadOnlyFile(const std::filesystem::path& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~ReadOnlyFile() {
    if (fd >= 0) ::close(fd);
  }
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;
  const int fd;
};

// Walks the outermost JSON object of a file a block at a time and hands
// the JSON text of each member that `wanted` names to `member`; the other
// members are stepped over, never held nor parsed. Strings are skipped
// with memchr: a manifest is mostly strings, and retention and
// carry-forward walk megabytes of documents this way.
class TopLevelMembers {
 public:
  using Wanted = std::function<bool(std::string_view key)>;
  // False stops the walk.
  using Member = std::function<bool(std::string_view key, std::string_view value)>;

  TopLevelMembers(Wanted wanted, Member member) : wanted_(std::move(wanted)), member_(std::move(member)) {}

  Status Walk(const std::filesystem::path& path) {
    constexpr size_t kBlockBytes = 256 << 10;
    const ReadOnlyFile file(path);
    if (file.fd < 0) return ErrnoStatus(errno, path.string());
    std::string block;
    for (uint64_t offset = 0;;) {
      block.resize(kBlockBytes);
      INGEST_ASSIGN_OR_RETURN(uint64_t read, ReadUpTo(file.fd, &block, offset, path));
      if (read == 0) break;
      offset += read;
      if (!Feed(std::string_view(block.data(), read))) break;  // stopped, or malformed
    }
    if (!error_.empty()) return InvalidArgument(path.string() + ": " + error_);
    if (!stopped_ && (depth_ != 0 || !seen_object_)) {
      return InvalidArgument(path.string() + ": not a whole JSON object");
    }
    return Status::Ok();
  }

 private:
  // False once the walk stops (a member said so, or the text is malformed).
  bool Feed(std::string_view bytes) {
    const char* p = bytes.data();
    const char* const end = p + bytes.size();
    while (p < end) {
      if (in_string_) {
        p = StringBytes(p, end);
        continue;
      }
      const char c = *p++;
      if (capturing_) value_.push_back(c);
      if (depth_ == 0 && !IsSpace(c) && (c != '{' || seen_object_)) return Malformed("not a JSON object");
      switch (c) {
        case '"':
          in_string_ = true;
          in_key_ = depth_ == 1 && expect_key_;
          if (in_key_) key_.clear();
          expect_key_ = false;
          break;
        case '{':
        case '[':
          if (depth_ == 0) {
            seen_object_ = true;
            expect_key_ = true;
          }
          ++depth_;
          break;
        case '}':
        case ']':
          if (--depth_ == 0 && !EndMember()) return false;
          break;
        case ',':
          if (depth_ == 1) {
            if (!EndMember()) return false;
            expect_key_ = true;
          }
          break;
        case ':':
          if (depth_ == 1 && key_done_) {
            key_done_ = false;
            capturing_ = wanted_(key_);
            value_.clear();
          }
          break;
        default:
          break;
      }
    }
    return true;
  }

  // The bytes of a string up to its closing quote, or to `end`.
  const char* StringBytes(const char* p, const char* end) {
    if (escaped_) {
      escaped_ = false;
      Keep(p, p + 1);
      return p + 1;
    }
    const std::string_view rest(p, static_cast<size_t>(end - p));
    const size_t stop = FindQuoteOrBackslash(rest, 0);
    if (stop == std::string_view::npos) {
      Keep(p, end);
      return end;
    }
    const char* at = p + stop;
    Keep(p, at + 1);
    if (*at == '\\') {
      escaped_ = true;
      return at + 1;
    }
    in_string_ = false;
    if (in_key_) {
      in_key_ = false;
      key_done_ = true;
      key_.pop_back();  // the closing quote
    }
    return at + 1;
  }

  void Keep(const char* from, const char* to) {
    if (in_key_) key_.append(from, to);
    if (capturing_) value_.append(from, to);
  }

  // What protobuf's JSON parser, which loads the whole manifest, takes for
  // whitespace: JSON's four, and a vertical tab and a form feed.
  static bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'; }

  // The member that a ',' or the closing '}' (already in value_) ends.
  bool EndMember() {
    if (!capturing_) return true;
    capturing_ = false;
    value_.pop_back();
    std::string_view value = value_;
    while (!value.empty() && IsSpace(value.front())) value.remove_prefix(1);
    while (!value.empty() && IsSpace(value.back())) value.remove_suffix(1);
    if (member_(key_, value)) return true;
    stopped_ = true;
    return false;
  }

  bool Malformed(const char* what) {
    error_ = what;
    return false;
  }

  Wanted wanted_;
  Member member_;
  int depth_ = 0;
  bool seen_object_ = false;
  bool in_string_ = false;
  bool escaped_ = false;
  bool in_key_ = false;
  bool key_done_ = false;
  bool expect_key_ = false;
  bool capturing_ = false;
  bool stopped_ = false;
  std::string key_;
  std::string value_;
  std::string error_;
};

// The status as our own printer lays it out: one space of indent a level,
// and a JSON string never holds a raw newline, so the last "\n \"status\": \""
// of the file is the job's own. It follows the documents, so the tail is
// read alone; nothing when the tail does not have it that way.
std::optional<std::string> StatusInTail(const std::filesystem::path& path) {
  constexpr uint64_t kTailBytes = 64 << 10;
  const ReadOnlyFile file(path);
  struct stat st {};
  if (file.fd < 0 || ::fstat(file.fd, &st) != 0) return std::nullopt;
  const auto size = static_cast<uint64_t>(st.st_size);
  std::string tail(std::min(size, kTailBytes), '\0');
  Result<uint64_t> read = ReadUpTo(file.fd, &tail, size - tail.size(), path);
  if (!read.ok()) return std::nullopt;
  tail.resize(*read);
  constexpr std::string_view kKey = "\n \"status\": \"";
  const size_t key = tail.rfind(kKey);
  if (key == std::string::npos) return std::nullopt;
  const size_t from = key + kKey.size();
  const size_t stop = FindQuoteOrBackslash(tail, from);
  if (stop == std::string::npos || tail[stop] != '"') return std::nullopt;
  return tail.substr(from, stop - from);
}

}  // namespace

Result<std::string> ReadManifestStatus(const std::filesystem::path& path) {
  if (std::optional<std::string> status = StatusInTail(path)) return *status;
  // Any other layout (another tool's indent, one line) is walked from the start.
  std::optional<std::string> status;
  TopLevelMembers walk([](std::string_view key) { return key == "status"; },
                       [&status](std::string_view, std::string_view value) {
                         status = std::string(value);
                         return false;
                       });
  INGEST_RETURN_IF_ERROR(walk.Walk(path));
  if (!status) return InvalidArgument(path.string() + ": no \"status\"");
  // A plain JSON string: quotes around text without escapes.
  if (status->size() < 2 || status->front() != '"' || status->back() != '"' ||
      status->find_first_of("\"\\", 1) != status->size() - 1) {
    return InvalidArgument(path.string() + ": \"status\" is not a plain string");
  }
  return status->substr(1, status->size() - 2);
}

Result<Manifest> LoadManifestWithoutDocuments(const std::filesystem::path& path) {
  std::string json = "{";
  TopLevelMembers walk([](std::string_view key) { return key != "documents" && key != "source_sha_map"; },
                       [&json](std::string_view key, std::string_view value) {
                         if (json.size() > 1) json.push_back(',');
                         json.push_back('"');
                         json.append(key);
                         json.append("\":");
                         json.append(value);
                         return true;
                       });
  INGEST_RETURN_IF_ERROR(walk.Walk(path));
  json.push_back('}');
  Manifest m;
  INGEST_RETURN_IF_ERROR(FromJson(json, &m).WithContext(path.string()));
  INGEST_RETURN_IF_ERROR(ValidateManifest(m).WithContext(path.string()));
  return m;
}

namespace {

// The punctuation of an object: compact, or indented as JsonIndenter
// indents an object whose opening brace is at `depth`.
struct ObjectLayout {
  std::string open = "{";
  std::string between = ",";
  std::string colon = ":";
  std::string close = "}";

  static ObjectLayout Indented(int depth) {
    const std::string inner = "\n" + std::string(static_cast<size_t>(depth) + 1, ' ');
    return {.open = "{" + inner,
            .between = "," + inner,
            .colon = ": ",
            .close = "\n" + std::string(static_cast<size_t>(depth), ' ') + "}"};
  }
};

const ObjectLayout kCompact;

// A map's entries in key order, as protobuf prints them, in `layout`;
// `drained` is called after each entry.
template <typename Map, typename Value>
bool AppendSortedMap(const Map& map, Value value, const ObjectLayout& layout, std::string* out,
                     const std::function<void()>& drained) {
  std::vector<const typename Map::value_type*> entries;
  entries.reserve(map.size());
  for (const auto& entry : map) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  if (entries.empty()) {
    out->append("{}");  // on one line, indented or not
    return true;
  }
  out->append(layout.open);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out->append(layout.between);
    if (!AppendJsonString(entries[i]->first, out)) return false;
    out->append(layout.colon);
    if (!value(entries[i]->second, out)) return false;
    if (drained) drained();
  }
  out->append(layout.close);
  return true;
}

bool AppendRecord(const google::protobuf::Message& record, std::string* out) {
  AppendJson(record, out);
  return true;
}

bool AppendStringValue(const std::string& text, std::string* out) { return AppendJsonString(text, out); }

// One key of a document and its separators: the one before it and its colon.
void AppendKey(std::string_view separator, std::string_view key, const ObjectLayout& layout, std::string* out) {
  out->append(separator);
  out->push_back('"');
  out->append(key);
  out->push_back('"');
  out->append(layout.colon);
}

// Field by field as AppendJson prints them, in `layout` (a test compares the
// two): the manifest is saved after every pass, and its documents are most
// of it, so they go neither through reflection nor through the indenter.
bool AppendDocument(const DocumentRecord& doc, const ObjectLayout& layout, std::string* out) {
  const std::pair<std::string_view, const std::string*> strings[] = {
      {"source", &doc.source()},           {"path", &doc.path()},
      {"checksum", &doc.checksum()},       {"status", &doc.status()},
      {"error_class", &doc.error_class()}, {"error", &doc.error()},
      {"failed_pass", &doc.failed_pass()}};
  std::string_view separator = layout.open;
  for (const auto& [key, value] : strings) {
    AppendKey(separator, key, layout, out);
    if (!AppendJsonString(*value, out)) return false;
    separator = layout.between;
  }
  AppendKey(layout.between, "bytes", layout, out);
  out->push_back('"');  // 64-bit integers are strings in protobuf's JSON
  out->append(std::to_string(doc.bytes()));
  out->push_back('"');
  out->append(layout.close);
  return true;
}

}  // namespace

bool AppendDocumentJson(const DocumentRecord& doc, std::string* out) { return AppendDocument(doc, kCompact, out); }

namespace {

// The manifest's maps, through their typed accessors (see AppendJson).
MapFieldPrinter ManifestMaps(const std::function<void()>& drained = {}) {
  return [drained](const google::protobuf::Message& message, const google::protobuf::FieldDescriptor* field,
                   std::string* out) {
    if (message.GetDescriptor() != Manifest::descriptor()) return false;
    const auto& manifest = static_cast<const Manifest&>(message);
    switch (field->number()) {
      case Manifest::kPassesFieldNumber:
        return AppendSortedMap(manifest.passes(), AppendRecord, kCompact, out, drained);
      case Manifest::kSourcesFieldNumber:
        return AppendSortedMap(manifest.sources(), AppendRecord, kCompact, out, drained);
      case Manifest::kDocumentsFieldNumber:
        return AppendSortedMap(manifest.documents(), AppendDocumentJson, kCompact, out, drained);
      case Manifest::kSourceShaMapFieldNumber:
        return AppendSortedMap(manifest.source_sha_map(), AppendStringValue, kCompact, out, drained);
      default:
        return false;
    }
  };
}

// Writes the manifest as it is printed, a block at a time: its documents
// are most of it, and a large job's would otherwise be held twice (compact
// and indented). The two maps with an entry per document are printed
// indented already, past the indenter. False when our printer cannot print it.
Result<bool> StreamManifest(const std::filesystem::path& path, const Manifest& manifest) {
  // Blocks of a quarter megabyte, in one buffer reserved once: a run saves
  // its manifest a dozen times, and a larger or growing buffer costs more in
  // fresh pages and copies than its fewer writes save.
  constexpr size_t kFeedBytes = 256 << 10;
  // Both maps are members of the manifest itself: their braces at depth 1.
  constexpr int kMapDepth = 1;
  static const ObjectLayout kMapLayout = ObjectLayout::Indented(kMapDepth);
  static const ObjectLayout kDocumentLayout = ObjectLayout::Indented(kMapDepth + 1);
  INGEST_ASSIGN_OR_RETURN(AtomicFileWriter file, AtomicFileWriter::Open(path));
  JsonIndenter indenter([&file](std::string_view bytes) { return file.Append(bytes); });
  std::string compact;
  compact.reserve(kFeedBytes + kFeedBytes / 4);  // a block and the entry that fills it
  Status fed;
  const MapFieldPrinter maps = ManifestMaps([&] {
    if (compact.size() < kFeedBytes || !fed.ok()) return;
    fed = indenter.Feed(compact);
    compact.clear();
  });
  // `out` is `compact`: what precedes the map, up to its key's colon, goes
  // through the indenter, then the map goes out as it is.
  const auto indented = [&](std::string* out, const auto& print) {
    if (fed.ok()) fed = indenter.Feed(*out);
    out->clear();
    const bool printed = print([&] {
      if (out->size() < kFeedBytes || !fed.ok()) return;
      fed = indenter.FeedIndented(*out);
      out->clear();
    });
    if (fed.ok()) fed = indenter.FeedIndented(*out);
    out->clear();
    return printed;
  };
  const MapFieldPrinter streamed = [&](const google::protobuf::Message& message,
                                       const google::protobuf::FieldDescriptor* field, std::string* out) {
    if (message.GetDescriptor() != Manifest::descriptor()) return maps(message, field, out);
    switch (field->number()) {
      case Manifest::kDocumentsFieldNumber:
        return indented(out, [&](const std::function<void()>& drained) {
          const auto document = [](const DocumentRecord& doc, std::string* text) {
            return AppendDocument(doc, kDocumentLayout, text);
          };
          return AppendSortedMap(manifest.documents(), document, kMapLayout, out, drained);
        });
      case Manifest::kSourceShaMapFieldNumber:
        return indented(out, [&](const std::function<void()>& drained) {
          return AppendSortedMap(manifest.source_sha_map(), AppendStringValue, kMapLayout, out, drained);
        });
      default:
        return maps(message, field, out);
    }
  };
  if (!AppendOwnJson(manifest, streamed, &compact)) return false;
  INGEST_RETURN_IF_ERROR(fed);
  INGEST_RETURN_IF_ERROR(indenter.Feed(compact));
  INGEST_RETURN_IF_ERROR(indenter.Finish());
  INGEST_RETURN_IF_ERROR(file.Commit());
  return true;
}

}  // namespace

std::string ManifestJson(const Manifest& manifest) {
  std::string compact;
  AppendJson(manifest, ManifestMaps(), &compact);
  return IndentJson(compact);
}

Status SaveManifest(const std::filesystem::path& path, const Manifest& manifest) {
  INGEST_ASSIGN_OR_RETURN(bool streamed, StreamManifest(path, manifest));
  if (streamed) return Status::Ok();
  return WriteFileAtomic(path, ManifestJson(manifest));
}

PassRecord& PassEntry(Manifest& manifest, Pass pass) { return (*manifest.mutable_passes())[PassLetter(pass)]; }

const PassRecord& PassEntry(const Manifest& manifest, Pass pass) {
  auto it = manifest.passes().find(PassLetter(pass));
  INGEST_CHECK(it != manifest.passes().end());
  return it->second;
}

}  // namespace ingest
