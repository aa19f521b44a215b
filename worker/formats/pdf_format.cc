// PDF through our helper process (worker/pdf_helper), run per task under
// CPU-time, address-space and wall-clock limits. Outline entries become
// sections at the start of their page; without an outline, plain-text
// heading heuristics run over the extracted text. Pages are joined with a
// form feed, so page starts are offsets in the text like for text formats.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "common/utf8.h"
#include "proto/pdf_extract.pb.h"
#include "worker/formats/formats.h"

namespace ingest {
namespace {

std::string HelperPath(const ExtractLimits& limits) {
  if (!limits.pdf_helper.empty()) return limits.pdf_helper;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / "ingest-pdf-extract").string();
}

// Runs the helper and parses its stdout. Errors are permanent: the same PDF
// would fail the same way on any worker.
Result<PdfExtract> RunHelper(const std::vector<std::string>& args, const ExtractLimits& limits,
                             const std::string& name) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return ErrnoStatus(errno, "pipe");
  }
  std::string helper = HelperPath(limits);
  std::vector<const char*> argv = {helper.c_str()};
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus(errno, "fork of the PDF helper");
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    rlimit cpu{limits.pdf_cpu_seconds, limits.pdf_cpu_seconds + 1};
    ::setrlimit(RLIMIT_CPU, &cpu);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    // Sanitizer runtimes reserve terabytes of address space for shadow
    // memory; an address-space limit would stop the instrumented helper.
    rlimit memory{limits.pdf_memory_bytes, limits.pdf_memory_bytes};
    ::setrlimit(RLIMIT_AS, &memory);
#endif
    rlimit core{0, 0};
    ::setrlimit(RLIMIT_CORE, &core);
    ::execv(helper.c_str(), const_cast<char* const*>(argv.data()));
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  std::string out;
  std::string err;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(limits.pdf_wall_seconds);
  bool timed_out = false;
  bool too_large = false;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int rc = ::poll(fds, 2, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    for (pollfd& p : fds) {
      if (p.fd < 0 || (p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t n = ::read(p.fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(p.fd);
        p.fd = -1;
        --open_fds;
        continue;
      }
      std::string& sink = p.fd == out_pipe[0] ? out : err;
      if (sink.size() < limits.max_text_bytes * 2) {
        sink.append(buf, static_cast<size_t>(n));
      } else {
        too_large = true;
      }
    }
    if (too_large) break;
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  if (timed_out || too_large) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return DeadlineExceeded(name + ": PDF extraction exceeded " + std::to_string(limits.pdf_wall_seconds) + " s");
  }
  if (too_large) return Status(StatusCode::kOutOfRange, name + ": PDF text exceeds the size limit");
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    std::string why = sig == SIGXCPU ? "CPU time limit" : (sig == SIGKILL ? "killed" : strsignal(sig));
    return DataLoss(name + ": PDF helper died (" + why + "); the file is malformed or too demanding");
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 127) return Internal(name + ": cannot run " + helper);
  if (code != 0) {
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return DataLoss(name + ": corrupt or unreadable PDF: " + SanitizeUtf8(err.substr(0, 300)));
  }
  return ParsePdfAnswer(out, name);
}

}  // namespace

Result<PdfExtract> ParsePdfAnswer(std::string_view answer, const std::string& name) {
  PdfExtract extract;
  if (!extract.ParseFromArray(answer.data(), static_cast<int>(std::min<size_t>(answer.size(), INT32_MAX)))) {
    return DataLoss(name + ": unreadable answer from the PDF helper");
  }
  return extract;
}

Result<uint32_t> PdfPageCount(const std::string& path, const ExtractLimits& limits) {
  INGEST_ASSIGN_OR_RETURN(PdfExtract extract, RunHelper({"--info", path}, limits, path));
  return extract.page_count();
}

Result<ExtractedDocument> ExtractPdf(const std::string& path, const ExtractLimits& limits, uint32_t first,
                                     uint32_t last) {
  std::vector<std::string> args;
  if (first > 0) args.insert(args.end(), {"--first", std::to_string(first)});
  if (last > 0) args.insert(args.end(), {"--last", std::to_string(last)});
  args.push_back(path);
  INGEST_ASSIGN_OR_RETURN(PdfExtract extract, RunHelper(args, limits, std::filesystem::path(path).filename()));
  return DocumentFromPdfAnswer(extract, limits, path);
}

Result<ExtractedDocument> DocumentFromPdfAnswer(const PdfExtract& extract, const ExtractLimits& limits,
                                                const std::string& path) {
  if (extract.page_count() == 0) return InvalidArgument(path + ": PDF without pages");

  ExtractedDocument doc;
  doc.format = kFormatPdf;
  doc.title = SanitizeUtf8(extract.title());
  doc.first_page = std::max<uint32_t>(extract.first_page(), 1);
  doc.page_count = extract.page_count();
  doc.page_starts.clear();
  for (int i = 0; i < extract.pages_size(); ++i) {
    if (i > 0) doc.text.push_back('\f');
    doc.page_starts.push_back(doc.text.size());
    uint64_t replaced = 0;
    doc.text += DecodeText(extract.pages(i), &replaced);
    doc.replaced_bytes += replaced;
  }
  if (doc.page_starts.empty()) doc.page_starts.push_back(0);
  const uint32_t last_page = doc.first_page + static_cast<uint32_t>(extract.pages_size()) - 1;
  for (const PdfOutlineEntry& e : extract.outline()) {
    if (doc.sections.size() >= limits.max_sections) break;
    if (e.page() == 0) continue;
    Section s;
    s.set_title(SanitizeUtf8(e.title()));
    s.set_level(std::min<uint32_t>(std::max<uint32_t>(e.level(), 1), 6));
    s.set_page_start(e.page());
    if (e.page() < doc.first_page) {
      s.set_offset(0);  // before this range: opens the section path only
    } else if (e.page() <= last_page) {
      s.set_offset(doc.page_starts[e.page() - doc.first_page]);
    } else {
      continue;
    }
    doc.sections.push_back(std::move(s));
  }
  // Outline order is reading order mostly, but not always page order.
  std::stable_sort(doc.sections.begin(), doc.sections.end(),
                   [](const Section& a, const Section& b) { return a.offset() < b.offset(); });
  if (extract.outline_size() == 0) {
    doc.sections = TextHeadings(doc.text, limits.max_sections, /*layout_text=*/true);
    for (Section& s : doc.sections) s.set_page_start(PageAt(doc.page_starts, doc.first_page, s.offset()));
  }
  return doc;
}

}  // namespace ingest
