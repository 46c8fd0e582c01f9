// SCRAM-SHA-256: the password-file entry (RFC 5803's form) and the server side of the exchange,
// driven with RFC 7677's example conversation.
#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "broker/auth/password_file.hpp"
#include "broker/auth/password_hash.hpp"
#include "broker/auth/scram_method.hpp"

using namespace shardmq::broker;
using Outcome = AuthStep::Outcome;

namespace {

// RFC 7677 section 3: user "user", password "pencil", salt and iterations as below. StoredKey and
// ServerKey computed with Python's hashlib and hmac from RFC 5802's definitions.
constexpr std::string_view kPencil =
    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
constexpr std::string_view kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

struct Fixture {
  std::shared_ptr<const PasswordFile> file;
  AuthConfig config;
  ScramSha256Method method;

  explicit Fixture(std::string_view text = "", std::uint32_t max_failures = 10)
      : file(load(text)),
        config(with_failures(max_failures)),
        method([this] { return file; }, config, [] { return std::string(kServerNonce); }) {}

  static std::shared_ptr<const PasswordFile> load(std::string_view text) {
    std::string all = fmt::format("user:{}\n{}", kPencil, text);
    auto parsed = PasswordFile::parse(all, "passwords");
    REQUIRE(parsed);
    return std::make_shared<const PasswordFile>(std::move(*parsed));
  }
  static AuthConfig with_failures(std::uint32_t max) {
    AuthConfig c;
    c.max_login_failures = max;
    return c;
  }
};

}  // namespace

TEST_CASE("a SCRAM-SHA-256 entry is read, written back and checks plain passwords") {
  auto hash = parse_password_hash(kPencil);
  REQUIRE(hash);
  CHECK(hash->kind == PasswordHashKind::scram_sha256);
  CHECK(hash->iterations == 4096);
  CHECK(hash->salt.size() == 16);
  CHECK(encode_password_hash(*hash) == kPencil);
  CHECK(check_password(*hash, "pencil").value());
  CHECK_FALSE(check_password(*hash, "pencil ").value());
  CHECK(looks_like_password_hash(kPencil));

  auto made = hash_password("pencil", PasswordHashKind::scram_sha256);
  REQUIRE(made);
  CHECK(made->starts_with("SCRAM-SHA-256$4096:"));
  CHECK(verify_password(*made, "pencil").value());
  CHECK_FALSE(verify_password(*made, "Pencil").value());
  auto fewer = hash_password("pencil", PasswordHashKind::scram_sha256, 5000);
  REQUIRE(fewer);
  CHECK(fewer->starts_with("SCRAM-SHA-256$5000:"));
  CHECK(parse_hash_kind_name("scram-sha-256").value() == PasswordHashKind::scram_sha256);
}

TEST_CASE("malformed SCRAM-SHA-256 entries are refused with the reason") {
  CHECK_FALSE(parse_password_hash("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==").has_value());
  CHECK_FALSE(parse_password_hash("SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$"
                                  "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
                                  "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=")
                  .has_value());
  auto short_key = parse_password_hash("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAA:AAAA");
  REQUIRE_FALSE(short_key);
  CHECK_THAT(short_key.error(), Catch::Matchers::Contains("32 bytes"));
}

TEST_CASE("the RFC 7677 conversation logs in and the broker proves itself") {
  Fixture f;
  auto exchange = f.method.start("127.0.0.1");
  AuthStep first = exchange->step(bytes(kClientFirst));
  REQUIRE(first.outcome == Outcome::more);
  CHECK(first.data == kServerFirst);
  AuthStep last = exchange->step(bytes(kClientFinal));
  REQUIRE(last.outcome == Outcome::accepted);
  CHECK(last.data == kServerFinal);
  CHECK(last.username == "user");
  // The exchange is over: another message is refused, not taken as a new start.
  CHECK(exchange->step(bytes(kClientFinal)).outcome == Outcome::not_authorised);
}

TEST_CASE("a wrong SCRAM proof is a bad password") {
  Fixture f;
  auto exchange = f.method.start("127.0.0.1");
  REQUIRE(exchange->step(bytes(kClientFirst)).outcome == Outcome::more);
  std::string wrong(kClientFinal);
  wrong[wrong.size() - 3] = wrong[wrong.size() - 3] == 'A' ? 'B' : 'A';
  AuthStep last = exchange->step(bytes(wrong));
  CHECK(last.outcome == Outcome::bad_credentials);
  CHECK(last.why == "wrong password");
  CHECK(last.username.empty());
}

TEST_CASE("an unknown SCRAM user gets a made-up salt that does not tell it apart") {
  Fixture f(
      "plain:$7$101$cEYwkY+I3MABchSj$"
      "4Dqs9ZvwchOnJTOjv17WbEorCGvDyLO2cyN2r84pac1wkHLJpThjiJibczmUXdRAaTXr9rktvOgR98t4EOOwGA==\n");
  auto salt_of = [&](std::string_view user) {
    auto exchange = f.method.start("127.0.0.1");
    AuthStep first = exchange->step(bytes(fmt::format("n,,n={},r=abc", user)));
    REQUIRE(first.outcome == Outcome::more);
    auto s = first.data.find(",s=");
    return first.data.substr(s, first.data.find(",i=") - s);
  };
  CHECK(salt_of("nobody") == salt_of("nobody"));
  CHECK(salt_of("nobody") != salt_of("somebody"));
  CHECK(salt_of("nobody") != salt_of("user"));

  for (std::string_view user : {"nobody", "plain"}) {  // unlisted, or listed without SCRAM keys
    auto exchange = f.method.start("127.0.0.1");
    REQUIRE(exchange->step(bytes(fmt::format("n,,n={},r=abc", user))).outcome == Outcome::more);
    AuthStep last = exchange->step(bytes(fmt::format(
        "c=biws,r=abc{},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", kServerNonce)));
    CHECK(last.outcome == Outcome::bad_credentials);
  }
}

TEST_CASE("SCRAM messages the broker cannot serve are refused") {
  Fixture f;
  auto refused = [&](std::string_view first) {
    auto exchange = f.method.start("127.0.0.1");
    return exchange->step(bytes(first)).outcome == Outcome::not_authorised;
  };
  CHECK(refused("p=tls-unique,,n=user,r=abc"));   // channel binding asked for
  CHECK(refused("n,,n=user,r=abc,m=ext"));        // a mandatory extension
  CHECK(refused("n=user,r=abc"));                 // no GS2 header
  CHECK(refused("n,,r=abc,n=user"));              // attributes out of order
  CHECK(refused("n,,n=us=er,r=abc"));             // a bad '=' escape
  CHECK(refused("n,a=other,n=user,r=abc"));       // acting for someone else
  CHECK_FALSE(refused("y,,n=user,r=abc"));        // could bind, thinks we cannot: fine
  CHECK_FALSE(refused("n,a=user,n=user,r=abc"));  // acting for itself: fine

  auto exchange = f.method.start("127.0.0.1");
  REQUIRE(exchange->step(bytes(kClientFirst)).outcome == Outcome::more);
  std::string other_nonce(kClientFinal);
  other_nonce.replace(other_nonce.find("rOpr"), 4, "XXXX");
  CHECK(exchange->step(bytes(other_nonce)).outcome == Outcome::not_authorised);

  auto unbound = f.method.start("127.0.0.1");
  REQUIRE(unbound->step(bytes(kClientFirst)).outcome == Outcome::more);
  std::string binding(kClientFinal);
  binding.replace(0, 6, "c=eSws");  // "y,," where the client sent "n,,"
  CHECK(unbound->step(bytes(binding)).outcome == Outcome::not_authorised);
}

TEST_CASE("failed SCRAM logins are limited per source address") {
  Fixture f("", 2);
  for (int i = 0; i < 2; ++i) {
    auto exchange = f.method.start("10.0.0.1");
    REQUIRE(exchange->step(bytes(kClientFirst)).outcome == Outcome::more);
    REQUIRE(exchange->step(bytes("c=biws,r=x,p=AAAA")).outcome == Outcome::not_authorised);
    auto bad = f.method.start("10.0.0.1");
    REQUIRE(bad->step(bytes(kClientFirst)).outcome == Outcome::more);
    std::string wrong(kClientFinal);
    wrong[wrong.size() - 3] = wrong[wrong.size() - 3] == 'A' ? 'B' : 'A';
    REQUIRE(bad->step(bytes(wrong)).outcome == Outcome::bad_credentials);
  }
  AuthStep blocked = f.method.start("10.0.0.1")->step(bytes(kClientFirst));
  CHECK(blocked.outcome == Outcome::not_authorised);
  CHECK(blocked.why == "too many failed logins from this address");
  // Another address is served, and the right password still works from it.
  auto other = f.method.start("10.0.0.2");
  REQUIRE(other->step(bytes(kClientFirst)).outcome == Outcome::more);
  CHECK(other->step(bytes(kClientFinal)).outcome == Outcome::accepted);
}
