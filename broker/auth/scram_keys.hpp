// SCRAM-SHA-256's keys (RFC 5802 section 3, RFC 7677). From a password, a salt and an
// iteration count:
//   SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations)
//   ClientKey      = HMAC(SaltedPassword, "Client Key")    StoredKey = SHA-256(ClientKey)
//   ServerKey      = HMAC(SaltedPassword, "Server Key")
// The broker keeps only StoredKey and ServerKey: enough to check a client's proof and to prove
// itself, not enough to log in as the user. They live in the password file as RFC 5803 and
// PostgreSQL write them: SCRAM-SHA-256$ITERATIONS:SALT$STOREDKEY:SERVERKEY (password_hash.hpp).
//
// Deriving keys costs `iterations` HMACs (shardmq-passwd and a plain-password CONNECT do it,
// the latter on the hash workers); checking a SCRAM exchange costs three hashes and no PBKDF2,
// which is why that check runs on the shard's loop.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace shardmq::broker {

using Sha256Digest = std::array<std::uint8_t, 32>;

struct ScramKeys {
  Sha256Digest stored_key{};
  Sha256Digest server_key{};
};

// RFC 7677 asks for at least 4,096 iterations; the salt is 16 random bytes, as in its example.
inline constexpr std::uint32_t kDefaultScramIterations = 4096;
inline constexpr std::size_t kScramSaltBytes = 16;

Sha256Digest sha256(std::span<const std::uint8_t> data);
Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view message);

Result<ScramKeys, std::string> derive_scram_keys(std::string_view password,
                                                 std::span<const std::uint8_t> salt,
                                                 std::uint32_t iterations);

// Equal in constant time.
bool same_digest(const Sha256Digest& a, const Sha256Digest& b);

}  // namespace shardmq::broker
