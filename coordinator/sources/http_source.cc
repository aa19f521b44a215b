#include "coordinator/sources/http_source.h"

#include <spdlog/spdlog.h>

#include "common/atomic_file.h"
#include "common/sha256.h"
#include "coordinator/sources/discovery.h"

namespace ingest {
namespace {

bool IsHex64(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::string PagePath(const std::string& url) {
  std::string_view rest(url);
  if (const size_t scheme = rest.find("://"); scheme != std::string_view::npos) rest.remove_prefix(scheme + 3);
  if (const size_t fragment = rest.find('#'); fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  std::string path;
  for (char c : rest) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '/';
    path.push_back(plain ? c : '_');
  }
  // Components that path safety refuses or that name nothing.
  std::string safe;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "." || part == "..") part = "_" + part;
    if (!part.empty()) safe += (safe.empty() ? "" : "/") + part;
    start = end + 1;
  }
  if (safe.find('/') == std::string::npos || path.ends_with('/')) safe += "/index";
  return safe;
}

std::filesystem::path PageStore::DirOf(const Config& config) {
  return config.artifact_root / "ingest" / config.env / "pages";
}

bool PageStore::Has(const std::string& checksum) const {
  std::error_code ec;
  return IsHex64(checksum) && std::filesystem::is_regular_file(dir_ / checksum, ec);
}

Result<std::string> PageStore::Read(const std::string& checksum) const {
  if (!IsHex64(checksum)) return InvalidArgument("page checksum '" + checksum + "' is not a sha256");
  INGEST_ASSIGN_OR_RETURN(std::string body, ReadFile(dir_ / checksum));
  if (Sha256Hex(body) != checksum) return DataLoss((dir_ / checksum).string() + ": content does not match its sha256");
  return body;
}

Status PageStore::Put(const std::string& checksum, std::string_view body) {
  if (!IsHex64(checksum) || Sha256Hex(body) != checksum) {
    return DataLoss("page body does not match its checksum " + checksum);
  }
  if (Has(checksum)) return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return ErrnoStatus(ec.value(), "page store " + dir_.string());
  return WriteFileAtomic(dir_ / checksum, body);
}

void PageFetchPlan::AddSource(const SourceConfig& source, const std::map<std::string, StoredDocument>& stored,
                              bool conditional) {
  for (const std::string& url : source.urls) {
    Planned page{&source, url, "", PagePath(url), {}, {}, false};
    page.source_id = MakeSourceId(source.name, page.path);
    page.request.set_url(url);
    page.request.set_timeout_ms(source.timeout_s * 1000);
    page.request.set_max_bytes(kMaxPageBytes);
    auto known = stored.find(page.source_id);
    // A 304 is only useful when the body it vouches for is still here.
    if (conditional && known != stored.end() && known->second.last_status != "deleted" &&
        pages_.Has(known->second.checksum)) {
      page.request.set_etag(known->second.etag);
      page.request.set_last_modified(known->second.last_modified);
    }
    pages_planned_.push_back(std::move(page));
  }
}

Result<Task> PageFetchPlan::BuildTask(size_t index) {
  const Planned& page = pages_planned_.at(index);
  if (page.source->requests_per_minute > 0) pace_[page.source->name].in_flight = true;
  Task task;
  task.set_task_id("fetch-" + page.source_id);
  DocumentRef* ref = task.mutable_document();
  ref->set_source_id(page.source_id);
  ref->set_source(page.source->name);
  ref->set_path(page.path);
  *task.mutable_fetch() = page.request;
  return task;
}

std::chrono::steady_clock::time_point PageFetchPlan::NotBefore(size_t index,
                                                               std::chrono::steady_clock::time_point now) {
  auto pace = pace_.find(pages_planned_.at(index).source->name);
  if (pace == pace_.end()) return now;
  // Asked again when the request in flight has ended (OnAttemptEnded).
  if (pace->second.in_flight) return now + std::chrono::milliseconds(20);
  return std::max(now, pace->second.next);
}

void PageFetchPlan::OnAttemptEnded(size_t index) {
  const SourceConfig& source = *pages_planned_.at(index).source;
  if (source.requests_per_minute == 0) return;
  Pace& pace = pace_[source.name];
  pace.in_flight = false;
  pace.next = std::chrono::steady_clock::now() + std::chrono::microseconds(60'000'000 / source.requests_per_minute);
}

void PageFetchPlan::OnResult(size_t index, TaskResult result) {
  Planned& page = pages_planned_.at(index);
  page.result = std::move(result);
  page.answered = true;
}

SourceChanges PageFetchPlan::Settle(const SourceConfig& source, const std::map<std::string, StoredDocument>& stored,
                                    PageStore& pages, std::vector<std::string>* errors) {
  std::vector<DetectedDocument> found;
  for (Planned& page : pages_planned_) {
    if (page.source != &source) continue;
    DetectedDocument detected;
    detected.document = {page.source_id, source.name, page.path, 0};
    auto known = stored.find(page.source_id);
    const bool have_known = known != stored.end() && known->second.last_status != "deleted";
    const FetchResult& fetch = page.result.fetch();
    Status failed = Status::Ok();
    if (!page.answered) {
      failed = Internal("no fetch result");
    } else if (page.result.has_error()) {
      failed = Unavailable(page.result.error().message());  // names the URL already
    } else if (fetch.not_modified()) {
      if (!have_known) {
        failed = DataLoss("answered 304 Not Modified to a request without validators");
      } else {
        detected.checksum = known->second.checksum;
        detected.document.bytes = known->second.size;
      }
    } else if (Status put = pages.Put(fetch.checksum(), fetch.body()); !put.ok()) {
      failed = put;
    } else {
      detected.checksum = fetch.checksum();
      detected.document.bytes = fetch.body().size();
    }
    if (!failed.ok()) {
      const std::string error =
          "source " + source.name + ": " + (page.result.has_error() ? "" : page.url + ": ") + failed.message();
      errors->push_back(have_known ? error + " (its last version is kept)" : error);
      if (!have_known) continue;
      // The page keeps its last version: a passing outage does not take it
      // out of the artifacts.
      detected.checksum = known->second.checksum;
      detected.document.bytes = known->second.size;
      detected.etag = known->second.etag;
      detected.last_modified = known->second.last_modified;
    } else {
      detected.etag = fetch.etag();
      detected.last_modified = fetch.last_modified();
    }
    found.push_back(std::move(detected));
  }
  std::sort(found.begin(), found.end(), [](const DetectedDocument& a, const DetectedDocument& b) {
    return a.document.source_id < b.document.source_id;
  });
  // Two URLs with one path would be one document.
  found.erase(std::unique(found.begin(), found.end(),
                          [](const DetectedDocument& a, const DetectedDocument& b) {
                            return a.document.source_id == b.document.source_id;
                          }),
              found.end());
  return CompareWithStore(std::move(found), stored);
}

}  // namespace ingest
