#include "test_pki.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace shardmq::test {

namespace {

struct Issuer {
  X509* cert;
  EVP_PKEY* key;
};

void add_ext(X509* x, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  if (!ext) throw std::runtime_error("X509V3_EXT_conf_nid failed");
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
}

// Self-signed when issuer.cert is null.
X509* make_cert(EVP_PKEY* key, const char* cn, const char* san, bool ca, Issuer issuer,
                long serial) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("shardmq tests"), -1, -1, 0);
  if (cn)
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                               -1, -1, 0);
  X509_set_issuer_name(x, issuer.cert ? X509_get_subject_name(issuer.cert) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer.cert ? issuer.cert : x, x, nullptr, nullptr, 0);
  add_ext(x, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (ca) add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  if (san) add_ext(x, &ctx, NID_subject_alt_name, san);
  X509_sign(x, issuer.key ? issuer.key : key, EVP_sha256());
  return x;
}

void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + path);
  if (cert) PEM_write_X509(f, cert);
  if (key) PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

KeyPair leaf(const std::string& dir, const char* name, const char* cn, const char* san,
             Issuer issuer, long serial) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = make_cert(key, cn, san, false, issuer, serial);
  KeyPair kp{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  write_pem(kp.cert, cert, nullptr);
  write_pem(kp.key, nullptr, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return kp;
}

TestPki build() {
  char tmpl[] = "/tmp/shardmq-pki-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  TestPki pki;
  pki.dir = tmpl;

  EVP_PKEY* ca_key = EVP_EC_gen("P-256");
  X509* ca = make_cert(ca_key, "shardmq test CA", nullptr, true, {nullptr, nullptr}, 1);
  pki.ca_cert = pki.dir + "/ca.crt";
  write_pem(pki.ca_cert, ca, nullptr);

  EVP_PKEY* rogue_key = EVP_EC_gen("P-256");
  X509* rogue_ca = make_cert(rogue_key, "rogue CA", nullptr, true, {nullptr, nullptr}, 1);

  pki.server = leaf(pki.dir, "server", "localhost", "DNS:localhost", {ca, ca_key}, 2);
  pki.client = leaf(pki.dir, "client", "alice", nullptr, {ca, ca_key}, 3);
  pki.san_client = leaf(pki.dir, "san", nullptr, "DNS:bob.example,DNS:other", {ca, ca_key}, 4);
  pki.rogue = leaf(pki.dir, "rogue", "mallory", nullptr, {rogue_ca, rogue_key}, 5);

  X509_free(ca);
  X509_free(rogue_ca);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(rogue_key);
  return pki;
}

// A plain array, still alive when the atexit handler runs after static destructors.
char g_dir[64];

}  // namespace

const TestPki& test_pki() {
  static const TestPki pki = [] {
    TestPki p = build();
    std::snprintf(g_dir, sizeof g_dir, "%s", p.dir.c_str());
    std::atexit([] { std::filesystem::remove_all(g_dir); });
    return p;
  }();
  return pki;
}

}  // namespace shardmq::test
