// Client-side TLS for the load generator: one SSL_CTX per process (made before the workers
// fork, so a bad --cafile is reported once), one SSL per connection driven over its
// non-blocking socket (SSL_set_fd). Every call here returns at once: a handshake, read or
// write that would block says which readiness it waits for, so the epoll loop never stalls.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "loadgen/options.hpp"

namespace shardmq::loadgen {

// Outcome of one non-blocking TLS step.
enum class TlsStep : std::uint8_t {
  Done,       // handshake complete / bytes moved
  WantRead,   // retry when the socket is readable
  WantWrite,  // retry when the socket is writable
  Closed,     // the peer sent close_notify or closed the socket
  Failed,     // protocol or verification error (see tls_error_text)
};

struct TlsIo {
  std::size_t bytes = 0;  // moved by this call (0 unless step == Done)
  TlsStep step = TlsStep::Done;
};

class TlsClientContext {
 public:
  // Verification: --insecure skips it; else the peer must chain to --cafile (or the system
  // store) and match --host (IP address or DNS name). Returns nullptr and sets `error`.
  static std::unique_ptr<TlsClientContext> create(const Options& o, std::string& error);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  // A client session on a connected socket; nullptr when OpenSSL refuses (out of memory).
  SSL* attach(int fd) const;

 private:
  TlsClientContext() = default;
  SSL_CTX* ctx_ = nullptr;
  std::string host_;
  bool host_is_ip_ = false;
  bool verify_ = true;
};

TlsStep tls_handshake(SSL* ssl);
TlsIo tls_read(SSL* ssl, std::span<std::byte> into);
// Writes as many TLS records as the socket takes (partial writes on): retry a WantWrite
// with the same bytes at the front, possibly more after them, possibly moved.
TlsIo tls_write(SSL* ssl, std::span<const std::byte> from);
// Sends close_notify if the socket takes it (never waits), then frees the session.
void tls_close(SSL* ssl);
// Why the last Failed step failed (OpenSSL's error queue, or the verification result).
std::string tls_error_text(SSL* ssl);

}  // namespace shardmq::loadgen
