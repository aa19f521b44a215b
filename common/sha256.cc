#include "common/sha256.h"

#include <openssl/evp.h>

#include <fstream>

namespace ingest {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(new Impl) {
  impl_->ctx = EVP_MD_CTX_new();
  INGEST_CHECK(impl_->ctx != nullptr);
  INGEST_CHECK(EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) == 1);
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
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256 hasher;
  hasher.Update(bytes);
  return hasher.HexDigest();
}

Result<std::string> Sha256File(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus(errno, path.string());
  Sha256 hasher;
  std::string block(1 << 16, '\0');
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    hasher.Update(std::string_view(block.data(), static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) return ErrnoStatus(errno, path.string());
  return hasher.HexDigest();
}

std::string ContentId(std::string_view prefix, std::string_view content) {
  return std::string(prefix) + Sha256Hex(content).substr(0, 16);
}

}  // namespace ingest
