#include "loadgen/tls_client.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>

#include <climits>

namespace shardmq::loadgen {

namespace {

std::string pop_errors() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

// Maps SSL_get_error; the error queue is emptied on failure so the next call starts clean
// (SSL_get_error reads it).
TlsStep classify(SSL* ssl, int ret) {
  switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
      return TlsStep::WantRead;
    case SSL_ERROR_WANT_WRITE:
      return TlsStep::WantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return TlsStep::Closed;
    case SSL_ERROR_SYSCALL:
      // EOF or reset without close_notify: the peer went away.
      if (ERR_peek_error() == 0) return TlsStep::Closed;
      return TlsStep::Failed;
    default:
      return TlsStep::Failed;
  }
}

}  // namespace

std::unique_ptr<TlsClientContext> TlsClientContext::create(const Options& o, std::string& error) {
  std::unique_ptr<TlsClientContext> t(new TlsClientContext());
  t->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!t->ctx_) {
    error = "SSL_CTX_new: " + pop_errors();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(t->ctx_, TLS1_2_VERSION);
  // Partial writes: SSL_write returns after each record, so one flush writes what the
  // socket takes and keeps the rest in our buffer, which may move (OutBuffer compacts).
  SSL_CTX_set_mode(t->ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Every client does a full handshake, as distinct devices would.
  SSL_CTX_set_session_cache_mode(t->ctx_, SSL_SESS_CACHE_OFF);
  // Fewer read() calls per record; ClientLoop rereads sessions left holding bytes.
  SSL_CTX_set_read_ahead(t->ctx_, 1);
  t->verify_ = !o.insecure;
  if (t->verify_) {
    int ok = o.cafile.empty() ? SSL_CTX_set_default_verify_paths(t->ctx_)
                              : SSL_CTX_load_verify_locations(t->ctx_, o.cafile.c_str(), nullptr);
    if (ok != 1) {
      error = "cannot load CA " + (o.cafile.empty() ? std::string("store") : o.cafile) + ": " +
              pop_errors();
      return nullptr;
    }
    SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_NONE, nullptr);
  }
  t->host_ = o.host;
  in_addr a{};
  t->host_is_ip_ = inet_pton(AF_INET, o.host.c_str(), &a) == 1;
  // SSL_set_fd writes with write(): a reset peer must not kill the process with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  return t;
}

TlsClientContext::~TlsClientContext() {
  SSL_CTX_free(ctx_);
}

SSL* TlsClientContext::attach(int fd) const {
  SSL* ssl = SSL_new(ctx_);
  if (!ssl) return nullptr;
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_connect_state(ssl);
  if (!host_is_ip_) SSL_set_tlsext_host_name(ssl, host_.c_str());
  if (verify_) {
    X509_VERIFY_PARAM* p = SSL_get0_param(ssl);
    int ok = host_is_ip_ ? X509_VERIFY_PARAM_set1_ip_asc(p, host_.c_str())
                         : X509_VERIFY_PARAM_set1_host(p, host_.c_str(), 0);
    if (ok != 1) {
      SSL_free(ssl);
      return nullptr;
    }
  }
  return ssl;
}

TlsStep tls_handshake(SSL* ssl) {
  int r = SSL_do_handshake(ssl);
  return r == 1 ? TlsStep::Done : classify(ssl, r);
}

TlsIo tls_read(SSL* ssl, std::span<std::byte> into) {
  int want = into.size() > INT_MAX ? INT_MAX : static_cast<int>(into.size());
  int r = SSL_read(ssl, into.data(), want);
  if (r > 0) return {static_cast<std::size_t>(r), TlsStep::Done};
  return {0, classify(ssl, r)};
}

TlsIo tls_write(SSL* ssl, std::span<const std::byte> from) {
  int want = from.size() > INT_MAX ? INT_MAX : static_cast<int>(from.size());
  int r = SSL_write(ssl, from.data(), want);
  if (r > 0) return {static_cast<std::size_t>(r), TlsStep::Done};
  return {0, classify(ssl, r)};
}

void tls_close(SSL* ssl) {
  if (!ssl) return;
  if (SSL_is_init_finished(ssl)) SSL_shutdown(ssl);  // one try; never waits for the reply
  ERR_clear_error();
  SSL_free(ssl);
}

std::string tls_error_text(SSL* ssl) {
  std::string why = pop_errors();
  long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (v != X509_V_OK) {
    why += why.empty() ? "" : "; ";
    why += "certificate: ";
    why += X509_verify_cert_error_string(v);
  }
  return why.empty() ? "unknown TLS error" : why;
}

}  // namespace shardmq::loadgen
