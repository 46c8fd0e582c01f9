#include "broker/auth/scram_keys.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <climits>

namespace shardmq::broker {

Sha256Digest sha256(std::span<const std::uint8_t> data) {
  Sha256Digest out;
  SHA256(data.data(), data.size(), out.data());
  return out;
}

Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view message) {
  Sha256Digest out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &length);
  return out;
}

Result<ScramKeys, std::string> derive_scram_keys(std::string_view password,
                                                 std::span<const std::uint8_t> salt,
                                                 std::uint32_t iterations) {
  if (iterations < 1 || iterations > INT_MAX)
    return unexpected(std::string("iteration count out of range"));
  Sha256Digest salted{};
  if (PKCS5_PBKDF2_HMAC(password.empty() ? "" : password.data(), static_cast<int>(password.size()),
                        salt.data(), static_cast<int>(salt.size()), static_cast<int>(iterations),
                        EVP_sha256(), static_cast<int>(salted.size()), salted.data()) != 1)
    return unexpected(std::string("PBKDF2-HMAC-SHA256 failed"));
  ScramKeys keys;
  Sha256Digest client_key = hmac_sha256(salted, "Client Key");
  keys.stored_key = sha256(client_key);
  keys.server_key = hmac_sha256(salted, "Server Key");
  OPENSSL_cleanse(salted.data(), salted.size());
  OPENSSL_cleanse(client_key.data(), client_key.size());
  return keys;
}

bool same_digest(const Sha256Digest& a, const Sha256Digest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace shardmq::broker
