#include "io/proxy_protocol.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

namespace shardmq::io {

namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::size_t kV1MaxLen = 107;  // spec: the longest v1 line, CRLF included
constexpr unsigned char kV2Sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

Result<ProxyHeader, ProxyError> invalid(std::string m) {
  return unexpected(ProxyError{false, m});
}
Result<ProxyHeader, ProxyError> need_more() {
  return unexpected(ProxyError{true, "incomplete PROXY header"});
}

// Whether `data` is a prefix of `sig` or starts with it.
bool prefix_matches(std::string_view data, std::string_view sig) {
  std::size_t n = std::min(data.size(), sig.size());
  return data.substr(0, n) == sig.substr(0, n);
}

bool parse_port(std::string_view s, std::uint16_t& port) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > 65535) return false;
  port = static_cast<std::uint16_t>(v);
  return true;
}

bool valid_ip(const std::string& ip, bool v6) {
  unsigned char buf[16];
  return inet_pton(v6 ? AF_INET6 : AF_INET, ip.c_str(), buf) == 1;
}

std::string ip_text(const unsigned char* raw, bool v6) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, raw, buf, sizeof buf);
  return buf;
}

Result<ProxyHeader, ProxyError> parse_v1(std::string_view s) {
  std::size_t crlf = s.find("\r\n");
  if (crlf == std::string_view::npos) {
    if (s.size() >= kV1MaxLen) return invalid("PROXY v1 line too long");
    return need_more();
  }
  if (crlf + 2 > kV1MaxLen) return invalid("PROXY v1 line too long");
  std::string_view line = s.substr(kV1Prefix.size(), crlf - kV1Prefix.size());
  ProxyHeader h;
  h.version = 1;
  h.consumed = crlf + 2;

  std::string_view f[5];
  std::size_t nf = 0;
  while (!line.empty() && nf < 5) {
    std::size_t sp = line.find(' ');
    f[nf++] = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
  }
  if (nf >= 1 && f[0] == "UNKNOWN") {
    h.is_local = true;  // the rest of the line is to be ignored
    return h;
  }
  if (nf != 5 || !line.empty()) return invalid("PROXY v1 line needs 5 fields");
  if (f[0] == "TCP6")
    h.ipv6 = true;
  else if (f[0] != "TCP4")
    return invalid("PROXY v1 unknown protocol " + std::string(f[0]));
  h.source_ip = std::string(f[1]);
  h.dest_ip = std::string(f[2]);
  if (!valid_ip(h.source_ip, h.ipv6) || !valid_ip(h.dest_ip, h.ipv6))
    return invalid("PROXY v1 invalid address");
  if (!parse_port(f[3], h.source_port) || !parse_port(f[4], h.dest_port))
    return invalid("PROXY v1 invalid port");
  return h;
}

Result<ProxyHeader, ProxyError> parse_v2(const unsigned char* p, std::size_t n) {
  if (n < 16) return need_more();
  if ((p[12] >> 4) != 2) return invalid("PROXY v2 unsupported version");
  int command = p[12] & 0x0f;
  if (command > 1) return invalid("PROXY v2 unknown command");
  std::size_t len = (std::size_t{p[14]} << 8) | p[15];
  if (n < 16 + len) return need_more();
  ProxyHeader h;
  h.version = 2;
  h.consumed = 16 + len;
  int family = p[13] >> 4;  // 0 unspec, 1 inet, 2 inet6, 3 unix
  int transport = p[13] & 0x0f;
  if (family > 3 || transport > 2) return invalid("PROXY v2 unknown address family");
  if (command == 0 || family == 0 || family == 3) {
    h.is_local = true;  // health check, or an address that isn't an IP: keep the socket's
    return h;
  }
  const unsigned char* a = p + 16;
  if (family == 1) {
    if (len < 12) return invalid("PROXY v2 IPv4 block too short");
    h.source_ip = ip_text(a, false);
    h.dest_ip = ip_text(a + 4, false);
    h.source_port = static_cast<std::uint16_t>(a[8] << 8 | a[9]);
    h.dest_port = static_cast<std::uint16_t>(a[10] << 8 | a[11]);
  } else {
    if (len < 36) return invalid("PROXY v2 IPv6 block too short");
    h.ipv6 = true;
    h.source_ip = ip_text(a, true);
    h.dest_ip = ip_text(a + 16, true);
    h.source_port = static_cast<std::uint16_t>(a[32] << 8 | a[33]);
    h.dest_port = static_cast<std::uint16_t>(a[34] << 8 | a[35]);
  }
  return h;  // TLVs after the addresses are skipped
}

}  // namespace

std::string ProxyHeader::source() const {
  if (is_local || source_ip.empty()) return {};
  std::string s = ipv6 ? "[" + source_ip + "]" : source_ip;
  return s + ":" + std::to_string(source_port);
}

Result<ProxyHeader, ProxyError> parse_proxy_header(std::span<const std::byte> data) {
  std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
  std::string_view v2sig(reinterpret_cast<const char*>(kV2Sig), sizeof kV2Sig);
  if (s.empty()) return need_more();
  if (prefix_matches(s, v2sig)) {
    if (s.size() < v2sig.size()) return need_more();
    return parse_v2(reinterpret_cast<const unsigned char*>(data.data()), data.size());
  }
  if (prefix_matches(s, kV1Prefix)) {
    if (s.size() < kV1Prefix.size()) return need_more();
    return parse_v1(s);
  }
  return invalid("connection does not start with a PROXY protocol header");
}

bool ProxyProtocolLayer::on_wire_data(std::span<const std::byte> in, ByteBlock& app_in,
                                      ByteBlock&) {
  if (failed_) return false;
  if (done_) {
    app_in.append(in.data(), in.size());
    return true;
  }
  head_.append(in.data(), in.size());
  auto r = parse_proxy_header({head_.data(), head_.size()});
  if (!r) {
    if (r.error().need_more) return true;
    error_ = r.error().message;
    failed_ = true;
    return false;
  }
  header_ = std::move(r.value());
  done_ = true;
  app_in.append(head_.data() + header_.consumed, head_.size() - header_.consumed);
  head_.release();
  return true;
}

bool ProxyProtocolLayer::on_app_data(std::span<const std::byte> out, ByteBlock& wire_out) {
  if (failed_) return false;
  wire_out.append(out.data(), out.size());
  return true;
}

}  // namespace shardmq::io
