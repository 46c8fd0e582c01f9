#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "io/proxy_protocol.hpp"

using shardmq::io::ByteBlock;
using shardmq::io::parse_proxy_header;
using shardmq::io::ProxyProtocolLayer;

namespace {

std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

// A v2 header: command (0 LOCAL, 1 PROXY), family byte, address block, then TLVs.
std::string v2(int command, int fam, const std::vector<unsigned char>& addr,
               std::string_view tlvs = "") {
  std::string h = kSig;
  h += static_cast<char>(0x20 | command);
  h += static_cast<char>(fam);
  std::size_t len = addr.size() + tlvs.size();
  h += static_cast<char>(len >> 8);
  h += static_cast<char>(len & 0xff);
  h.append(addr.begin(), addr.end());
  h += tlvs;
  return h;
}

}  // namespace

TEST_CASE("PROXY v1", "[proxy]") {
  SECTION("TCP4") {
    std::string in = "PROXY TCP4 203.0.113.7 192.0.2.1 5555 1883\r\nMQTT";
    auto r = parse_proxy_header(bytes(in));
    REQUIRE(r.has_value());
    CHECK(r->version == 1);
    CHECK(r->consumed == in.size() - 4);
    CHECK_FALSE(r->is_local);
    CHECK(r->source_ip == "203.0.113.7");
    CHECK(r->source_port == 5555);
    CHECK(r->dest_ip == "192.0.2.1");
    CHECK(r->dest_port == 1883);
    CHECK(r->source() == "203.0.113.7:5555");
  }
  SECTION("TCP6") {
    auto r = parse_proxy_header(bytes("PROXY TCP6 2001:db8::1 2001:db8::2 65535 8883\r\n"));
    REQUIRE(r.has_value());
    CHECK(r->ipv6);
    CHECK(r->source() == "[2001:db8::1]:65535");
    CHECK(r->dest_port == 8883);
  }
  SECTION("UNKNOWN, with or without addresses") {
    for (std::string in : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"}) {
      auto r = parse_proxy_header(bytes(in));
      REQUIRE(r.has_value());
      CHECK(r->is_local);
      CHECK(r->consumed == in.size());
      CHECK(r->source().empty());
    }
  }
  SECTION("truncated: every prefix asks for more") {
    std::string in = "PROXY TCP4 203.0.113.7 192.0.2.1 5555 1883\r\n";
    for (std::size_t n = 1; n < in.size(); ++n) {
      auto r = parse_proxy_header(bytes(std::string_view(in).substr(0, n)));
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().need_more);
    }
  }
  SECTION("malformed lines are errors") {
    for (std::string in : {
             "PROXY TCP4 203.0.113.7 192.0.2.1 5555\r\n",         // a field short
             "PROXY TCP4 203.0.113.7 192.0.2.1 5555 1883 9\r\n",  // one too many
             "PROXY TCP4 203.0.113.999 192.0.2.1 5555 1883\r\n",  // bad address
             "PROXY TCP4 2001:db8::1 192.0.2.1 5555 1883\r\n",    // family mismatch
             "PROXY TCP4 203.0.113.7 192.0.2.1 65536 1883\r\n",   // port range
             "PROXY TCP4 203.0.113.7 192.0.2.1 05555 1883\r\n",   // leading zero
             "PROXY UDP4 203.0.113.7 192.0.2.1 5555 1883\r\n",    // not TCP
         }) {
      CAPTURE(in);
      auto r = parse_proxy_header(bytes(in));
      REQUIRE_FALSE(r.has_value());
      CHECK_FALSE(r.error().need_more);
    }
    auto too_long = parse_proxy_header(bytes("PROXY TCP6 " + std::string(120, '1')));
    REQUIRE_FALSE(too_long.has_value());
    CHECK(too_long.error().message == "PROXY v1 line too long");
  }
}

TEST_CASE("PROXY v2", "[proxy]") {
  SECTION("IPv4, with TLVs skipped") {
    std::string h = v2(1, 0x11, {203, 0, 113, 7, 192, 0, 2, 1, 0x15, 0xb3, 0x07, 0x5b},
                       std::string("\x04\x00\x01\x00", 4));
    auto r = parse_proxy_header(bytes(h + "rest"));
    REQUIRE(r.has_value());
    CHECK(r->version == 2);
    CHECK(r->consumed == h.size());
    CHECK(r->source() == "203.0.113.7:5555");
    CHECK(r->dest_ip == "192.0.2.1");
    CHECK(r->dest_port == 1883);
  }
  SECTION("IPv6") {
    std::vector<unsigned char> a(36, 0);
    a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8, a[15] = 1;
    a[16] = 0x20, a[17] = 0x01, a[18] = 0x0d, a[19] = 0xb8, a[31] = 2;
    a[32] = 0x15, a[33] = 0xb3, a[34] = 0x22, a[35] = 0xb3;
    auto r = parse_proxy_header(bytes(v2(1, 0x21, a)));
    REQUIRE(r.has_value());
    CHECK(r->source() == "[2001:db8::1]:5555");
    CHECK(r->dest_ip == "2001:db8::2");
    CHECK(r->dest_port == 8883);
  }
  SECTION("LOCAL (health checks) keeps the socket's address") {
    std::string h = v2(0, 0x00, {});
    auto r = parse_proxy_header(bytes(h));
    REQUIRE(r.has_value());
    CHECK(r->is_local);
    CHECK(r->consumed == 16);
    CHECK(r->source().empty());
  }
  SECTION("truncated: every prefix asks for more") {
    std::string h = v2(1, 0x11, {203, 0, 113, 7, 192, 0, 2, 1, 0x15, 0xb3, 0x07, 0x5b});
    for (std::size_t n = 1; n < h.size(); ++n) {
      auto r = parse_proxy_header(bytes(std::string_view(h).substr(0, n)));
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().need_more);
    }
  }
  SECTION("bad version, command, family or short address block") {
    std::string bad_version = v2(1, 0x11, std::vector<unsigned char>(12));
    bad_version[12] = 0x11;
    std::string bad_command = v2(1, 0x11, std::vector<unsigned char>(12));
    bad_command[12] = 0x22;
    for (const std::string& in :
         {bad_version, bad_command, v2(1, 0x41, {}), v2(1, 0x11, std::vector<unsigned char>(8)),
          v2(1, 0x21, std::vector<unsigned char>(12))}) {
      auto r = parse_proxy_header(bytes(in));
      REQUIRE_FALSE(r.has_value());
      CHECK_FALSE(r.error().need_more);
    }
  }
}

TEST_CASE("garbage is not a PROXY header", "[proxy]") {
  for (std::string in : {std::string("\x10\x0c\x00\x04MQTT", 8), std::string("GET / HTTP/1.1"),
                         std::string("PROXZ"), std::string("\r\n\r\nX")}) {
    auto r = parse_proxy_header(bytes(in));
    REQUIRE_FALSE(r.has_value());
    CHECK_FALSE(r.error().need_more);
    CHECK(r.error().message == "connection does not start with a PROXY protocol header");
  }
}

TEST_CASE("ProxyProtocolLayer strips the header and passes the rest through", "[proxy]") {
  ProxyProtocolLayer layer;
  ByteBlock app_in, wire;
  std::string in = "PROXY TCP4 203.0.113.7 192.0.2.1 5555 1883\r\n\x10\x0c";
  REQUIRE(layer.on_wire_data(bytes(std::string_view(in).substr(0, 10)), app_in, wire));
  CHECK_FALSE(layer.handshake_done());
  CHECK(app_in.empty());
  REQUIRE(layer.on_wire_data(bytes(std::string_view(in).substr(10)), app_in, wire));
  CHECK(layer.handshake_done());
  CHECK(layer.peer_identity() == "203.0.113.7:5555");
  CHECK(std::string(reinterpret_cast<const char*>(app_in.data()), app_in.size()) == "\x10\x0c");
  REQUIRE(layer.on_wire_data(bytes("more"), app_in, wire));
  CHECK(app_in.size() == 6);
  REQUIRE(layer.on_app_data(bytes("out"), wire));
  CHECK(wire.size() == 3);

  ProxyProtocolLayer bad;
  CHECK_FALSE(bad.on_wire_data(bytes("\x10\x0c\x00\x04MQTT"), app_in, wire));
  CHECK(bad.error() == "connection does not start with a PROXY protocol header");
  CHECK(bad.peer_identity().empty());
}
