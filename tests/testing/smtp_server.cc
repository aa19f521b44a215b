#include "tests/testing/smtp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace ingest::testing {
namespace {

bool Accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

SmtpServer::SmtpServer(const std::filesystem::path& dir) : maildir_(dir / "maildir") {
  std::filesystem::create_directories(dir);
  port_ = FreeLoopbackPort();
  process_ = std::make_unique<Subprocess>(
      std::vector<std::string>{"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port_),
                               "-c", "aiosmtpd.handlers.Mailbox", maildir_.string()},
      dir / "smtpd.out", dir / "smtpd.err");
  const auto deadline = std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(20));
  while (std::chrono::steady_clock::now() < deadline && process_->running()) {
    if (Accepts(port_)) {
      ready_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::vector<std::string> SmtpServer::Messages() const {
  std::vector<std::string> messages;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(maildir_ / "new", ec)) {
    messages.push_back(ReadAll(entry.path()));
  }
  return messages;
}

}  // namespace ingest::testing
