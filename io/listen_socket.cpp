#include "io/listen_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace shardmq::io {

int parse_host(const std::string& host, std::uint16_t port, sockaddr_storage& out, socklen_t& len) {
  std::memset(&out, 0, sizeof(out));
  std::string h = host;
  if (h.empty()) h = "0.0.0.0";
  if (h == "localhost") h = "127.0.0.1";
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
    return 0;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    return 0;
  }
  return -EINVAL;
}

int open_listen_socket(const std::string& host, std::uint16_t port, const ListenerOptions& opts,
                       bool nonblocking) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (int r = parse_host(host, port, addr, len); r < 0) return r;
  int fd =
      ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -errno;
  const int one = 1;
  auto fail = [fd]() {
    const int e = errno;
    ::close(fd);
    return -e;
  };
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) return fail();
  if (opts.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
    return fail();
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) return fail();
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) < 0) return fail();
  if (::listen(fd, opts.backlog) < 0) return fail();
  return fd;
}

int bound_port(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof(a);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) < 0) return -errno;
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
  return -EAFNOSUPPORT;
}

std::string PeerAddress::host() const {
  char ip[INET6_ADDRSTRLEN];
  const void* a = nullptr;
  if (addr.ss_family == AF_INET) a = &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr;
  if (addr.ss_family == AF_INET6) a = &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr;
  if (!a || !inet_ntop(addr.ss_family, a, ip, sizeof(ip))) return "unknown";
  return ip;
}

std::string PeerAddress::to_string() const {
  // snprintf rather than operator+: g++ 12 -O3 reports a false -Wrestrict on the latter.
  char ip[INET6_ADDRSTRLEN];
  char out[INET6_ADDRSTRLEN + 16];
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    if (!inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip))) return "unknown";
    std::snprintf(out, sizeof(out), "%s:%u", ip, unsigned{ntohs(a->sin_port)});
    return out;
  }
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (!inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip))) return "unknown";
    std::snprintf(out, sizeof(out), "[%s]:%u", ip, unsigned{ntohs(a->sin6_port)});
    return out;
  }
  return "unknown";
}

}  // namespace shardmq::io
