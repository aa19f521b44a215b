#include "tests/testing/testing.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "common/utf8.h"

namespace ingest::testing {

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() /
          ("ingest-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  // INGEST_KEEP_TEST_DIRS=1 keeps the logs of every process a test started,
  // for a failure that only shows under load or a sanitizer.
  if (const char* keep = std::getenv("INGEST_KEEP_TEST_DIRS"); keep != nullptr && std::string(keep) == "1") {
    std::fprintf(stderr, "kept test directory %s\n", path_.c_str());
    return;
  }
  // Restore permissions a test may have removed so cleanup can proceed.
  for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
  }
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::Write(const std::string& relative, const std::string& content) const {
  std::filesystem::path p = path_ / relative;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
  return p;
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Subprocess::Subprocess(std::vector<std::string> argv, std::filesystem::path stdout_file,
                       std::filesystem::path stderr_file, const std::vector<std::string>& env)
    : stdout_file_(std::move(stdout_file)), stderr_file_(std::move(stderr_file)) {
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // Dies with the test process even if the test crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int out = ::open(stdout_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(stderr_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
}

void Subprocess::Signal(int signal) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, signal);
}

bool Subprocess::running() {
  if (reaped_) return false;
  if (::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
  return !reaped_;
}

int Subprocess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

std::string WaitForLine(const std::filesystem::path& file, const std::string& marker, std::chrono::milliseconds timeout,
                        const std::function<bool()>& still_waiting) {
  const auto find = [&]() -> std::optional<std::string> {
    std::istringstream lines(ReadAll(file));
    std::string line;
    while (std::getline(lines, line)) {
      size_t at = line.find(marker);
      if (at != std::string::npos) return line.substr(at + marker.size());
    }
    return std::nullopt;
  };
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::optional<std::string> found = find()) return *found;
    // Looked for once more after the writer stopped: it may have written
    // the line just before.
    if (still_waiting && !still_waiting()) return find().value_or("");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

std::chrono::milliseconds Scaled(std::chrono::milliseconds d) {
  static const double scale = [] {
    const char* text = std::getenv("INGEST_TEST_TIME_SCALE");
    double v = text != nullptr ? std::atof(text) : 1.0;
    return v > 0 ? v : 1.0;
  }();
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(d.count()) * scale));
}

int64_t FleetLiveness() { return Scaled(std::chrono::milliseconds(2000)).count() / 200; }

uint16_t FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

std::filesystem::path BinDir() { return INGEST_BIN_DIR; }

std::string IndependentHmacSha256(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &n);
  return std::string(reinterpret_cast<char*>(mac), n);
}

std::vector<std::string> JsonStringsAfter(const std::string& json, const std::string& prefix) {
  std::vector<std::string> strings;
  for (size_t at = json.find(prefix); at != std::string::npos; at = json.find(prefix, at + 1)) {
    size_t i = at + prefix.size();
    if (i >= json.size() || json[i] != '"') continue;
    std::string value;
    for (++i; i < json.size() && json[i] != '"'; ++i) {
      if (json[i] != '\\' || i + 1 >= json.size()) {
        value.push_back(json[i]);
        continue;
      }
      const char escaped = json[++i];
      if (escaped == 'n') {
        value.push_back('\n');
      } else if (escaped == 't') {
        value.push_back('\t');
      } else if (escaped == 'u' && i + 4 < json.size()) {
        AppendCodePoint(static_cast<uint32_t>(std::stoul(json.substr(i + 1, 4), nullptr, 16)), &value);
        i += 4;
      } else {
        value.push_back(escaped);  // \" \\ \/
      }
    }
    strings.push_back(std::move(value));
  }
  return strings;
}

std::string LastLine(const std::string& text) {
  std::string trimmed = text;
  while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
  size_t at = trimmed.rfind('\n');
  return at == std::string::npos ? trimmed : trimmed.substr(at + 1);
}

}  // namespace ingest::testing
