#include "io/http_upgrade.hpp"

#include <openssl/evp.h>

#include <algorithm>

#include "io/http_request.hpp"

namespace shardmq::io {

namespace {

// Calls f(token) for each comma-separated token; stops early when f returns true.
template <typename F>
bool any_token(std::string_view list, F f) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    if (f(http_trim(list.substr(0, comma)))) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

UpgradeOutcome reject(std::size_t consumed, std::string_view status, std::string error,
                      std::string_view extra_headers = {}) {
  UpgradeOutcome o;
  o.status = UpgradeStatus::rejected;
  o.consumed = consumed;
  o.error = std::move(error);
  o.response = "HTTP/1.1 ";
  o.response += status;
  o.response += "\r\nConnection: close\r\nContent-Length: 0\r\n";
  o.response += extra_headers;
  o.response += "\r\n";
  return o;
}

struct Headers {
  std::string_view upgrade, connection, key, version, protocol, origin;
  bool has_origin = false;
};

}  // namespace

std::string websocket_accept_key(std::string_view client_key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string in(client_key);
  in += kGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), digest, &len, EVP_sha1(), nullptr);
  unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int n = EVP_EncodeBlock(b64, digest, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(b64), static_cast<std::size_t>(n));
}

UpgradeOutcome parse_upgrade_request(std::string_view received, const WebSocketOptions& opts) {
  std::size_t end = received.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (received.size() > opts.max_request_size)
      return reject(received.size(), "431 Request Header Fields Too Large",
                    "HTTP request head too large");
    return {};
  }
  std::size_t consumed = end + 4;
  if (consumed > opts.max_request_size)
    return reject(consumed, "431 Request Header Fields Too Large", "HTTP request head too large");
  std::string_view head = received.substr(0, end);

  std::size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);

  // Request line: METHOD SP target SP HTTP/1.1
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos)
    return reject(consumed, "400 Bad Request", "malformed HTTP request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1") return reject(consumed, "400 Bad Request", "not an HTTP/1.1 request");
  if (method != "GET") return reject(consumed, "400 Bad Request", "method is not GET");
  std::string_view path = target.substr(0, target.find('?'));
  if (path != opts.path)
    return reject(consumed, "404 Not Found", "no WebSocket endpoint at " + std::string(path));

  Headers h;
  while (!head.empty()) {
    eol = head.find("\r\n");
    std::string_view hl = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
    std::size_t colon = hl.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return reject(consumed, "400 Bad Request", "malformed HTTP header line");
    std::string_view name = hl.substr(0, colon);
    std::string_view value = http_trim(hl.substr(colon + 1));
    if (http_iequals(name, "Upgrade"))
      h.upgrade = value;
    else if (http_iequals(name, "Connection"))
      h.connection = value;
    else if (http_iequals(name, "Sec-WebSocket-Key"))
      h.key = value;
    else if (http_iequals(name, "Sec-WebSocket-Version"))
      h.version = value;
    else if (http_iequals(name, "Sec-WebSocket-Protocol"))
      h.protocol = value;
    else if (http_iequals(name, "Origin")) {
      h.origin = value;
      h.has_origin = true;
    }
  }

  if (!any_token(h.upgrade, [](std::string_view t) { return http_iequals(t, "websocket"); }))
    return reject(consumed, "400 Bad Request", "missing Upgrade: websocket");
  if (!any_token(h.connection, [](std::string_view t) { return http_iequals(t, "upgrade"); }))
    return reject(consumed, "400 Bad Request", "missing Connection: upgrade");
  if (h.version != "13")
    return reject(consumed, "426 Upgrade Required", "unsupported Sec-WebSocket-Version",
                  "Sec-WebSocket-Version: 13\r\n");
  // The key is base64 of 16 random bytes: 22 characters and "==".
  if (h.key.size() != 24 || h.key.substr(22) != "==")
    return reject(consumed, "400 Bad Request", "invalid Sec-WebSocket-Key");
  if (!opts.origins.empty()) {
    bool ok = h.has_origin
                  ? std::any_of(opts.origins.begin(), opts.origins.end(),
                                [&](const std::string& o) { return http_iequals(o, h.origin); })
                  : opts.allow_missing_origin;
    if (!ok)
      return reject(consumed, "403 Forbidden",
                    h.has_origin ? "origin " + std::string(h.origin) + " not allowed"
                                 : std::string("missing Origin"));
  }
  std::string_view chosen;
  any_token(h.protocol, [&](std::string_view t) {
    if (t == "mqtt" || t == "mqttv3.1") chosen = t;
    return !chosen.empty();
  });
  if (chosen.empty())
    return reject(consumed, "400 Bad Request", "Sec-WebSocket-Protocol does not offer mqtt");

  UpgradeOutcome o;
  o.status = UpgradeStatus::accepted;
  o.consumed = consumed;
  o.subprotocol = std::string(chosen);
  o.response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      websocket_accept_key(h.key) + "\r\nSec-WebSocket-Protocol: " + o.subprotocol + "\r\n\r\n";
  return o;
}

}  // namespace shardmq::io
