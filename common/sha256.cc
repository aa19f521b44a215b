#include "common/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <array>

namespace ingest {

namespace {

// Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up in its
// providers at every init, which cost more than hashing an id or a task.
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  INGEST_CHECK(md != nullptr);
  return md;
}

}  // namespace

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(new Impl) {
  impl_->ctx = EVP_MD_CTX_new();
  INGEST_CHECK(impl_->ctx != nullptr);
  Reset();
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(impl_->ctx);
  delete impl_;
}

void Sha256::Update(std::string_view bytes) {
  INGEST_CHECK(EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size()) == 1);
}

std::string Sha256::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  INGEST_CHECK(EVP_DigestFinal_ex(impl_->ctx, digest, &length) == 1);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

void Sha256::Reset() { INGEST_CHECK(EVP_DigestInit_ex(impl_->ctx, Sha256Md(), nullptr) == 1); }

std::string Sha256Hex(std::string_view bytes) {
  // A hasher per thread, reset for each digest: allocating and freeing its
  // context cost more than hashing a task or an id (a run hashes tens of
  // thousands).
  thread_local Sha256 hasher;
  hasher.Reset();
  hasher.Update(bytes);
  return hasher.HexDigest();
}

Result<std::string> Sha256File(const std::filesystem::path& path) {
  // A descriptor and a block on the stack, never zeroed: a refresh hashes
  // every file of its sources, and an ifstream with a zero-filled 64 KiB
  // string for each cost more than the hashing of the small ones.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, path.string());
  std::array<char, size_t{1} << 16> block;  // NOLINT(cppcoreguidelines-pro-type-member-init): filled by read()
  Sha256 hasher;
  for (;;) {
    const ssize_t n = ::read(fd, block.data(), block.size());
    if (n > 0) {
      hasher.Update(std::string_view(block.data(), static_cast<size_t>(n)));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      const int error = errno;
      ::close(fd);
      return ErrnoStatus(error, path.string());
    }
  }
  ::close(fd);
  return hasher.HexDigest();
}

std::string ContentId(std::string_view prefix, std::string_view content) {
  return std::string(prefix) + Sha256Hex(content).substr(0, 16);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 15]);
  }
  return hex;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return InvalidArgument("base64 text length is not a multiple of 4");
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return InvalidArgument("not base64");
  size_t padding = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

}  // namespace ingest
