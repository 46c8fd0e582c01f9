#include "io/tls_context.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

namespace shardmq::io {

std::string take_openssl_errors() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Result<ClientCertPolicy, std::string> parse_client_cert_policy(const std::string& s) {
  if (s == "none") return ClientCertPolicy::none;
  if (s == "optional") return ClientCertPolicy::optional;
  if (s == "required") return ClientCertPolicy::required;
  return unexpected("client_cert must be none, optional or required, not '" + s + "'");
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

namespace {

struct CtxGuard {
  SSL_CTX* p;
  ~CtxGuard() { SSL_CTX_free(p); }
  SSL_CTX* release() { return std::exchange(p, nullptr); }
};

// Same for every context so sessions stay valid for resumption with client verification
// (OpenSSL refuses to resume a verified session without a session id context).
constexpr unsigned char kSessionIdContext[] = "shardmq";

}  // namespace

Result<std::shared_ptr<TlsContext>, std::string> TlsContext::create(const TlsOptions& opts) {
  ERR_clear_error();
  auto fail = [](std::string what) { return unexpected(what + ": " + take_openssl_errors()); };

  int min_version;
  if (opts.min_version == "1.2" || opts.min_version.empty()) {
    min_version = TLS1_2_VERSION;
  } else if (opts.min_version == "1.3") {
    min_version = TLS1_3_VERSION;
  } else {
    return unexpected("tls_min_version must be 1.2 or 1.3, not '" + opts.min_version + "'");
  }
  if (opts.cert_file.empty()) return unexpected(std::string("TLS needs a certificate file"));
  if (opts.key_file.empty()) return unexpected(std::string("TLS needs a key file"));
  if (opts.client_cert != ClientCertPolicy::none && opts.ca_file.empty())
    return unexpected(std::string("client certificates need a CA file"));

  CtxGuard ctx{SSL_CTX_new(TLS_server_method())};
  if (!ctx.p) return fail("cannot create TLS context");
  SSL_CTX_set_min_proto_version(ctx.p, min_version);
  // Renegotiation only serves attackers here; small idle buffers matter at 1M connections.
  SSL_CTX_set_options(ctx.p, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx.p, SSL_MODE_RELEASE_BUFFERS);

  if (!opts.ciphers.empty() && SSL_CTX_set_cipher_list(ctx.p, opts.ciphers.c_str()) != 1)
    return fail("invalid ciphers '" + opts.ciphers + "'");
  if (!opts.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx.p, opts.ciphersuites.c_str()) != 1)
    return fail("invalid ciphersuites '" + opts.ciphersuites + "'");

  if (SSL_CTX_use_certificate_chain_file(ctx.p, opts.cert_file.c_str()) != 1)
    return fail("cannot read certificate " + opts.cert_file);
  // Read the key apart from installing it, so a mismatch gets its own message.
  EVP_PKEY* key = nullptr;
  if (BIO* f = BIO_new_file(opts.key_file.c_str(), "r")) {
    key = PEM_read_bio_PrivateKey(f, nullptr, nullptr, nullptr);
    BIO_free(f);
  }
  if (!key) return fail("cannot read private key " + opts.key_file);
  int used = SSL_CTX_use_PrivateKey(ctx.p, key);
  EVP_PKEY_free(key);
  if (used != 1 || SSL_CTX_check_private_key(ctx.p) != 1)
    return fail("private key " + opts.key_file + " does not match certificate " + opts.cert_file);

  if (!opts.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.p, opts.ca_file.c_str(), nullptr) != 1)
      return fail("cannot read CA file " + opts.ca_file);
    // Tells clients which CAs we accept, so they pick the right certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(opts.ca_file.c_str());
    if (!names) return fail("cannot read CA names from " + opts.ca_file);
    SSL_CTX_set_client_CA_list(ctx.p, names);
  }
  int verify = SSL_VERIFY_NONE;
  if (opts.client_cert == ClientCertPolicy::optional) verify = SSL_VERIFY_PEER;
  if (opts.client_cert == ClientCertPolicy::required)
    verify = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx.p, verify, nullptr);

  // Resumption: a server-side session cache (TLS 1.2 session ids) and tickets (on by
  // default, stateless; the keys are per context, so tickets do not survive a reload).
  SSL_CTX_set_session_cache_mode(ctx.p, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx.p, 20000);
  SSL_CTX_set_session_id_context(ctx.p, kSessionIdContext, sizeof kSessionIdContext - 1);

  ERR_clear_error();
  return std::shared_ptr<TlsContext>(new TlsContext(ctx.release(), opts));
}

}  // namespace shardmq::io
