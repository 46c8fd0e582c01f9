#include <catch2/catch.hpp>

#include <openssl/ssl.h>

#include <cstdio>
#include <filesystem>

#include "io/tls_context.hpp"
#include "io/tls_layer.hpp"
#include "tls_client.hpp"

using shardmq::io::ByteBlock;
using shardmq::io::ClientCertPolicy;
using shardmq::io::TlsContext;
using shardmq::io::TlsLayer;
using shardmq::io::TlsOptions;
using namespace shardmq::test;

namespace {

TlsOptions good_options() {
  TlsOptions o;
  o.cert_file = test_pki().server.cert;
  o.key_file = test_pki().server.key;
  o.ca_file = test_pki().ca_cert;
  return o;
}

std::string create_error(const TlsOptions& o) {
  auto r = TlsContext::create(o);
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

}  // namespace

TEST_CASE("TlsContext reports configuration errors as values", "[tls]") {
  TlsOptions o = good_options();
  SECTION("missing certificate file") {
    o.cert_file = "/nonexistent/server.crt";
    CHECK(create_error(o).find("cannot read certificate /nonexistent/server.crt: ") == 0);
  }
  SECTION("missing key file") {
    o.key_file = "/nonexistent/server.key";
    CHECK(create_error(o).find("cannot read private key /nonexistent/server.key") == 0);
  }
  SECTION("key of another certificate") {
    o.key_file = test_pki().client.key;
    CHECK(create_error(o).find("does not match certificate") != std::string::npos);
  }
  SECTION("missing CA file") {
    o.ca_file = "/nonexistent/ca.crt";
    CHECK(create_error(o).find("cannot read CA file /nonexistent/ca.crt") == 0);
  }
  SECTION("client certificates without a CA") {
    o.ca_file.clear();
    o.client_cert = ClientCertPolicy::required;
    CHECK(create_error(o) == "client certificates need a CA file");
  }
  SECTION("unknown minimum version") {
    o.min_version = "1.1";
    CHECK(create_error(o) == "tls_min_version must be 1.2 or 1.3, not '1.1'");
  }
  SECTION("bad cipher list") {
    o.ciphers = "NOT-A-CIPHER";
    CHECK(create_error(o).find("invalid ciphers 'NOT-A-CIPHER'") == 0);
  }
  SECTION("bad TLS 1.3 suites") {
    o.ciphersuites = "TLS_NOPE";
    CHECK(create_error(o).find("invalid ciphersuites 'TLS_NOPE'") == 0);
  }
  SECTION("no certificate at all") {
    o.cert_file.clear();
    CHECK(create_error(o) == "TLS needs a certificate file");
  }
}

TEST_CASE("client_cert policy parses from config text", "[tls]") {
  CHECK(*shardmq::io::parse_client_cert_policy("none") == ClientCertPolicy::none);
  CHECK(*shardmq::io::parse_client_cert_policy("optional") == ClientCertPolicy::optional);
  CHECK(*shardmq::io::parse_client_cert_policy("required") == ClientCertPolicy::required);
  CHECK_FALSE(shardmq::io::parse_client_cert_policy("maybe").has_value());
}

TEST_CASE("TLS cipher options restrict the negotiation", "[tls]") {
  TlsOptions o = good_options();
  o.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
  o.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
  auto ctx = TlsContext::create(o);
  REQUIRE(ctx.has_value());
  int version = GENERATE(TLS1_2_VERSION, TLS1_3_VERSION);
  TlsLayer server(*ctx);
  TlsClient client(nullptr, version);
  ByteBlock app_in;
  REQUIRE(pump(client, server, app_in));
  std::string cipher = SSL_get_cipher_name(client.ssl());
  CHECK(cipher == (version == TLS1_2_VERSION ? "ECDHE-ECDSA-AES128-GCM-SHA256"
                                             : "TLS_CHACHA20_POLY1305_SHA256"));
}

TEST_CASE("TlsContext reload builds a new context; live sessions keep the old one", "[tls]") {
  // Work on copies so the test can break the files.
  std::string dir = test_pki().dir + "/reload";
  std::filesystem::create_directories(dir);
  TlsOptions o = good_options();
  std::filesystem::copy_file(o.cert_file, dir + "/s.crt",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(o.key_file, dir + "/s.key",
                             std::filesystem::copy_options::overwrite_existing);
  o.cert_file = dir + "/s.crt";
  o.key_file = dir + "/s.key";
  auto first = TlsContext::create(o);
  REQUIRE(first.has_value());
  std::shared_ptr<TlsContext> ctx = *first;

  TlsLayer old_conn(ctx);
  TlsClient old_client(nullptr);
  ByteBlock app_in;
  REQUIRE(pump(old_client, old_conn, app_in));

  auto reloaded = ctx->reload();
  REQUIRE(reloaded.has_value());
  CHECK(reloaded.value().get() != ctx.get());
  CHECK(reloaded.value()->native() != ctx->native());
  CHECK(reloaded.value()->options().cert_file == o.cert_file);
  ctx.reset();  // the config drops the old context; the live connection still holds it

  old_client.write("still here");
  REQUIRE(pump(old_client, old_conn, app_in));
  CHECK(text(app_in) == "still here");

  TlsLayer new_conn(*reloaded);
  TlsClient new_client(nullptr);
  REQUIRE(pump(new_client, new_conn, app_in));
  CHECK(new_conn.handshake_done());

  // A reload that cannot read the files fails and leaves the caller's context alone.
  std::filesystem::remove(o.key_file);
  auto broken = reloaded.value()->reload();
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().find("cannot read private key " + o.key_file) == 0);
}
