// The password hashes Mosquitto writes after "user:" in a password file: decoding one,
// checking a password against it, and making new ones for shardmq-passwd.
//
//   $6$SALT$DIGEST                      SHA-512(password || salt)     mosquitto_passwd -H sha512
//   $7$ROUNDS$SALT$DIGEST               PBKDF2-HMAC-SHA512            Mosquitto 2.0's default
//   $argon2id$v=19$m=KIB,t=PASSES,p=LANES$SALT$DIGEST                  Mosquitto 2.1's default
//   SCRAM-SHA-256$ITERATIONS:SALT$STOREDKEY:SERVERKEY                 shardmq only (scram_keys.hpp)
//
// $6$ and $7$ carry padded base64 (12- or 64-byte salt, 64-byte digest); the argon2id form is
// the PHC string libargon2 writes, unpadded base64; the SCRAM form is RFC 5803's (PostgreSQL
// stores SCRAM verifiers the same way), padded base64. A SCRAM entry serves both a plain
// password in CONNECT and an MQTT 5 SCRAM-SHA-256 exchange; Mosquitto cannot read it. Decoding
// is strict: a hash Mosquitto would drop with a warning is an error here, so the operator hears
// of it at load time.
//
// Checking costs milliseconds (that is the point of these hashes): the broker calls it off the
// shard's loop. Everything here is a pure function, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace shardmq::broker {

enum class PasswordHashKind : std::uint8_t { sha512, pbkdf2_sha512, argon2id, scram_sha256 };

// A hash decoded once, when the file is loaded, so a CONNECT pays no parsing.
struct PasswordHash {
  PasswordHashKind kind = PasswordHashKind::pbkdf2_sha512;
  std::uint32_t iterations = 0;  // $7$ and SCRAM: PBKDF2 rounds; argon2id: passes (t)
  std::uint32_t memory_kib = 0;  // argon2id only (m)
  std::uint32_t lanes = 0;       // argon2id only (p)
  std::vector<std::uint8_t> salt;
  std::vector<std::uint8_t> digest;      // SCRAM: StoredKey
  std::vector<std::uint8_t> server_key;  // SCRAM only: ServerKey

  bool operator==(const PasswordHash&) const = default;
};

// What new hashes use. PBKDF2: a 12-byte salt, the only length Mosquitto 2.0 reads, and 1,000
// rounds (Mosquitto 2.1's default; 2.0's mosquitto_passwd writes 101, a tenth of the work
// for an attacker). argon2id: Mosquitto 2.1's parameters (t=1, m=46 MiB, p=1, 64-byte salt and
// digest), the OWASP minimum for argon2id.
inline constexpr std::uint32_t kDefaultPbkdf2Rounds = 1000;
inline constexpr std::size_t kPbkdf2SaltBytes = 12;
inline constexpr std::size_t kSha512SaltBytes = 12;
inline constexpr std::uint32_t kArgon2Passes = 1;
inline constexpr std::uint32_t kArgon2MemoryKib = 47104;
inline constexpr std::uint32_t kArgon2Lanes = 1;
inline constexpr std::size_t kArgon2SaltBytes = 64;
inline constexpr std::size_t kArgon2DigestBytes = 64;

// Decodes `encoded` ("$7$101$..."); the error says what is wrong with it.
Result<PasswordHash, std::string> parse_password_hash(std::string_view encoded);

// The text form of `hash`, as Mosquitto writes it; parse_password_hash reads it back.
std::string encode_password_hash(const PasswordHash& hash);

// Whether `password` is the one `hash` was made from, compared in constant time. An error
// only when the hash could not be computed (out of memory, absurd argon2 parameters).
Result<bool, std::string> check_password(const PasswordHash& hash, std::string_view password);

// parse_password_hash, then check_password: a malformed hash is an error, never `false`.
Result<bool, std::string> verify_password(std::string_view encoded, std::string_view password);

// A new hash of `password` with a fresh random salt and the defaults above; `rounds` applies to
// pbkdf2_sha512 and scram_sha256 (mosquitto_passwd -I), unset: the kind's default.
Result<PasswordHash, std::string> make_password_hash(std::string_view password,
                                                     PasswordHashKind kind,
                                                     std::optional<std::uint32_t> rounds = {});

// make_password_hash, encoded: the text that goes after "user:".
Result<std::string, std::string> hash_password(std::string_view password, PasswordHashKind kind,
                                               std::optional<std::uint32_t> rounds = {});

// The names mosquitto_passwd -H takes: "sha512", "sha512-pbkdf2", "argon2id"; and
// shardmq-passwd's "scram-sha-256".
Result<PasswordHashKind, std::string> parse_hash_kind_name(std::string_view name);
std::string_view hash_kind_name(PasswordHashKind kind);

// True when `field` starts like one of the hashes above ("$6$", "$7$", "$argon2id$",
// "SCRAM-SHA-256$"): what
// tells a hashed entry from a plain-text one (shardmq-passwd -U), malformed or not.
bool looks_like_password_hash(std::string_view field);

}  // namespace shardmq::broker
