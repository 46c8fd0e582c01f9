// A TLS client over memory BIOs, to drive a server TlsLayer in-process, and pump(), which
// shuttles bytes between them until neither has anything more to say.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <span>
#include <string>
#include <string_view>

#include "io/tls_layer.hpp"
#include "test_pki.hpp"

namespace shardmq::test {

class TlsClient {
 public:
  // cert/key empty: no client certificate. max_version 0: highest available.
  TlsClient(const KeyPair* cert, int max_version = 0, SSL_SESSION* resume = nullptr,
            bool tickets = true) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!tickets) SSL_CTX_set_options(ctx_, SSL_OP_NO_TICKET);
    SSL_CTX_load_verify_locations(ctx_, test_pki().ca_cert.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (max_version) SSL_CTX_set_max_proto_version(ctx_, max_version);
    if (cert) {
      SSL_CTX_use_certificate_file(ctx_, cert->cert.c_str(), SSL_FILETYPE_PEM);
      SSL_CTX_use_PrivateKey_file(ctx_, cert->key.c_str(), SSL_FILETYPE_PEM);
    }
    ssl_ = SSL_new(ctx_);
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio_, -1);
    SSL_set_bio(ssl_, rbio_, wbio_);
    SSL_set_connect_state(ssl_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    if (resume) SSL_set_session(ssl_, resume);
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // Advances the handshake or reads application data; false on a TLS error or close_notify.
  bool step() {
    if (!SSL_is_init_finished(ssl_)) {
      int r = SSL_do_handshake(ssl_);
      if (r != 1) return SSL_get_error(ssl_, r) == SSL_ERROR_WANT_READ;
    }
    char buf[16384];
    for (;;) {
      int r = SSL_read(ssl_, buf, sizeof buf);
      if (r > 0) {
        received.append(buf, static_cast<std::size_t>(r));
        continue;
      }
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_ZERO_RETURN) got_close_notify = true;
      return e == SSL_ERROR_WANT_READ;
    }
  }
  void write(std::string_view s) {
    while (!s.empty()) {
      int r = SSL_write(ssl_, s.data(), static_cast<int>(s.size()));
      if (r <= 0) return;
      s.remove_prefix(static_cast<std::size_t>(r));
    }
  }
  void feed(std::span<const std::byte> wire) {
    if (!wire.empty()) BIO_write(rbio_, wire.data(), static_cast<int>(wire.size()));
  }
  std::string drain() {
    std::string out;
    while (std::size_t n = BIO_ctrl_pending(wbio_)) {
      std::size_t at = out.size();
      out.resize(at + n);
      BIO_read(wbio_, out.data() + at, static_cast<int>(n));
    }
    return out;
  }
  // Ends without close_notify, yet keeps the session usable (OpenSSL would otherwise mark
  // it not resumable on SSL_free).
  void leave_quietly() { SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN); }
  bool connected() const { return SSL_is_init_finished(ssl_); }
  SSL* ssl() const { return ssl_; }

  std::string received;
  bool got_close_notify = false;

 private:
  SSL_CTX* ctx_;
  SSL* ssl_;
  BIO* rbio_;
  BIO* wbio_;
};

inline std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string text(const io::ByteBlock& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Shuttles bytes both ways until quiet. Returns what the server's last on_wire_data said
// (true if it was never called).
inline bool pump(TlsClient& c, io::TlsLayer& s, io::ByteBlock& server_app) {
  bool server_ok = true;
  for (int round = 0; round < 100; ++round) {
    c.step();
    std::string out = c.drain();
    if (out.empty()) break;
    io::ByteBlock wire;
    server_ok = s.on_wire_data(bytes(out), server_app, wire);
    c.feed({wire.data(), wire.size()});
    if (!server_ok) {
      c.step();
      break;
    }
  }
  return server_ok;
}

}  // namespace shardmq::test
