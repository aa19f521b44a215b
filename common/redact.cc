#include "common/redact.h"

#include <algorithm>
#include <cctype>

namespace ingest {
namespace {

std::shared_ptr<const Redactor> g_log_redactor;

bool LocalChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool DomainChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'; }

// Replaces user@domain.tld (a dot in the domain, not at its ends).
std::string RedactEmails(std::string text) {
  size_t at = 0;
  while ((at = text.find('@', at)) != std::string::npos) {
    size_t begin = at;
    while (begin > 0 && LocalChar(text[begin - 1])) --begin;
    size_t end = at + 1;
    while (end < text.size() && DomainChar(text[end])) ++end;
    while (end > at + 1 && (text[end - 1] == '.' || text[end - 1] == '-')) --end;  // sentence punctuation
    const std::string_view domain(text.data() + at + 1, end - at - 1);
    const size_t dot = domain.find('.');
    if (begin < at && dot != std::string_view::npos && dot > 0) {
      text.replace(begin, end - begin, "[email]");
      at = begin + 7;
    } else {
      ++at;
    }
  }
  return text;
}

}  // namespace

void Redactor::AddSecret(std::string value) {
  if (value.size() < 6 || std::find(secrets_.begin(), secrets_.end(), value) != secrets_.end()) return;
  secrets_.push_back(std::move(value));
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redactor::Apply(std::string_view text) const {
  std::string out(text);
  for (const std::string& secret : secrets_) {
    size_t at = 0;
    while ((at = out.find(secret, at)) != std::string::npos) {
      out.replace(at, secret.size(), "[redacted]");
      at += 10;
    }
  }
  return RedactEmails(std::move(out));
}

void SetLogRedactor(std::shared_ptr<const Redactor> redactor) { g_log_redactor = std::move(redactor); }

std::string Redact(std::string_view text) {
  return g_log_redactor ? g_log_redactor->Apply(text) : RedactEmails(std::string(text));
}

}  // namespace ingest
