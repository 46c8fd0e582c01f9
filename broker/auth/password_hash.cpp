#include "broker/auth/password_hash.hpp"

#include "broker/auth/base64.hpp"
#include "broker/auth/scram_keys.hpp"

#include <argon2.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <memory>
#include <optional>

namespace shardmq::broker {
namespace {

constexpr std::string_view kSha512Prefix = "$6$";
constexpr std::string_view kPbkdf2Prefix = "$7$";
constexpr std::string_view kArgon2idPrefix = "$argon2id$";
constexpr std::string_view kScramPrefix = "SCRAM-SHA-256$";
constexpr std::size_t kSha512DigestBytes = 64;
// Mosquitto 2.0 reads only 12-byte salts; 2.1 also reads the 64-byte ones it writes.
constexpr std::size_t kMosquittoShortSalt = 12;
constexpr std::size_t kMosquittoLongSalt = 64;

using Bytes = std::vector<std::uint8_t>;

// Wipes a computed digest when it goes out of scope: it is as good as the password to anyone
// who finds it in freed memory.
struct WipedBytes {
  Bytes bytes;
  ~WipedBytes() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

// Never hand a null pointer to the C libraries, even for an empty password.
const char* data_or_empty(std::string_view s) {
  return s.empty() ? "" : s.data();
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

// A decimal count from 1 to `max`: digits only, as Mosquitto and libargon2 write them.
std::optional<std::uint32_t> parse_count(std::string_view text, std::uint32_t max) {
  std::uint32_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [at, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || at != end || value < 1 || value > max) {
    return std::nullopt;
  }
  return value;
}

// PBKDF2's round count: OpenSSL takes it as an int.
Result<std::uint32_t, std::string> parse_iterations(std::string_view text) {
  const auto rounds = parse_count(text, INT_MAX);
  if (!rounds) {
    return unexpected(
        fmt::format("iteration count '{}' is not a number from 1 to {}", text, INT_MAX));
  }
  return *rounds;
}

Result<Bytes, std::string> decode_field(std::string_view text, Base64Padding padding,
                                        std::string_view what) {
  auto bytes = decode_base64(text, padding);
  if (!bytes) return unexpected(fmt::format("{} '{}' is not valid base64", what, text));
  return std::move(*bytes);
}

// $6$ and $7$ share their salt and digest rules.
Result<void, std::string> decode_salt_and_digest(std::string_view salt_text,
                                                 std::string_view digest_text, PasswordHash& out) {
  auto salt = decode_field(salt_text, Base64Padding::required, "salt");
  if (!salt) return unexpected(salt.error());
  if (salt->size() != kMosquittoShortSalt && salt->size() != kMosquittoLongSalt) {
    return unexpected(fmt::format("salt is {} bytes; Mosquitto reads {} or {}", salt->size(),
                                  kMosquittoShortSalt, kMosquittoLongSalt));
  }
  auto digest = decode_field(digest_text, Base64Padding::required, "digest");
  if (!digest) return unexpected(digest.error());
  if (digest->size() != kSha512DigestBytes) {
    return unexpected(
        fmt::format("digest is {} bytes, not {}", digest->size(), kSha512DigestBytes));
  }
  out.salt = std::move(*salt);
  out.digest = std::move(*digest);
  return {};
}

Result<PasswordHash, std::string> parse_sha512(std::string_view rest) {
  const auto fields = split(rest, '$');
  if (fields.size() != 2) return unexpected(std::string("expected $6$SALT$DIGEST"));
  PasswordHash hash;
  hash.kind = PasswordHashKind::sha512;
  if (auto ok = decode_salt_and_digest(fields[0], fields[1], hash); !ok) {
    return unexpected(ok.error());
  }
  return hash;
}

Result<PasswordHash, std::string> parse_pbkdf2(std::string_view rest) {
  const auto fields = split(rest, '$');
  if (fields.size() != 3) return unexpected(std::string("expected $7$ROUNDS$SALT$DIGEST"));
  PasswordHash hash;
  hash.kind = PasswordHashKind::pbkdf2_sha512;
  auto rounds = parse_iterations(fields[0]);
  if (!rounds) return unexpected(rounds.error());
  hash.iterations = *rounds;
  if (auto ok = decode_salt_and_digest(fields[1], fields[2], hash); !ok) {
    return unexpected(ok.error());
  }
  return hash;
}

// m=KIB,t=PASSES,p=LANES in that order, the only one libargon2 writes or reads.
Result<void, std::string> parse_argon2_parameters(std::string_view text, PasswordHash& out) {
  const auto parts = split(text, ',');
  if (parts.size() != 3 || !parts[0].starts_with("m=") || !parts[1].starts_with("t=") ||
      !parts[2].starts_with("p=")) {
    return unexpected(fmt::format("parameters '{}' are not m=KIB,t=PASSES,p=LANES", text));
  }
  const auto memory =
      parse_count(parts[0].substr(2), static_cast<std::uint32_t>(ARGON2_MAX_MEMORY));
  const auto passes = parse_count(parts[1].substr(2), ARGON2_MAX_TIME);
  const auto lanes = parse_count(parts[2].substr(2), ARGON2_MAX_LANES);
  if (!memory || !passes || !lanes) {
    return unexpected(fmt::format("parameters '{}' are out of range", text));
  }
  // libargon2 needs 8 KiB (two blocks per slice, four slices) per lane.
  if (*memory < 8ull * *lanes) {
    return unexpected(fmt::format("m={} is less than 8 KiB per lane (p={})", *memory, *lanes));
  }
  out.memory_kib = *memory;
  out.iterations = *passes;
  out.lanes = *lanes;
  return {};
}

Result<PasswordHash, std::string> parse_argon2id(std::string_view rest) {
  const auto fields = split(rest, '$');
  if (fields.size() != 4) {
    return unexpected(std::string("expected $argon2id$v=19$m=KIB,t=PASSES,p=LANES$SALT$DIGEST"));
  }
  // libargon2 reads a missing version as 1.0 (v=16); Mosquitto has only ever written 1.3.
  if (fields[0] != "v=19") {
    return unexpected(fmt::format("argon2id version '{}' is not supported, only v=19", fields[0]));
  }
  PasswordHash hash;
  hash.kind = PasswordHashKind::argon2id;
  if (auto ok = parse_argon2_parameters(fields[1], hash); !ok) return unexpected(ok.error());
  auto salt = decode_field(fields[2], Base64Padding::none, "salt");
  if (!salt) return unexpected(salt.error());
  if (salt->size() < ARGON2_MIN_SALT_LENGTH) {
    return unexpected(
        fmt::format("salt is {} bytes, less than {}", salt->size(), ARGON2_MIN_SALT_LENGTH));
  }
  auto digest = decode_field(fields[3], Base64Padding::none, "digest");
  if (!digest) return unexpected(digest.error());
  if (digest->size() < ARGON2_MIN_OUTLEN) {
    return unexpected(
        fmt::format("digest is {} bytes, less than {}", digest->size(), ARGON2_MIN_OUTLEN));
  }
  hash.salt = std::move(*salt);
  hash.digest = std::move(*digest);
  return hash;
}

// ITERATIONS:SALT$STOREDKEY:SERVERKEY, after "SCRAM-SHA-256$".
Result<PasswordHash, std::string> parse_scram(std::string_view rest) {
  const auto fields = split(rest, '$');
  const auto first = fields.size() == 2 ? split(fields[0], ':') : std::vector<std::string_view>{};
  const auto second = fields.size() == 2 ? split(fields[1], ':') : std::vector<std::string_view>{};
  if (first.size() != 2 || second.size() != 2)
    return unexpected(std::string("expected SCRAM-SHA-256$ITERATIONS:SALT$STOREDKEY:SERVERKEY"));
  PasswordHash hash;
  hash.kind = PasswordHashKind::scram_sha256;
  auto iterations = parse_iterations(first[0]);
  if (!iterations) return unexpected(iterations.error());
  hash.iterations = *iterations;
  auto salt = decode_field(first[1], Base64Padding::required, "salt");
  if (!salt) return unexpected(salt.error());
  auto stored = decode_field(second[0], Base64Padding::required, "StoredKey");
  if (!stored) return unexpected(stored.error());
  auto server = decode_field(second[1], Base64Padding::required, "ServerKey");
  if (!server) return unexpected(server.error());
  if (stored->size() != sizeof(Sha256Digest) || server->size() != sizeof(Sha256Digest))
    return unexpected(
        fmt::format("StoredKey and ServerKey must be {} bytes each", sizeof(Sha256Digest)));
  hash.salt = std::move(*salt);
  hash.digest = std::move(*stored);
  hash.server_key = std::move(*server);
  return hash;
}

struct MdContextFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

Result<void, std::string> sha512_digest(std::string_view password, const Bytes& salt, Bytes& out) {
  out.assign(kSha512DigestBytes, 0);
  std::unique_ptr<EVP_MD_CTX, MdContextFree> context(EVP_MD_CTX_new());
  unsigned int length = 0;
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha512(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), data_or_empty(password), password.size()) != 1 ||
      EVP_DigestUpdate(context.get(), salt.data(), salt.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), out.data(), &length) != 1 || length != out.size()) {
    return unexpected(std::string("SHA-512 failed"));
  }
  return {};
}

Result<void, std::string> pbkdf2_digest(std::string_view password, const Bytes& salt,
                                        std::uint32_t rounds, Bytes& out) {
  out.assign(kSha512DigestBytes, 0);
  if (PKCS5_PBKDF2_HMAC(data_or_empty(password), static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), static_cast<int>(rounds), EVP_sha512(),
                        static_cast<int>(out.size()), out.data()) != 1) {
    return unexpected(std::string("PBKDF2-HMAC-SHA512 failed"));
  }
  return {};
}

Result<void, std::string> argon2id_digest(std::string_view password, const PasswordHash& params,
                                          std::size_t digest_bytes, Bytes& out) {
  out.assign(digest_bytes, 0);
  const int rc = argon2id_hash_raw(params.iterations, params.memory_kib, params.lanes,
                                   data_or_empty(password), password.size(), params.salt.data(),
                                   params.salt.size(), out.data(), out.size());
  if (rc != ARGON2_OK) return unexpected(fmt::format("argon2id: {}", argon2_error_message(rc)));
  return {};
}

// The digest `password` gives under `params` (its kind, salt and costs), `digest_bytes` long.
Result<void, std::string> compute_digest(std::string_view password, const PasswordHash& params,
                                         std::size_t digest_bytes, Bytes& out) {
  switch (params.kind) {
    case PasswordHashKind::sha512:
      return sha512_digest(password, params.salt, out);
    case PasswordHashKind::pbkdf2_sha512:
      return pbkdf2_digest(password, params.salt, params.iterations, out);
    case PasswordHashKind::argon2id:
      return argon2id_digest(password, params, digest_bytes, out);
    case PasswordHashKind::scram_sha256: {
      auto keys = derive_scram_keys(password, params.salt, params.iterations);
      if (!keys) return unexpected(keys.error());
      out.assign(keys->stored_key.begin(), keys->stored_key.end());
      OPENSSL_cleanse(keys->stored_key.data(), keys->stored_key.size());
      return {};
    }
  }
  return unexpected(std::string("unknown hash kind"));
}

Result<Bytes, std::string> random_bytes(std::size_t count) {
  Bytes bytes(count);
  if (RAND_bytes(bytes.data(), static_cast<int>(count)) != 1) {
    return unexpected(std::string("the random number generator failed"));
  }
  return bytes;
}

}  // namespace

Result<PasswordHash, std::string> parse_password_hash(std::string_view encoded) {
  if (encoded.starts_with(kSha512Prefix)) return parse_sha512(encoded.substr(kSha512Prefix.size()));
  if (encoded.starts_with(kPbkdf2Prefix)) return parse_pbkdf2(encoded.substr(kPbkdf2Prefix.size()));
  if (encoded.starts_with(kArgon2idPrefix)) {
    return parse_argon2id(encoded.substr(kArgon2idPrefix.size()));
  }
  if (encoded.starts_with(kScramPrefix)) return parse_scram(encoded.substr(kScramPrefix.size()));
  if (encoded.empty()) return unexpected(std::string("the password hash is empty"));
  if (encoded.front() != '$') {
    return unexpected(std::string(
        "not a password hash (a plain-text password? shardmq-passwd -U FILE hashes them)"));
  }
  const auto type = encoded.substr(1, encoded.find('$', 1) - 1);
  return unexpected(
      fmt::format("unknown hash type '${}$' (Mosquitto writes $6$, $7$ and $argon2id$; shardmq "
                  "also reads SCRAM-SHA-256$)",
                  type));
}

std::string encode_password_hash(const PasswordHash& hash) {
  switch (hash.kind) {
    case PasswordHashKind::sha512:
      return fmt::format("{}{}${}", kSha512Prefix,
                         encode_base64(hash.salt, Base64Padding::required),
                         encode_base64(hash.digest, Base64Padding::required));
    case PasswordHashKind::pbkdf2_sha512:
      return fmt::format("{}{}${}${}", kPbkdf2Prefix, hash.iterations,
                         encode_base64(hash.salt, Base64Padding::required),
                         encode_base64(hash.digest, Base64Padding::required));
    case PasswordHashKind::argon2id:
      return fmt::format("{}v=19$m={},t={},p={}${}${}", kArgon2idPrefix, hash.memory_kib,
                         hash.iterations, hash.lanes, encode_base64(hash.salt, Base64Padding::none),
                         encode_base64(hash.digest, Base64Padding::none));
    case PasswordHashKind::scram_sha256:
      return fmt::format("{}{}:{}${}:{}", kScramPrefix, hash.iterations,
                         encode_base64(hash.salt, Base64Padding::required),
                         encode_base64(hash.digest, Base64Padding::required),
                         encode_base64(hash.server_key, Base64Padding::required));
  }
  return {};
}

Result<bool, std::string> check_password(const PasswordHash& hash, std::string_view password) {
  WipedBytes computed;
  if (auto ok = compute_digest(password, hash, hash.digest.size(), computed.bytes); !ok) {
    return unexpected(ok.error());
  }
  return computed.bytes.size() == hash.digest.size() &&
         CRYPTO_memcmp(computed.bytes.data(), hash.digest.data(), hash.digest.size()) == 0;
}

Result<bool, std::string> verify_password(std::string_view encoded, std::string_view password) {
  auto hash = parse_password_hash(encoded);
  if (!hash) return unexpected(hash.error());
  return check_password(*hash, password);
}

Result<PasswordHash, std::string> make_password_hash(std::string_view password,
                                                     PasswordHashKind kind,
                                                     std::optional<std::uint32_t> rounds) {
  PasswordHash hash;
  hash.kind = kind;
  std::size_t salt_bytes = kSha512SaltBytes;
  std::size_t digest_bytes = kSha512DigestBytes;
  const auto check_rounds = [&](std::uint32_t fallback) -> Result<void, std::string> {
    hash.iterations = rounds.value_or(fallback);
    if (hash.iterations < 1 || hash.iterations > INT_MAX) {
      return unexpected(
          fmt::format("iteration count {} is not from 1 to {}", hash.iterations, INT_MAX));
    }
    return {};
  };
  switch (kind) {
    case PasswordHashKind::sha512:
      break;
    case PasswordHashKind::pbkdf2_sha512:
      if (auto ok = check_rounds(kDefaultPbkdf2Rounds); !ok) return unexpected(ok.error());
      salt_bytes = kPbkdf2SaltBytes;
      break;
    case PasswordHashKind::argon2id:
      hash.iterations = kArgon2Passes;
      hash.memory_kib = kArgon2MemoryKib;
      hash.lanes = kArgon2Lanes;
      salt_bytes = kArgon2SaltBytes;
      digest_bytes = kArgon2DigestBytes;
      break;
    case PasswordHashKind::scram_sha256:
      if (auto ok = check_rounds(kDefaultScramIterations); !ok) return unexpected(ok.error());
      salt_bytes = kScramSaltBytes;
      break;
  }
  auto salt = random_bytes(salt_bytes);
  if (!salt) return unexpected(salt.error());
  hash.salt = std::move(*salt);
  if (kind == PasswordHashKind::scram_sha256) {
    auto keys = derive_scram_keys(password, hash.salt, hash.iterations);
    if (!keys) return unexpected(keys.error());
    hash.digest.assign(keys->stored_key.begin(), keys->stored_key.end());
    hash.server_key.assign(keys->server_key.begin(), keys->server_key.end());
    return hash;
  }
  if (auto ok = compute_digest(password, hash, digest_bytes, hash.digest); !ok) {
    return unexpected(ok.error());
  }
  return hash;
}

Result<std::string, std::string> hash_password(std::string_view password, PasswordHashKind kind,
                                               std::optional<std::uint32_t> rounds) {
  auto hash = make_password_hash(password, kind, rounds);
  if (!hash) return unexpected(hash.error());
  return encode_password_hash(*hash);
}

Result<PasswordHashKind, std::string> parse_hash_kind_name(std::string_view name) {
  for (const auto kind : {PasswordHashKind::sha512, PasswordHashKind::pbkdf2_sha512,
                          PasswordHashKind::argon2id, PasswordHashKind::scram_sha256}) {
    if (name == hash_kind_name(kind)) return kind;
  }
  return unexpected(fmt::format(
      "Unknown hash type '{}' (sha512-pbkdf2, argon2id, sha512 or scram-sha-256)", name));
}

std::string_view hash_kind_name(PasswordHashKind kind) {
  switch (kind) {
    case PasswordHashKind::sha512:
      return "sha512";
    case PasswordHashKind::pbkdf2_sha512:
      return "sha512-pbkdf2";
    case PasswordHashKind::argon2id:
      return "argon2id";
    case PasswordHashKind::scram_sha256:
      return "scram-sha-256";
  }
  return "?";
}

bool looks_like_password_hash(std::string_view field) {
  return field.starts_with(kSha512Prefix) || field.starts_with(kPbkdf2Prefix) ||
         field.starts_with(kArgon2idPrefix) || field.starts_with(kScramPrefix);
}

}  // namespace shardmq::broker
