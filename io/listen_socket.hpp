// Listening TCP sockets shared by both loop backends.
#pragma once

#include <cstdint>
#include <string>

#include "io/loop.hpp"

namespace shardmq::io {

// Parses a numeric host ("0.0.0.0", "::", "127.0.0.1", "[::1]", "::1") or "localhost"
// (127.0.0.1) or "" (0.0.0.0) into `out`; no DNS. Returns 0 or -EINVAL.
int parse_host(const std::string& host, std::uint16_t port, sockaddr_storage& out, socklen_t& len);

// Creates a TCP socket with SO_REUSEADDR, SO_REUSEPORT (opts.reuse_port), TCP_NODELAY
// (inherited by accepted sockets), binds host:port and listens. Returns the fd or -errno.
int open_listen_socket(const std::string& host, std::uint16_t port, const ListenerOptions& opts,
                       bool nonblocking);

// The local port a socket is bound to, or -errno.
int bound_port(int fd);

}  // namespace shardmq::io
