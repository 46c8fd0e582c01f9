// TlsContext: a server SSL_CTX built from listener options (certificate, key, CA, versions,
// ciphers, client-certificate policy) with session resumption. Immutable once built: a
// reload (SIGHUP) builds a NEW context, so live connections keep the one they started with
// through their shared_ptr and new connections take the new one.
#pragma once

#include <memory>
#include <string>

#include "core/result.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, kept out of this header

namespace shardmq::io {

enum class ClientCertPolicy { none, optional, required };

struct TlsOptions {
  std::string cert_file;            // PEM certificate chain (leaf first)
  std::string key_file;             // PEM private key
  std::string ca_file;              // PEM CA bundle for client certificates (needed unless none)
  std::string min_version = "1.2";  // "1.2" or "1.3"
  std::string ciphers;              // TLS 1.2 cipher list (OpenSSL syntax); empty = OpenSSL default
  std::string ciphersuites;         // TLS 1.3 suites; empty = OpenSSL default
  ClientCertPolicy client_cert = ClientCertPolicy::none;

  bool operator==(const TlsOptions&) const = default;
};

// Parses "none" / "optional" / "required" (listener config value).
Result<ClientCertPolicy, std::string> parse_client_cert_policy(const std::string& s);

class TlsContext {
 public:
  static Result<std::shared_ptr<TlsContext>, std::string> create(const TlsOptions& opts);

  // Re-reads certificate, key and CA files into a new context with the same options.
  Result<std::shared_ptr<TlsContext>, std::string> reload() const { return create(opts_); }

  ssl_ctx_st* native() const { return ctx_; }
  const TlsOptions& options() const { return opts_; }

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ~TlsContext();

 private:
  TlsContext(ssl_ctx_st* ctx, TlsOptions opts) : ctx_(ctx), opts_(std::move(opts)) {}
  ssl_ctx_st* ctx_;
  TlsOptions opts_;
};

// Drains OpenSSL's (thread-local) error queue into one readable line.
std::string take_openssl_errors();

}  // namespace shardmq::io
