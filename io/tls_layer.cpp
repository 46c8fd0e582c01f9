#include "io/tls_layer.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace shardmq::io {

namespace {

constexpr int kReadChunk = 16384;  // one TLS record's plaintext at most

// "CN=device-7,O=Example" (RFC 2253 order and escaping, as Mosquitto's
// use_subject_as_username gives it).
std::string subject_rfc2253(X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return {};
  std::string out;
  if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    if (n > 0) out.assign(data, static_cast<std::size_t>(n));
  }
  BIO_free(bio);
  return out;
}

std::string name_entry_utf8(X509_NAME* name, int nid) {
  int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return {};
  std::string s(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return s;
}

std::string first_dns_san(X509* cert) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return {};
  std::string s;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && s.empty(); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = gn->d.dNSName;
    s.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
             static_cast<std::size_t>(ASN1_STRING_length(dns)));
  }
  GENERAL_NAMES_free(names);
  return s;
}

}  // namespace

TlsLayer::TlsLayer(std::shared_ptr<TlsContext> ctx) : ctx_(std::move(ctx)) {
  ssl_ = SSL_new(ctx_->native());
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  if (!ssl_ || !rbio_ || !wbio_) {
    error_ = "cannot create TLS session: " + take_openssl_errors();
    failed_ = true;
    BIO_free(rbio_);
    BIO_free(wbio_);
    rbio_ = wbio_ = nullptr;
    return;
  }
  // An empty input BIO means "wait for more", not end of stream.
  BIO_set_mem_eof_return(rbio_, -1);
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_accept_state(ssl_);
}

TlsLayer::~TlsLayer() {
  // OpenSSL drops a session from the cache when its connection ends without close_notify
  // (an SSLv3-era rule). MQTT clients often just close the socket; keep their sessions
  // resumable unless the connection failed.
  if (ssl_ && done_ && (!failed_ || peer_closed_))
    SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(ssl_);
}

bool TlsLayer::session_reused() const {
  return ssl_ && SSL_session_reused(ssl_) == 1;
}

void TlsLayer::flush(ByteBlock& wire_out) {
  while (std::size_t n = BIO_ctrl_pending(wbio_)) {
    int got = BIO_read(wbio_, wire_out.reserve(n), static_cast<int>(n));
    if (got <= 0) break;
    wire_out.grow(static_cast<std::size_t>(got));
  }
}

bool TlsLayer::fail(const char* what, ByteBlock& wire_out) {
  error_ = std::string(what) + ": " + take_openssl_errors();
  if (ssl_) {
    long v = SSL_get_verify_result(ssl_);
    if (v != X509_V_OK)
      error_ += std::string(" (certificate: ") + X509_verify_cert_error_string(v) + ")";
    flush(wire_out);  // the alert, if OpenSSL produced one
  }
  failed_ = true;
  return false;
}

// Worked out when asked (only use_subject_as_username does): most handshakes never need it.
std::string TlsLayer::peer_certificate_subject() const {
  X509* cert = verified_ ? SSL_get0_peer_certificate(ssl_) : nullptr;
  return cert ? subject_rfc2253(X509_get_subject_name(cert)) : std::string();
}

bool TlsLayer::finish_handshake(ByteBlock& wire_out) {
  done_ = true;
  if (X509* cert = SSL_get0_peer_certificate(ssl_);
      cert && SSL_get_verify_result(ssl_) == X509_V_OK) {
    identity_ = name_entry_utf8(X509_get_subject_name(cert), NID_commonName);
    if (identity_.empty()) identity_ = first_dns_san(cert);
    verified_ = true;
  }
  if (!pending_.empty()) {
    bool ok = write_app({pending_.data(), pending_.size()}, wire_out);
    pending_.release();
    return ok;
  }
  return true;
}

bool TlsLayer::on_wire_data(std::span<const std::byte> in, ByteBlock& app_in, ByteBlock& wire_out) {
  if (failed_) return false;
  ERR_clear_error();  // the queue is per thread; don't report another connection's error
  if (!in.empty() &&
      BIO_write(rbio_, in.data(), static_cast<int>(in.size())) != static_cast<int>(in.size()))
    return fail("cannot buffer TLS input", wire_out);

  if (!done_) {
    int r = SSL_do_handshake(ssl_);
    if (r != 1) {
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ) {
        flush(wire_out);
        return true;
      }
      return fail("TLS handshake failed", wire_out);
    }
    if (!finish_handshake(wire_out)) return false;
  }

  for (;;) {
    std::size_t got = 0;
    int r = SSL_read_ex(ssl_, app_in.reserve(kReadChunk), kReadChunk, &got);
    if (r == 1) {
      app_in.grow(got);
      continue;
    }
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) break;
    if (e == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      close(wire_out);
      error_ = "closed by peer (TLS close_notify)";
      failed_ = true;
      return false;
    }
    return fail("TLS read failed", wire_out);
  }
  flush(wire_out);
  return true;
}

bool TlsLayer::write_app(std::span<const std::byte> out, ByteBlock& wire_out) {
  while (!out.empty()) {
    std::size_t put = 0;
    if (SSL_write_ex(ssl_, out.data(), out.size(), &put) != 1)
      return fail("TLS write failed", wire_out);
    out = out.subspan(put);
  }
  flush(wire_out);
  return true;
}

bool TlsLayer::on_app_data(std::span<const std::byte> out, ByteBlock& wire_out) {
  if (failed_ || shut_) return false;
  if (!done_) {
    pending_.append(out.data(), out.size());
    return true;
  }
  ERR_clear_error();
  return write_app(out, wire_out);
}

void TlsLayer::close(ByteBlock& wire_out) {
  if (!ssl_ || shut_ || !done_ || failed_) return;  // close_notify only on a live session
  shut_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
  flush(wire_out);
}

}  // namespace shardmq::io
