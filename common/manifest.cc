#include "common/manifest.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
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

Result<std::string> ReadManifestStatus(const std::filesystem::path& path) {
  // Read a block at a time: the status follows the documents, and a large
  // job's manifest need not be held to find it (retention reads every job's).
  constexpr size_t kBlockBytes = 256 << 10;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, path.string());
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::string block;
  size_t at = 0;
  uint64_t offset = 0;
  Status read_error;
  // The next byte, or -1 at the end of the file (or on a read error).
  const auto next = [&]() -> int {
    if (at == block.size()) {
      block.resize(kBlockBytes);
      Result<uint64_t> read = ReadUpTo(fd, &block, offset, path);
      if (!read.ok()) read_error = read.status();
      block.resize(read.ok() ? *read : 0);
      offset += block.size();
      at = 0;
      if (block.empty()) return -1;
    }
    return static_cast<unsigned char>(block[at++]);
  };
  const auto malformed = [&](const std::string& what) {
    if (!read_error.ok()) return read_error;
    return InvalidArgument(path.string() + ": " + what);
  };
  // The rest of a string whose opening quote was read, kept in `text` when
  // given. False when it does not end.
  const auto string_rest = [&](std::string* text) {
    for (int c = next(); c >= 0; c = next()) {
      if (c == '"') return true;
      if (c == '\\') {
        if (text != nullptr) text->push_back('\\');
        c = next();
        if (c < 0) return false;
      }
      if (text != nullptr) text->push_back(static_cast<char>(c));
    }
    return false;
  };
  const auto skip_space = [&] {
    int c = next();
    while (c == ' ' || c == '\t' || c == '\r' || c == '\n') c = next();
    return c;
  };
  // Walks the text once, tracking nesting and strings, and stops at the
  // value of the key "status" of the outermost object.
  int depth = 0;
  bool expect_key = false;
  for (int c = next(); c >= 0; c = next()) {
    if (c == '"') {
      const bool key = depth == 1 && expect_key;
      std::string name;
      if (!string_rest(key ? &name : nullptr)) return malformed("unterminated string");
      if (!key) continue;
      expect_key = false;
      if (name != "status") continue;
      if (skip_space() != ':') return malformed("expected ':' after \"status\"");
      std::string status;
      if (skip_space() != '"' || !string_rest(&status)) return malformed("\"status\" is not a string");
      if (status.find('\\') != std::string::npos) return malformed("\"status\" is not a plain string");
      return status;
    }
    if (c == '{' || c == '[') {
      ++depth;
      if (depth == 1 && c == '{') expect_key = true;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expect_key = true;
    }
  }
  return malformed("no \"status\"");
}

namespace {

// A map's entries in key order, as protobuf prints them; `drained` is
// called after each entry.
template <typename Map, typename Value>
bool AppendSortedMap(const Map& map, Value value, std::string* out, const std::function<void()>& drained) {
  std::vector<const typename Map::value_type*> entries;
  entries.reserve(map.size());
  for (const auto& entry : map) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  out->push_back('{');
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out->push_back(',');
    if (!AppendJsonString(entries[i]->first, out)) return false;
    out->push_back(':');
    if (!value(entries[i]->second, out)) return false;
    if (drained) drained();
  }
  out->push_back('}');
  return true;
}

bool AppendRecord(const google::protobuf::Message& record, std::string* out) {
  AppendJson(record, out);
  return true;
}

// One key and string value of a document, the comma before it included.
bool AppendField(std::string_view key_and_colon, const std::string& value, std::string* out) {
  out->append(key_and_colon);
  return AppendJsonString(value, out);
}

}  // namespace

bool AppendDocumentJson(const DocumentRecord& doc, std::string* out) {
  // Field by field as AppendJson prints them (a test compares the two):
  // the manifest is saved after every pass, and its documents are most of
  // it, so they do not go through reflection.
  const bool ok =
      AppendField("{\"source\":", doc.source(), out) && AppendField(",\"path\":", doc.path(), out) &&
      AppendField(",\"checksum\":", doc.checksum(), out) && AppendField(",\"status\":", doc.status(), out) &&
      AppendField(",\"error_class\":", doc.error_class(), out) && AppendField(",\"error\":", doc.error(), out) &&
      AppendField(",\"failed_pass\":", doc.failed_pass(), out);
  if (!ok) return false;
  out->append(",\"bytes\":\"");  // 64-bit integers are strings in protobuf's JSON
  out->append(std::to_string(doc.bytes()));
  out->append("\"}");
  return true;
}

namespace {

// The manifest's maps, through their typed accessors (see AppendJson).
MapFieldPrinter ManifestMaps(const std::function<void()>& drained = {}) {
  return [drained](const google::protobuf::Message& message, const google::protobuf::FieldDescriptor* field,
                   std::string* out) {
    if (message.GetDescriptor() != Manifest::descriptor()) return false;
    const auto& manifest = static_cast<const Manifest&>(message);
    switch (field->number()) {
      case Manifest::kPassesFieldNumber:
        return AppendSortedMap(manifest.passes(), AppendRecord, out, drained);
      case Manifest::kSourcesFieldNumber:
        return AppendSortedMap(manifest.sources(), AppendRecord, out, drained);
      case Manifest::kDocumentsFieldNumber:
        return AppendSortedMap(manifest.documents(), AppendDocumentJson, out, drained);
      case Manifest::kSourceShaMapFieldNumber:
        return AppendSortedMap(manifest.source_sha_map(), AppendJsonString, out, drained);
      default:
        return false;
    }
  };
}

// Writes the manifest as it is printed, a block at a time: its documents
// are most of it, and a large job's would otherwise be held twice (compact
// and indented). False when our printer cannot print it.
Result<bool> StreamManifest(const std::filesystem::path& path, const Manifest& manifest) {
  constexpr size_t kFeedBytes = 1 << 20;
  INGEST_ASSIGN_OR_RETURN(AtomicFileWriter file, AtomicFileWriter::Open(path));
  JsonIndenter indenter([&file](std::string_view bytes) { return file.Append(bytes); });
  std::string compact;
  Status fed;
  const MapFieldPrinter maps = ManifestMaps([&] {
    if (compact.size() < kFeedBytes || !fed.ok()) return;
    fed = indenter.Feed(compact);
    compact.clear();
  });
  if (!AppendOwnJson(manifest, maps, &compact)) return false;
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
