// The HTTP/1.1 side of a WebSocket connection (RFC 6455 section 4): parses the client's
// upgrade request and builds the server's reply, 101 Switching Protocols or an error status.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace shardmq::io {

struct WebSocketOptions {
  std::string path = "/mqtt";                // request path to accept (query string ignored)
  std::vector<std::string> origins;          // allowed Origin values; empty = allow all
  bool allow_missing_origin = true;          // non-browser clients send no Origin
  std::size_t max_request_size = 8192;       // HTTP request head, bytes
  std::size_t max_frame_size = 268435461;    // payload bytes; MQTT's largest packet
  std::size_t max_message_size = 268435461;  // payload bytes over all fragments
};

enum class UpgradeStatus { need_more, accepted, rejected };

struct UpgradeOutcome {
  UpgradeStatus status = UpgradeStatus::need_more;
  std::size_t consumed = 0;  // bytes of the request head (accepted or rejected)
  std::string response;      // the HTTP reply to send
  std::string subprotocol;   // chosen: "mqtt" or "mqttv3.1"
  std::string error;         // why it was rejected
};

// Looks at the bytes received so far. need_more until the blank line arrives (or the head
// exceeds max_request_size, which rejects with 431).
UpgradeOutcome parse_upgrade_request(std::string_view received, const WebSocketOptions& opts);

// base64(SHA-1(key + RFC 6455 GUID)).
std::string websocket_accept_key(std::string_view client_key);

}  // namespace shardmq::io
