#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/testing/testing.h"

namespace ingest::testing {

// A real SMTP server on 127.0.0.1: Debian's aiosmtpd, run as
// `/usr/bin/python3 -m aiosmtpd` with its Mailbox handler, storing every
// message it accepts in a Maildir under `dir`. Stopped (and reaped) with the
// object.
class SmtpServer {
 public:
  explicit SmtpServer(const std::filesystem::path& dir);
  int port() const { return port_; }
  bool ready() const { return ready_; }
  // The raw messages received so far (headers and body).
  std::vector<std::string> Messages() const;

 private:
  std::filesystem::path maildir_;
  int port_ = 0;
  bool ready_ = false;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace ingest::testing
