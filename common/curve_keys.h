#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace ingest {

// CurveZMQ keys as 40-character Z85 text, the form ZeroMQ's tools print.
struct CurveKeyPair {
  std::string public_key;
  std::string secret_key;
};

Result<CurveKeyPair> GenerateCurveKeyPair();

// Reads a secret key file (the first line that is not blank or a `#`
// comment) and derives its public key. Errors name the file.
Result<CurveKeyPair> ReadCurveSecretKey(const std::filesystem::path& path);
// Reads a public key file, in the same format.
Result<std::string> ReadCurvePublicKey(const std::filesystem::path& path);
// One public key per line, optionally followed by whitespace and a name;
// blank lines and `#` comments are skipped. Errors name the file and line.
Result<std::vector<std::string>> ReadAuthorizedKeys(const std::filesystem::path& path);

// Writes `{prefix}.key` (secret, mode 0600) and `{prefix}.pub`.
Status WriteCurveKeyPair(const std::filesystem::path& prefix, const CurveKeyPair& keys);

// The 32-byte binary form of a Z85 key, for socket options and ZAP.
std::string CurveKeyBytes(const std::string& z85);
// Z85 text of a 32-byte binary key.
std::string CurveKeyText(const std::string& bytes);

}  // namespace ingest
