#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "broker/auth/password_hash.hpp"

using namespace shardmq::broker;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// Written by Debian 12's mosquitto_passwd 2.0.11 (`mosquitto_passwd -b FILE user PASSWORD`).
constexpr std::string_view kMosquittoPbkdf2 =  // password "new"
    "$7$101$cEYwkY+I3MABchSj$4Dqs9ZvwchOnJTOjv17WbEorCGvDyLO2cyN2r84pac1wkHLJpThjiJibczmUXdRAaTXr9r"
    "ktvOgR98t4EOOwGA==";
constexpr std::string_view kMosquittoPbkdf2Rounds5 =  // -I 5, password "y"
    "$7$5$cGJay97/Rys/dYuA$9qE3mCc+NZz3vpypxiLC5Rm6aJjpjq/UNSbWwQ293gZwTACPv1MkXwgGLbdO9kGngP/ZCFaP"
    "Gn0u6TZ7ebot/A==";
constexpr std::string_view kMosquittoSha512 =  // -H sha512, password "hunter2"
    "$6$ec7XerBZRyCP3Qma$Y6Y9kyhLwiAmxNbX8p442gvTzK1qMoxzmB94Nt8tsZ0JLd2OYVSigtH79gTLy3gSC9kn+"
    "sO6bw2"
    "MdgV+kHRmmg==";

// Made by hand with Python's hashlib, from the formats rather than from any tool:
//   salt = b"shardmq-salt"; "$6$" + b64(salt) + "$" + b64(sha512(b"correct horse" + salt))
constexpr std::string_view kHashlibSha512 =
    "$6$c2hhcmRtcS1zYWx0$atIw8/0F2mToKIgNh8afeGCa+DGgbw2uyI6K5O/"
    "kVDEXNZuHHK9YT2dUTyrBu46jUzPw9+BEAt6"
    "JI0ejGmzdpw==";
//   salt = sha512(b"pbkdf2 salt") (64 bytes, as Mosquitto 2.1 writes), 1000 rounds,
//   pbkdf2_hmac("sha512", b"open sesame", salt, 1000, 64)
constexpr std::string_view kHashlibPbkdf2LongSalt =
    "$7$1000$eFz3kfeKeuPnXc/ZSlQN6tpYwFe3zVgZeUXOkaZOCZIByVD6tDGOVOcCTciXpHx+zTPOoAl4vg+/"
    "8R+0BILiyw=="
    "$AMSq2ML/3hlPhj3Us5pNz5JUGa6FrbAoBoCIyr6pT2P9iU3sFWqFV6h4UMtHpENQUe/SeMlqqZfK1/EKYg/mlQ==";

// libargon2's own test vector (password "password", salt "somesalt", t=2, m=64 MiB, p=1).
constexpr std::string_view kArgon2Reference =
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
// A line shaped as Mosquitto 2.1 writes it (t=1, m=47104, p=1, 64-byte salt and digest), from
// libargon2's argon2id_hash_encoded through Python's ctypes; password
// "correct horse battery staple".
constexpr std::string_view kArgon2Mosquitto21 =
    "$argon2id$v=19$m=47104,t=1,p=1$iBjyFwO1l+HCn1Eb4b4eKhNp7+8sXXLLCMzTHx4UaRA4ZWiQMgktb0I7PMBLKit"
    "RfHMtCPDVanKwcLVsMzRy9Q$CmsswDBnCDwrGQC935sYW8wCEikAHNcPnSb2i1Nu0Y/Zs68RY3fhAc8bNwpgRsYJLGqNk5"
    "66fWQDAcf1ixoj/w";

bool verifies(std::string_view encoded, std::string_view password) {
  auto result = verify_password(encoded, password);
  REQUIRE(result.has_value());
  return *result;
}

std::string parse_error(std::string_view encoded) {
  auto result = parse_password_hash(encoded);
  return result ? std::string() : result.error();
}

}  // namespace

TEST_CASE("password hash: lines from mosquitto_passwd 2.0 verify", "[auth][hash]") {
  CHECK(verifies(kMosquittoPbkdf2, "new"));
  CHECK(verifies(kMosquittoPbkdf2Rounds5, "y"));
  CHECK(verifies(kMosquittoSha512, "hunter2"));

  auto pbkdf2 = parse_password_hash(kMosquittoPbkdf2);
  REQUIRE(pbkdf2.has_value());
  CHECK(pbkdf2->kind == PasswordHashKind::pbkdf2_sha512);
  CHECK(pbkdf2->iterations == 101);
  CHECK(pbkdf2->salt.size() == 12);
  CHECK(pbkdf2->digest.size() == 64);
  auto sha512 = parse_password_hash(kMosquittoSha512);
  REQUIRE(sha512.has_value());
  CHECK(sha512->kind == PasswordHashKind::sha512);
  CHECK(sha512->salt.size() == 12);
}

TEST_CASE("password hash: vectors built from the formats by hand verify", "[auth][hash]") {
  // Mosquitto's $6$ is one SHA-512 of password then salt, not crypt(3)'s SHA-512 scheme.
  CHECK(verifies(kHashlibSha512, "correct horse"));
  CHECK(verifies(kHashlibPbkdf2LongSalt, "open sesame"));
  auto long_salt = parse_password_hash(kHashlibPbkdf2LongSalt);
  REQUIRE(long_salt.has_value());
  CHECK(long_salt->salt.size() == 64);
  CHECK(long_salt->iterations == 1000);
}

TEST_CASE("password hash: argon2id as libargon2 and Mosquitto 2.1 write it", "[auth][hash]") {
  CHECK(verifies(kArgon2Reference, "password"));
  CHECK_FALSE(verifies(kArgon2Reference, "passwore"));
  CHECK(verifies(kArgon2Mosquitto21, "correct horse battery staple"));
  CHECK_FALSE(verifies(kArgon2Mosquitto21, "correct horse battery stapler"));

  auto hash = parse_password_hash(kArgon2Mosquitto21);
  REQUIRE(hash.has_value());
  CHECK(hash->kind == PasswordHashKind::argon2id);
  CHECK(hash->memory_kib == 47104);
  CHECK(hash->iterations == 1);
  CHECK(hash->lanes == 1);
  CHECK(hash->salt.size() == 64);
  CHECK(hash->digest.size() == 64);
}

TEST_CASE("password hash: wrong passwords are refused", "[auth][hash]") {
  CHECK_FALSE(verifies(kMosquittoPbkdf2, "New"));
  CHECK_FALSE(verifies(kMosquittoPbkdf2, "new "));
  CHECK_FALSE(verifies(kMosquittoPbkdf2, ""));
  CHECK_FALSE(verifies(kMosquittoSha512, "hunter"));
  CHECK_FALSE(verifies(kMosquittoSha512, "hunter22"));
  CHECK_FALSE(verifies(kHashlibSha512, "correct horse "));
  CHECK_FALSE(verifies(kHashlibPbkdf2LongSalt, "open sesamE"));
  CHECK_FALSE(verifies(kMosquittoPbkdf2Rounds5, "x"));
}

TEST_CASE("password hash: the text form reads back unchanged", "[auth][hash]") {
  for (const auto encoded :
       {kMosquittoPbkdf2, kMosquittoPbkdf2Rounds5, kMosquittoSha512, kHashlibSha512,
        kHashlibPbkdf2LongSalt, kArgon2Reference, kArgon2Mosquitto21}) {
    auto hash = parse_password_hash(encoded);
    REQUIRE(hash.has_value());
    CHECK(encode_password_hash(*hash) == encoded);
  }
}

TEST_CASE("password hash: malformed hashes are errors, not wrong passwords", "[auth][hash]") {
  const std::string salt = "cEYwkY+I3MABchSj";  // 12 bytes
  const std::string digest =
      "4Dqs9ZvwchOnJTOjv17WbEorCGvDyLO2cyN2r84pac1wkHLJpThjiJibczmUXdRAaTXr9rktvOgR98t4EOOwGA==";
  REQUIRE(parse_error("$7$101$" + salt + "$" + digest).empty());

  CHECK_THAT(parse_error(""), Contains("empty"));
  CHECK_THAT(parse_error("secret"), Contains("plain-text password"));
  CHECK_THAT(parse_error("$5$" + salt + "$" + digest), Contains("unknown hash type '$5$'"));
  CHECK_THAT(parse_error("$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHA"),
             Contains("unknown hash type '$argon2i$'"));

  CHECK_THAT(parse_error("$6$" + salt), Contains("expected $6$SALT$DIGEST"));
  CHECK_THAT(parse_error("$6$" + salt + "$" + digest + "$"), Contains("expected $6$SALT$DIGEST"));
  CHECK_THAT(parse_error("$6$!!!!" + salt + "$" + digest), Contains("not valid base64"));
  CHECK_THAT(parse_error("$6$cEYwkY+I3MABchS$" + digest), Contains("not valid base64"));
  CHECK_THAT(parse_error("$6$c29tZXNhbHQ=$" + digest),  // 8 bytes
             Contains("salt is 8 bytes; Mosquitto reads 12 or 64"));
  CHECK_THAT(parse_error("$6$" + salt + "$" + salt), Contains("digest is 12 bytes, not 64"));
  CHECK_THAT(parse_error("$6$" + salt + "$" + digest.substr(0, 86)), Contains("not valid base64"));

  CHECK_THAT(parse_error("$7$" + salt + "$" + digest), Contains("expected $7$ROUNDS$SALT$DIGEST"));
  for (const auto* rounds : {"0", "-5", "+5", "abc", "101x", "", "4294967296", "2147483648"}) {
    CAPTURE(rounds);
    CHECK_THAT(parse_error(std::string("$7$") + rounds + "$" + salt + "$" + digest),
               Contains("iteration count"));
  }

  const std::string argon_salt = "c29tZXNhbHQ";
  const std::string argon_digest = "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
  auto argon2 = [&](const std::string& version, const std::string& params) {
    return parse_error("$argon2id$" + version + "$" + params + "$" + argon_salt + "$" +
                       argon_digest);
  };
  REQUIRE(argon2("v=19", "m=65536,t=2,p=1").empty());
  CHECK_THAT(argon2("v=16", "m=65536,t=2,p=1"), Contains("version 'v=16' is not supported"));
  CHECK_THAT(parse_error("$argon2id$m=65536,t=2,p=1$" + argon_salt + "$" + argon_digest),
             Contains("expected $argon2id$v=19$"));
  CHECK_THAT(argon2("v=19", "t=2,m=65536,p=1"), Contains("not m=KIB,t=PASSES,p=LANES"));
  CHECK_THAT(argon2("v=19", "m=65536,t=2"), Contains("not m=KIB,t=PASSES,p=LANES"));
  CHECK_THAT(argon2("v=19", "m=65536,t=0,p=1"), Contains("out of range"));
  CHECK_THAT(argon2("v=19", "m=65536,t=2,p=0"), Contains("out of range"));
  CHECK_THAT(argon2("v=19", "m=15,t=2,p=2"), Contains("less than 8 KiB per lane"));
  CHECK_THAT(parse_error("$argon2id$v=19$m=65536,t=2,p=1$c29tZQ$" + argon_digest),
             Contains("salt is 4 bytes, less than 8"));
  CHECK_THAT(parse_error("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ=$" + argon_digest),
             Contains("not valid base64"));  // the PHC string has no padding
  CHECK_THAT(parse_error("$argon2id$v=19$m=65536,t=2,p=1$" + argon_salt + "$Q"),
             Contains("not valid base64"));

  auto verified = verify_password("$7$101$" + salt, "new");
  REQUIRE_FALSE(verified.has_value());
  CHECK_THAT(verified.error(), Contains("expected $7$ROUNDS$SALT$DIGEST"));
}

TEST_CASE("password hash: new hashes have fresh salts and the documented shape", "[auth][hash]") {
  SECTION("sha512-pbkdf2, the default") {
    auto encoded = hash_password("s3cret", PasswordHashKind::pbkdf2_sha512);
    REQUIRE(encoded.has_value());
    CHECK_THAT(*encoded, StartsWith("$7$1000$"));
    auto hash = parse_password_hash(*encoded);
    REQUIRE(hash.has_value());
    CHECK(hash->salt.size() == 12);  // the only length Mosquitto 2.0 reads
    CHECK(hash->digest.size() == 64);
    CHECK(verifies(*encoded, "s3cret"));
    CHECK_FALSE(verifies(*encoded, "s3cret!"));
    auto again = hash_password("s3cret", PasswordHashKind::pbkdf2_sha512);
    REQUIRE(again.has_value());
    CHECK(*again != *encoded);
  }
  SECTION("sha512-pbkdf2 with chosen rounds (mosquitto_passwd -I)") {
    auto encoded = hash_password("s3cret", PasswordHashKind::pbkdf2_sha512, 7);
    REQUIRE(encoded.has_value());
    CHECK_THAT(*encoded, StartsWith("$7$7$"));
    CHECK(verifies(*encoded, "s3cret"));
    CHECK_FALSE(hash_password("s3cret", PasswordHashKind::pbkdf2_sha512, 0).has_value());
  }
  SECTION("sha512") {
    auto encoded = hash_password("s3cret", PasswordHashKind::sha512);
    REQUIRE(encoded.has_value());
    CHECK_THAT(*encoded, StartsWith("$6$"));
    auto hash = parse_password_hash(*encoded);
    REQUIRE(hash.has_value());
    CHECK(hash->salt.size() == 12);
    CHECK(verifies(*encoded, "s3cret"));
    CHECK_FALSE(verifies(*encoded, "S3cret"));
  }
  SECTION("argon2id, round trip") {
    auto encoded = hash_password("s3cret", PasswordHashKind::argon2id);
    REQUIRE(encoded.has_value());
    CHECK_THAT(*encoded, StartsWith("$argon2id$v=19$m=47104,t=1,p=1$"));
    auto hash = parse_password_hash(*encoded);
    REQUIRE(hash.has_value());
    CHECK(hash->salt.size() == 64);
    CHECK(hash->digest.size() == 64);
    CHECK(verifies(*encoded, "s3cret"));
    CHECK_FALSE(verifies(*encoded, "s3creT"));
  }
}

TEST_CASE("password hash: any bytes are a password, the empty one too", "[auth][hash]") {
  auto empty = hash_password("", PasswordHashKind::pbkdf2_sha512);
  REQUIRE(empty.has_value());
  CHECK(verifies(*empty, ""));
  CHECK_FALSE(verifies(*empty, " "));

  // MQTT passwords are binary. Mosquitto stops at a NUL (it uses strlen); every byte counts here.
  const std::string with_nul("ab\0cd", 5);
  auto hashed = hash_password(with_nul, PasswordHashKind::pbkdf2_sha512);
  REQUIRE(hashed.has_value());
  CHECK(verifies(*hashed, with_nul));
  CHECK_FALSE(verifies(*hashed, "ab"));

  const std::string utf8 = "p\xC3\xA4ssw\xC3\xB6rd:with$colons";
  auto unicode = hash_password(utf8, PasswordHashKind::argon2id);
  REQUIRE(unicode.has_value());
  CHECK(verifies(*unicode, utf8));
}

TEST_CASE("password hash: mosquitto_passwd's -H names", "[auth][hash]") {
  for (const auto kind :
       {PasswordHashKind::sha512, PasswordHashKind::pbkdf2_sha512, PasswordHashKind::argon2id}) {
    auto back = parse_hash_kind_name(hash_kind_name(kind));
    REQUIRE(back.has_value());
    CHECK(*back == kind);
  }
  CHECK(hash_kind_name(PasswordHashKind::pbkdf2_sha512) == "sha512-pbkdf2");
  auto unknown = parse_hash_kind_name("bcrypt");
  REQUIRE_FALSE(unknown.has_value());
  CHECK_THAT(unknown.error(), Contains("Unknown hash type 'bcrypt'"));

  CHECK(looks_like_password_hash("$7$101$x"));
  CHECK(looks_like_password_hash("$6$x"));
  CHECK(looks_like_password_hash("$argon2id$v=19"));
  CHECK_FALSE(looks_like_password_hash("secret"));
  CHECK_FALSE(looks_like_password_hash("$argon2i$v=19"));
  CHECK_FALSE(looks_like_password_hash("$7"));
}
