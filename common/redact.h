#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ingest {

// Keeps secrets out of logs, manifests and reports (SPEC §11): every
// occurrence of a registered secret (webhook URLs, tokens, passwords, API
// keys) becomes "[redacted]", and anything shaped like an e-mail address
// becomes "[email]".
class Redactor {
 public:
  // Values shorter than 6 characters are not registered: they would
  // blank out ordinary words.
  void AddSecret(std::string value);
  std::string Apply(std::string_view text) const;
  bool empty() const { return secrets_.empty(); }

 private:
  std::vector<std::string> secrets_;  // longest first, so a URL goes before its token
};

// The process-wide redactor the log sinks apply. Set once, before threads
// that log start (the coordinator sets it from its config).
void SetLogRedactor(std::shared_ptr<const Redactor> redactor);
// Applies the process-wide redactor (e-mail addresses only when none is set).
std::string Redact(std::string_view text);

}  // namespace ingest
