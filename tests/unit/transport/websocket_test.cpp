#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "io/http_upgrade.hpp"
#include "io/websocket_layer.hpp"

using shardmq::io::ByteBlock;
using shardmq::io::UpgradeStatus;
using shardmq::io::WebSocketLayer;
using shardmq::io::WebSocketOptions;
using namespace std::literals;

namespace {

std::shared_ptr<const WebSocketOptions> options(WebSocketOptions o = {}) {
  return std::make_shared<const WebSocketOptions>(std::move(o));
}

std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
std::string text(const ByteBlock& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string request(std::string_view path = "/mqtt", std::string_view protocol = "mqtt",
                    std::string_view extra = "") {
  std::string r =
      "GET " + std::string(path) +
      " HTTP/1.1\r\nHost: broker.example\r\nUpgrade: websocket\r\n"
      "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n";
  if (!protocol.empty()) r += "Sec-WebSocket-Protocol: " + std::string(protocol) + "\r\n";
  r += extra;
  r += "\r\n";
  return r;
}

// A client frame: masked unless told otherwise.
std::string frame(std::uint8_t opcode, std::string_view payload, bool fin = true,
                  bool masked = true) {
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | opcode);
  std::uint8_t mbit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    f += static_cast<char>(mbit | payload.size());
  } else if (payload.size() <= 0xffff) {
    f += static_cast<char>(mbit | 126);
    f += static_cast<char>(payload.size() >> 8);
    f += static_cast<char>(payload.size() & 0xff);
  } else {
    f += static_cast<char>(mbit | 127);
    for (int i = 7; i >= 0; --i)
      f += static_cast<char>((std::uint64_t{payload.size()} >> (8 * i)) & 0xff);
  }
  const std::uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (masked) f.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    f += masked ? static_cast<char>(payload[i] ^ mask[i & 3]) : payload[i];
  return f;
}

struct Frame {
  int opcode;
  bool fin;
  std::string payload;
};

// Server frames: must be unmasked.
std::vector<Frame> server_frames(std::string_view w) {
  std::vector<Frame> out;
  while (!w.empty()) {
    REQUIRE(w.size() >= 2);
    auto b0 = static_cast<std::uint8_t>(w[0]), b1 = static_cast<std::uint8_t>(w[1]);
    REQUIRE((b1 & 0x80) == 0);
    std::size_t len = b1 & 0x7f, at = 2;
    if (len == 126) {
      len = static_cast<std::uint8_t>(w[2]) << 8 | static_cast<std::uint8_t>(w[3]);
      at = 4;
    } else if (len == 127) {
      len = 0;
      for (int i = 0; i < 8; ++i)
        len = len << 8 | static_cast<std::uint8_t>(w[2 + i]);
      at = 10;
    }
    REQUIRE(w.size() >= at + len);
    out.push_back({b0 & 0x0f, (b0 & 0x80) != 0, std::string(w.substr(at, len))});
    w.remove_prefix(at + len);
  }
  return out;
}

std::string close_body(std::uint16_t code) {
  return {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
}

// An upgraded layer, its 101 already taken out of the way.
struct Open {
  WebSocketLayer ws;
  ByteBlock app_in, wire;
  explicit Open(WebSocketOptions o = {}) : ws(options(std::move(o))) {
    REQUIRE(ws.on_wire_data(bytes(request()), app_in, wire));
    REQUIRE(ws.handshake_done());
    wire.clear();
  }
  bool feed(std::string_view s) { return ws.on_wire_data(bytes(s), app_in, wire); }
};

}  // namespace

TEST_CASE("accept key follows RFC 6455's example", "[websocket]") {
  CHECK(shardmq::io::websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ==") ==
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("a valid upgrade gets 101 with the accept key and subprotocol", "[websocket]") {
  WebSocketLayer ws(options());
  ByteBlock app_in, wire;
  std::string req = request();
  // Arrives in two pieces: nothing is said until the head is complete.
  REQUIRE(ws.on_wire_data(bytes(std::string_view(req).substr(0, 40)), app_in, wire));
  CHECK(wire.empty());
  CHECK_FALSE(ws.handshake_done());
  REQUIRE(ws.on_wire_data(bytes(std::string_view(req).substr(40)), app_in, wire));
  CHECK(ws.handshake_done());
  CHECK(ws.subprotocol() == "mqtt");
  std::string reply = text(wire);
  CHECK(reply.find("HTTP/1.1 101 Switching Protocols\r\n") == 0);
  CHECK(reply.find("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") !=
        std::string::npos);
  CHECK(reply.find("\r\nSec-WebSocket-Protocol: mqtt\r\n") != std::string::npos);
  CHECK(reply.find("\r\nUpgrade: websocket\r\n") != std::string::npos);
  CHECK(reply.substr(reply.size() - 4) == "\r\n\r\n");
}

TEST_CASE("subprotocol choice", "[websocket]") {
  auto chosen = [](std::string_view offered) {
    auto o = shardmq::io::parse_upgrade_request(request("/mqtt", offered), {});
    return o.status == UpgradeStatus::accepted ? o.subprotocol : "rejected: " + o.error;
  };
  CHECK(chosen("mqttv3.1") == "mqttv3.1");
  CHECK(chosen("wamp, mqtt") == "mqtt");
  CHECK(chosen("mqttv3.1,mqtt") == "mqttv3.1");  // the client's order of preference
  CHECK(chosen("wamp") == "rejected: Sec-WebSocket-Protocol does not offer mqtt");
  CHECK(chosen("") == "rejected: Sec-WebSocket-Protocol does not offer mqtt");
}

TEST_CASE("refused upgrades answer with an HTTP error and fail", "[websocket]") {
  auto refuse = [](const std::string& req, WebSocketOptions o = {}) {
    WebSocketLayer ws(options(std::move(o)));
    ByteBlock app_in, wire;
    CHECK_FALSE(ws.on_wire_data(bytes(req), app_in, wire));
    CHECK_FALSE(ws.handshake_done());
    CHECK(ws.error().find("WebSocket upgrade refused: ") == 0);
    CHECK(text(wire).find("\r\nConnection: close\r\n") != std::string::npos);
    return text(wire).substr(0, text(wire).find("\r\n"));
  };
  CHECK(refuse(request("/other")) == "HTTP/1.1 404 Not Found");
  CHECK(refuse(request("/mqtt", "")) == "HTTP/1.1 400 Bad Request");
  CHECK(refuse("POST /mqtt HTTP/1.1\r\nHost: x\r\n\r\n") == "HTTP/1.1 400 Bad Request");
  CHECK(refuse("GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n") == "HTTP/1.1 400 Bad Request");
  CHECK(refuse("garbage\r\n\r\n") == "HTTP/1.1 400 Bad Request");
  std::string old_version = request();
  old_version.replace(old_version.find("Version: 13"), 11, "Version: 8");
  CHECK(refuse(old_version) == "HTTP/1.1 426 Upgrade Required");
  std::string bad_key = request();
  bad_key.replace(bad_key.find("dGhl"), 4, "");
  CHECK(refuse(bad_key) == "HTTP/1.1 400 Bad Request");
  WebSocketOptions tiny;
  tiny.max_request_size = 64;
  CHECK(refuse(std::string(100, 'x'), tiny) == "HTTP/1.1 431 Request Header Fields Too Large");
}

TEST_CASE("origin allow-list", "[websocket]") {
  WebSocketOptions o;
  o.origins = {"https://app.example"};
  auto status = [&](std::string_view extra) {
    return shardmq::io::parse_upgrade_request(request("/mqtt", "mqtt", extra), o);
  };
  CHECK(status("Origin: https://app.example\r\n").status == UpgradeStatus::accepted);
  auto evil = status("Origin: https://evil.example\r\n");
  CHECK(evil.status == UpgradeStatus::rejected);
  CHECK(evil.response.find("HTTP/1.1 403 Forbidden") == 0);
  CHECK(evil.error == "origin https://evil.example not allowed");
  CHECK(status("").status == UpgradeStatus::accepted);  // non-browser clients send none
  o.allow_missing_origin = false;
  CHECK(status("").status == UpgradeStatus::rejected);
  o.origins.clear();  // empty list: every origin
  CHECK(status("Origin: https://evil.example\r\n").status == UpgradeStatus::accepted);
}

TEST_CASE("the path ignores the query string; other paths are configurable", "[websocket]") {
  WebSocketOptions o;
  o.path = "/ws";
  CHECK(shardmq::io::parse_upgrade_request(request("/ws?token=1"), o).status ==
        UpgradeStatus::accepted);
  CHECK(shardmq::io::parse_upgrade_request(request("/mqtt"), o).status == UpgradeStatus::rejected);
}

TEST_CASE("masked binary frames stream MQTT bytes", "[websocket]") {
  Open c;
  SECTION("one packet split across frames of a fragmented message") {
    REQUIRE(c.feed(frame(0x2, "\x10\x0c\x00"sv, false)));
    REQUIRE(c.feed(frame(0x0, "\x04MQTT", false)));
    REQUIRE(c.feed(frame(0x0, "\x04\x02\x00\x3c\x00\x00"sv, true)));
    CHECK(text(c.app_in) == std::string("\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00", 14));
  }
  SECTION("one packet across two binary messages (clients may split anywhere)") {
    REQUIRE(c.feed(frame(0x2, "\x30\x05\x00"sv)));
    REQUIRE(c.feed(frame(0x2, std::string("\x01t\x68i", 4))));
    CHECK(text(c.app_in) == std::string("\x30\x05\x00\x01t\x68i", 7));
  }
  SECTION("several packets in one frame") {
    std::string two_pings = "\xc0\x00\xc0\x00";
    REQUIRE(c.feed(frame(0x2, std::string(two_pings.data(), 4))));
    CHECK(text(c.app_in) == std::string(two_pings.data(), 4));
  }
  SECTION("frames cut anywhere: every byte, or odd chunks") {
    std::size_t chunk = GENERATE(1, 13);
    std::string payload(300, 'p');  // 16-bit length form
    for (std::size_t i = 0; i < payload.size(); ++i)
      payload[i] = static_cast<char>(i);
    std::string wire = frame(0x2, payload, false) + frame(0x9, "ping!") + frame(0x0, "tail");
    for (std::size_t at = 0; at < wire.size(); at += chunk)
      REQUIRE(c.feed(std::string_view(wire).substr(at, chunk)));
    CHECK(text(c.app_in) == payload + "tail");
    auto frames = server_frames(text(c.wire));
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].payload == "ping!");
  }
  SECTION("a large frame with the 64-bit length form") {
    std::string payload(70000, 'z');
    REQUIRE(c.feed(frame(0x2, payload)));
    CHECK(text(c.app_in) == payload);
  }
  SECTION("frames right behind the upgrade request") {
    WebSocketLayer ws(options());
    ByteBlock app_in, wire;
    REQUIRE(ws.on_wire_data(bytes(request() + frame(0x2, "abc")), app_in, wire));
    CHECK(text(app_in) == "abc");
  }
  SECTION("pings in the middle of a fragmented message are answered") {
    REQUIRE(c.feed(frame(0x2, "ab", false)));
    REQUIRE(c.feed(frame(0x9, "hi")));
    REQUIRE(c.feed(frame(0x0, "cd")));
    CHECK(text(c.app_in) == "abcd");
    auto frames = server_frames(text(c.wire));
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].opcode == 0xA);
    CHECK(frames[0].payload == "hi");
  }
  CHECK(c.ws.error().empty());
}

TEST_CASE("outgoing bytes become unmasked binary frames", "[websocket]") {
  WebSocketLayer ws(options());
  ByteBlock app_in, wire;
  REQUIRE(ws.on_app_data(bytes("held"), wire));  // before the upgrade: held
  CHECK(wire.empty());
  REQUIRE(ws.on_wire_data(bytes(request()), app_in, wire));
  std::string out = text(wire);
  std::size_t head = out.find("\r\n\r\n") + 4;
  auto frames = server_frames(std::string_view(out).substr(head));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == 0x2);
  CHECK(frames[0].payload == "held");

  wire.clear();
  std::string big(70000, 'b');
  REQUIRE(ws.on_app_data(bytes("\x20\x02\x00\x00"sv), wire));
  REQUIRE(ws.on_app_data(bytes(big), wire));
  frames = server_frames(text(wire));
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].fin);
  CHECK(frames[0].payload == std::string("\x20\x02\x00\x00", 4));
  CHECK(frames[1].payload == big);
}

TEST_CASE("ping is answered with pong, pong is ignored", "[websocket]") {
  Open c;
  REQUIRE(c.feed(frame(0x9, "are you there")));
  REQUIRE(c.feed(frame(0xA, "unsolicited")));
  auto frames = server_frames(text(c.wire));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == 0xA);
  CHECK(frames[0].payload == "are you there");
  CHECK(c.app_in.empty());
}

TEST_CASE("close is echoed and ends the connection", "[websocket]") {
  Open c;
  SECTION("with a status code") {
    CHECK_FALSE(c.feed(frame(0x8, close_body(1001))));
    CHECK(c.ws.error() == "closed by peer (code 1001)");
    auto frames = server_frames(text(c.wire));
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].opcode == 0x8);
    CHECK(frames[0].payload == close_body(1001));
  }
  SECTION("without a body") {
    CHECK_FALSE(c.feed(frame(0x8, "")));
    auto frames = server_frames(text(c.wire));
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].payload.empty());
  }
  SECTION("server closes first; the client's reply is not answered again") {
    c.ws.close(c.wire);
    auto frames = server_frames(text(c.wire));
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].payload == close_body(1000));
    ByteBlock after;
    CHECK_FALSE(c.ws.on_app_data(bytes("x"), after));
    c.wire.clear();
    CHECK_FALSE(c.feed(frame(0x8, close_body(1000))));
    CHECK(c.wire.empty());
  }
  CHECK_FALSE(c.feed(frame(0x2, "after close")));
  CHECK(c.app_in.empty());
}

TEST_CASE("protocol violations close with a status code", "[websocket]") {
  Open c;
  auto closed_with = [&](std::string_view input) {
    CHECK_FALSE(c.feed(input));
    CHECK(c.ws.error().find("WebSocket: ") == 0);
    auto frames = server_frames(text(c.wire));
    REQUIRE(frames.size() == 1);
    REQUIRE(frames[0].opcode == 0x8);
    REQUIRE(frames[0].payload.size() == 2);
    return static_cast<std::uint8_t>(frames[0].payload[0]) << 8 |
           static_cast<std::uint8_t>(frames[0].payload[1]);
  };
  SECTION("text frame") {
    CHECK(closed_with(frame(0x1, "{\"hi\":1}")) == 1003);
  }
  SECTION("unmasked client frame") {
    CHECK(closed_with(frame(0x2, "abc", true, false)) == 1002);
  }
  SECTION("continuation without a message") {
    CHECK(closed_with(frame(0x0, "abc")) == 1002);
  }
  SECTION("new message inside a fragmented one") {
    CHECK(closed_with(frame(0x2, "a", false) + frame(0x2, "b")) == 1002);
  }
  SECTION("fragmented ping") {
    CHECK(closed_with(frame(0x9, "p", false)) == 1002);
  }
  SECTION("reserved bits") {
    std::string f = frame(0x2, "abc");
    f[0] = static_cast<char>(f[0] | 0x40);
    CHECK(closed_with(f) == 1002);
  }
  SECTION("unknown opcode") {
    CHECK(closed_with(frame(0x3, "")) == 1002);
  }
  SECTION("close with a one-byte body") {
    CHECK(closed_with(frame(0x8, "x")) == 1002);
  }
  CHECK_FALSE(c.ws.on_app_data(bytes("x"), c.wire));
}

TEST_CASE("frame and message size limits close with 1009", "[websocket]") {
  WebSocketOptions o;
  o.max_frame_size = 100;
  o.max_message_size = 150;
  Open c(o);
  auto code = [&] {
    auto frames = server_frames(text(c.wire));
    REQUIRE(frames.size() == 1);
    return static_cast<std::uint8_t>(frames[0].payload[0]) << 8 |
           static_cast<std::uint8_t>(frames[0].payload[1]);
  };
  SECTION("a frame over the limit is refused from its header alone") {
    std::string f = frame(0x2, std::string(101, 'x'));
    CHECK_FALSE(c.feed(std::string_view(f).substr(0, 8)));
    CHECK(code() == 1009);
    CHECK(c.app_in.empty());
  }
  SECTION("fragments adding up over the message limit") {
    REQUIRE(c.feed(frame(0x2, std::string(100, 'x'), false)));
    CHECK_FALSE(c.feed(frame(0x0, std::string(51, 'y'))));
    CHECK(code() == 1009);
  }
  SECTION("limits are per message") {
    REQUIRE(c.feed(frame(0x2, std::string(100, 'x'))));
    REQUIRE(c.feed(frame(0x2, std::string(100, 'y'))));
    CHECK(c.app_in.size() == 200);
  }
}
