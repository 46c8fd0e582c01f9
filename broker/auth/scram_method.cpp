#include "broker/auth/scram_method.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <optional>
#include <vector>

#include "broker/auth/base64.hpp"
#include "broker/auth/scram_keys.hpp"

namespace shardmq::broker {
namespace {

using Outcome = AuthStep::Outcome;

std::string random_base64(std::size_t bytes) {
  std::vector<std::uint8_t> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) return {};
  return encode_base64(raw, Base64Padding::required);
}

// "=2C" is ',' and "=3D" is '=' in a SCRAM user name; any other '=' is malformed (RFC 5802
// section 5.1).
std::optional<std::string> decode_saslname(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ',') return std::nullopt;
    if (s[i] != '=') {
      out.push_back(s[i]);
      continue;
    }
    const std::string_view code = s.substr(i + 1, 2);
    if (code == "2C")
      out.push_back(',');
    else if (code == "3D")
      out.push_back('=');
    else
      return std::nullopt;
    i += 2;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

struct Attribute {
  char name;
  std::string_view value;
};

// "n=user,r=abc" as its attributes, in order; nullopt when one is not "x=value".
std::optional<std::vector<Attribute>> attributes(std::string_view text) {
  std::vector<Attribute> out;
  while (true) {
    const auto comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    if (part.size() < 2 || part[1] != '=') return std::nullopt;
    out.push_back({part[0], part.substr(2)});
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

// A nonce is printable ASCII other than ','.
bool valid_nonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (char c : nonce)
    if (c < 0x21 || c > 0x7E || c == ',') return false;
  return true;
}

}  // namespace

class ScramSha256Method::Exchange final : public AuthExchange {
 public:
  Exchange(ScramSha256Method& method, std::string_view address)
      : method_(method), address_(address) {}

  AuthStep step(std::span<const std::byte> data) override {
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    switch (stage_) {
      case Stage::client_first:
        return client_first(text);
      case Stage::client_final:
        return client_final(text);
      case Stage::done:
        break;
    }
    return refuse(Outcome::not_authorised, "the SCRAM exchange is over");
  }

 private:
  enum class Stage : std::uint8_t { client_first, client_final, done };

  AuthStep refuse(Outcome outcome, std::string why) {
    stage_ = Stage::done;
    if (outcome == Outcome::bad_credentials) method_.failures_.failed(address_, steady_now_s());
    AuthStep s;
    s.outcome = outcome;
    s.why = std::move(why);
    return s;
  }

  // gs2-header client-first-message-bare: "n,," or "y,," (or with "a=AUTHZID"), then
  // "n=USER,r=NONCE[,extensions]".
  AuthStep client_first(std::string_view m) {
    if (m.starts_with("p="))
      return refuse(Outcome::not_authorised, "SCRAM channel binding is not supported");
    if (!m.starts_with("n,") && !m.starts_with("y,"))
      return refuse(Outcome::not_authorised, "malformed SCRAM client-first message");
    const auto header_end = m.find(',', 2);
    if (header_end == std::string_view::npos)
      return refuse(Outcome::not_authorised, "malformed SCRAM client-first message");
    gs2_header_ = m.substr(0, header_end + 1);
    const std::string_view authzid = m.substr(2, header_end - 2);
    bare_ = m.substr(header_end + 1);
    auto attrs = attributes(bare_);
    if (!attrs || attrs->size() < 2 || (*attrs)[0].name != 'n' || (*attrs)[1].name != 'r')
      return refuse(Outcome::not_authorised, "malformed SCRAM client-first message");
    for (const Attribute& a : *attrs)
      if (a.name == 'm')
        return refuse(Outcome::not_authorised, "SCRAM mandatory extension not supported");
    auto user = decode_saslname((*attrs)[0].value);
    if (!user || !valid_nonce((*attrs)[1].value))
      return refuse(Outcome::not_authorised, "malformed SCRAM client-first message");
    username_ = std::move(*user);
    if (!authzid.empty()) {
      auto as = authzid.starts_with("a=") ? decode_saslname(authzid.substr(2)) : std::nullopt;
      if (!as || *as != username_)
        return refuse(Outcome::not_authorised, "SCRAM authorisation identity is not the user");
    }
    if (method_.failures_.blocked(address_, steady_now_s()))
      return refuse(Outcome::not_authorised, "too many failed logins from this address");

    std::span<const std::uint8_t> salt;
    std::uint32_t iterations = kDefaultScramIterations;
    auto passwords = method_.passwords_ ? method_.passwords_() : nullptr;
    const PasswordEntry* entry = passwords ? passwords->find(username_) : nullptr;
    Sha256Digest made_up_salt{};
    if (entry && entry->hash.kind == PasswordHashKind::scram_sha256) {
      known_ = true;
      salt = entry->hash.salt;
      iterations = entry->hash.iterations;
      std::copy(entry->hash.digest.begin(), entry->hash.digest.end(), keys_.stored_key.begin());
      std::copy(entry->hash.server_key.begin(), entry->hash.server_key.end(),
                keys_.server_key.begin());
    } else {
      const auto secret = std::span(reinterpret_cast<const std::uint8_t*>(method_.secret_.data()),
                                    method_.secret_.size());
      made_up_salt = hmac_sha256(secret, username_);
      salt = std::span(made_up_salt).first(kScramSaltBytes);
      unknown_why_ = entry ? "the user has no SCRAM-SHA-256 entry" : "unknown user";
    }
    nonce_ = std::string((*attrs)[1].value) + method_.nonce_();
    server_first_ = fmt::format("r={},s={},i={}", nonce_,
                                encode_base64(salt, Base64Padding::required), iterations);
    stage_ = Stage::client_final;
    AuthStep s;
    s.outcome = Outcome::more;
    s.data = server_first_;
    return s;
  }

  // "c=GS2-HEADER-BASE64,r=NONCE[,extensions],p=PROOF".
  AuthStep client_final(std::string_view m) {
    const auto proof_at = m.rfind(",p=");
    if (proof_at == std::string_view::npos)
      return refuse(Outcome::not_authorised, "malformed SCRAM client-final message");
    const std::string_view without_proof = m.substr(0, proof_at);
    auto attrs = attributes(without_proof);
    if (!attrs || attrs->size() < 2 || (*attrs)[0].name != 'c' || (*attrs)[1].name != 'r')
      return refuse(Outcome::not_authorised, "malformed SCRAM client-final message");
    auto binding = decode_base64((*attrs)[0].value, Base64Padding::required);
    if (!binding || std::string_view(reinterpret_cast<const char*>(binding->data()),
                                     binding->size()) != gs2_header_)
      return refuse(Outcome::not_authorised, "SCRAM channel binding data does not match");
    if ((*attrs)[1].value != nonce_)
      return refuse(Outcome::not_authorised, "SCRAM nonce does not match");
    auto proof = decode_base64(m.substr(proof_at + 3), Base64Padding::required);
    if (!proof || proof->size() != sizeof(Sha256Digest))
      return refuse(Outcome::not_authorised, "malformed SCRAM client proof");
    const std::string auth_message = fmt::format("{},{},{}", bare_, server_first_, without_proof);
    Sha256Digest client_key = hmac_sha256(keys_.stored_key, auth_message);
    for (std::size_t i = 0; i < client_key.size(); ++i)
      client_key[i] ^= (*proof)[i];
    if (!known_) return refuse(Outcome::bad_credentials, unknown_why_);
    if (!same_digest(sha256(client_key), keys_.stored_key))
      return refuse(Outcome::bad_credentials, "wrong password");
    stage_ = Stage::done;
    AuthStep s;
    s.outcome = Outcome::accepted;
    s.data =
        "v=" + encode_base64(hmac_sha256(keys_.server_key, auth_message), Base64Padding::required);
    s.username = username_;
    return s;
  }

  ScramSha256Method& method_;
  std::string address_;
  Stage stage_ = Stage::client_first;
  bool known_ = false;
  const char* unknown_why_ = "";
  std::string username_, gs2_header_, bare_, nonce_, server_first_;
  ScramKeys keys_;
};

ScramSha256Method::ScramSha256Method(PasswordSource passwords, const AuthConfig& config,
                                     NonceSource nonce)
    : passwords_(std::move(passwords)),
      nonce_(nonce ? std::move(nonce) : NonceSource([] { return random_base64(18); })),
      failures_(config.max_login_failures, config.login_failure_window_s),
      secret_(random_base64(32)) {}

std::unique_ptr<AuthExchange> ScramSha256Method::start(std::string_view peer_address) {
  return std::make_unique<Exchange>(*this, peer_address);
}

}  // namespace shardmq::broker
