#include "common/curve_keys.h"

#include <sys/stat.h>
#include <zmq.h>

#include <sstream>

#include "common/atomic_file.h"

namespace ingest {
namespace {

constexpr size_t kZ85KeyChars = 40;
constexpr size_t kKeyBytes = 32;

bool IsZ85Key(const std::string& text) {
  if (text.size() != kZ85KeyChars) return false;
  uint8_t bytes[kKeyBytes];
  return zmq_z85_decode(bytes, text.c_str()) != nullptr;
}

// The meaningful lines of a key file, with their line numbers.
Result<std::vector<std::pair<int, std::string>>> KeyLines(const std::filesystem::path& path) {
  INGEST_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<std::pair<int, std::string>> lines;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    size_t end = line.find_first_of(" \t\r", start);
    lines.emplace_back(number, line.substr(start, end == std::string::npos ? std::string::npos : end - start));
  }
  return lines;
}

Result<std::string> ReadOneKey(const std::filesystem::path& path, const char* what) {
  INGEST_ASSIGN_OR_RETURN(auto lines, KeyLines(path));
  if (lines.empty()) return InvalidArgument(path.string() + ": no " + std::string(what) + " key in the file");
  const auto& [number, key] = lines.front();
  if (!IsZ85Key(key)) {
    return InvalidArgument(path.string() + ":" + std::to_string(number) + ": not a 40-character Z85 CURVE " + what +
                           " key");
  }
  return key;
}

}  // namespace

Result<CurveKeyPair> GenerateCurveKeyPair() {
  char public_key[kZ85KeyChars + 1];
  char secret_key[kZ85KeyChars + 1];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return Internal(std::string("CURVE key generation: ") + zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{public_key, secret_key};
}

Result<CurveKeyPair> ReadCurveSecretKey(const std::filesystem::path& path) {
  INGEST_ASSIGN_OR_RETURN(std::string secret, ReadOneKey(path, "secret"));
  char public_key[kZ85KeyChars + 1];
  if (zmq_curve_public(public_key, secret.c_str()) != 0) {
    return InvalidArgument(path.string() + ": cannot derive a public key from the secret key");
  }
  return CurveKeyPair{public_key, secret};
}

Result<std::string> ReadCurvePublicKey(const std::filesystem::path& path) { return ReadOneKey(path, "public"); }

Result<std::vector<std::string>> ReadAuthorizedKeys(const std::filesystem::path& path) {
  INGEST_ASSIGN_OR_RETURN(auto lines, KeyLines(path));
  std::vector<std::string> keys;
  for (const auto& [number, key] : lines) {
    if (!IsZ85Key(key)) {
      return InvalidArgument(path.string() + ":" + std::to_string(number) +
                             ": not a 40-character Z85 CURVE public key");
    }
    keys.push_back(key);
  }
  return keys;
}

Status WriteCurveKeyPair(const std::filesystem::path& prefix, const CurveKeyPair& keys) {
  std::filesystem::path secret = prefix;
  secret += ".key";
  std::filesystem::path public_file = prefix;
  public_file += ".pub";
  // The secret is never readable by others, not even for a moment.
  mode_t old_mask = ::umask(077);
  Status written = WriteFileAtomic(secret, "# ingestfleet CURVE secret key: keep private\n" + keys.secret_key + "\n");
  ::umask(old_mask);
  INGEST_RETURN_IF_ERROR(written);
  return WriteFileAtomic(public_file, "# ingestfleet CURVE public key\n" + keys.public_key + "\n");
}

std::string CurveKeyBytes(const std::string& z85) {
  std::string bytes(kKeyBytes, '\0');
  if (zmq_z85_decode(reinterpret_cast<uint8_t*>(bytes.data()), z85.c_str()) == nullptr) return {};
  return bytes;
}

std::string CurveKeyText(const std::string& bytes) {
  if (bytes.size() != kKeyBytes) return {};
  char text[kZ85KeyChars + 1];
  zmq_z85_encode(text, reinterpret_cast<const uint8_t*>(bytes.data()), kKeyBytes);
  return text;
}

}  // namespace ingest
