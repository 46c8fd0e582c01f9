#include <catch2/catch.hpp>

#include "io/tls_layer.hpp"
#include "tls_client.hpp"

using shardmq::io::ByteBlock;
using shardmq::io::ClientCertPolicy;
using shardmq::io::TlsContext;
using shardmq::io::TlsLayer;
using shardmq::io::TlsOptions;
using namespace shardmq::test;

namespace {

std::shared_ptr<TlsContext> server_ctx(ClientCertPolicy policy = ClientCertPolicy::none,
                                       std::string min_version = "1.2") {
  TlsOptions o;
  o.cert_file = test_pki().server.cert;
  o.key_file = test_pki().server.key;
  o.ca_file = test_pki().ca_cert;
  o.client_cert = policy;
  o.min_version = min_version;
  auto r = TlsContext::create(o);
  REQUIRE(r.has_value());
  return *r;
}

}  // namespace

TEST_CASE("TLS handshake, then data both ways", "[tls]") {
  int version = GENERATE(TLS1_2_VERSION, TLS1_3_VERSION);
  CAPTURE(version);
  TlsLayer server(server_ctx());
  TlsClient client(nullptr, version);
  ByteBlock app_in;

  // Bytes the broker sends before the handshake finishes are held, then delivered.
  ByteBlock early;
  REQUIRE(server.on_app_data(bytes("early"), early));
  CHECK(early.empty());

  REQUIRE(pump(client, server, app_in));
  REQUIRE(server.handshake_done());
  REQUIRE(client.connected());
  CHECK(SSL_version(client.ssl()) == version);
  CHECK(server.peer_identity().empty());
  CHECK(server.error().empty());

  client.write("hello broker");
  REQUIRE(pump(client, server, app_in));
  CHECK(text(app_in) == "hello broker");

  ByteBlock wire;
  REQUIRE(server.on_app_data(bytes(" hello client"), wire));
  client.feed({wire.data(), wire.size()});
  client.step();
  CHECK(client.received == "early hello client");
}

TEST_CASE("TLS carries large data in both directions", "[tls]") {
  TlsLayer server(server_ctx());
  TlsClient client(nullptr);
  ByteBlock app_in;
  REQUIRE(pump(client, server, app_in));

  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>(i * 131 + (i >> 9));
  client.write(big);
  REQUIRE(pump(client, server, app_in));
  CHECK(text(app_in) == big);

  ByteBlock wire;
  REQUIRE(server.on_app_data(bytes(big), wire));
  CHECK(wire.size() > big.size());  // records add headers and tags
  // Deliver in odd-sized pieces, as a socket would.
  for (std::size_t at = 0; at < wire.size(); at += 7001) {
    std::size_t n = std::min<std::size_t>(7001, wire.size() - at);
    client.feed({wire.data() + at, n});
    client.step();
  }
  CHECK(client.received == big);
}

TEST_CASE("TLS handshake fed one byte at a time", "[tls]") {
  TlsLayer server(server_ctx());
  TlsClient client(nullptr);
  ByteBlock app_in;
  for (int round = 0; round < 20 && !server.handshake_done(); ++round) {
    client.step();
    std::string out = client.drain();
    ByteBlock wire;
    for (char ch : out)
      REQUIRE(server.on_wire_data(bytes(std::string_view(&ch, 1)), app_in, wire));
    client.feed({wire.data(), wire.size()});
  }
  REQUIRE(server.handshake_done());
  client.write("x");
  REQUIRE(pump(client, server, app_in));
  CHECK(text(app_in) == "x");
}

TEST_CASE("TLS client certificate required", "[tls]") {
  int version = GENERATE(TLS1_2_VERSION, TLS1_3_VERSION);
  CAPTURE(version);
  auto ctx = server_ctx(ClientCertPolicy::required);
  ByteBlock app_in;

  SECTION("a certificate from the trusted CA gives its CN as identity") {
    TlsLayer server(ctx);
    TlsClient client(&test_pki().client, version);
    REQUIRE(pump(client, server, app_in));
    REQUIRE(server.handshake_done());
    CHECK(server.peer_identity() == "alice");
  }
  SECTION("without a CN, the first DNS SAN is the identity") {
    TlsLayer server(ctx);
    TlsClient client(&test_pki().san_client, version);
    REQUIRE(pump(client, server, app_in));
    CHECK(server.peer_identity() == "bob.example");
  }
  SECTION("no certificate fails the handshake") {
    TlsLayer server(ctx);
    TlsClient client(nullptr, version);
    CHECK_FALSE(pump(client, server, app_in));
    CHECK_FALSE(server.handshake_done());
    CHECK(server.error().find("TLS handshake failed") == 0);
    CHECK(server.error().find("certificate") != std::string::npos);
    CHECK(server.peer_identity().empty());
    ByteBlock wire;
    CHECK_FALSE(server.on_wire_data({}, app_in, wire));  // stays failed
    CHECK_FALSE(server.on_app_data(bytes("x"), wire));
  }
  SECTION("a certificate from an untrusted CA fails the handshake") {
    TlsLayer server(ctx);
    TlsClient client(&test_pki().rogue, version);
    CHECK_FALSE(pump(client, server, app_in));
    CHECK(server.error().find("unable to get local issuer certificate") != std::string::npos);
    CHECK(server.peer_identity().empty());
  }
}

TEST_CASE("TLS client certificate optional", "[tls]") {
  auto ctx = server_ctx(ClientCertPolicy::optional);
  ByteBlock app_in;
  SECTION("without one, the connection proceeds anonymously") {
    TlsLayer server(ctx);
    TlsClient client(nullptr);
    REQUIRE(pump(client, server, app_in));
    REQUIRE(server.handshake_done());
    CHECK(server.peer_identity().empty());
  }
  SECTION("with one, it is verified and named") {
    TlsLayer server(ctx);
    TlsClient client(&test_pki().client);
    REQUIRE(pump(client, server, app_in));
    CHECK(server.peer_identity() == "alice");
  }
  SECTION("an untrusted one is refused") {
    TlsLayer server(ctx);
    TlsClient client(&test_pki().rogue);
    CHECK_FALSE(pump(client, server, app_in));
  }
}

TEST_CASE("TLS without client certificates ignores them", "[tls]") {
  TlsLayer server(server_ctx(ClientCertPolicy::none));
  TlsClient client(&test_pki().client);
  ByteBlock app_in;
  REQUIRE(pump(client, server, app_in));
  REQUIRE(server.handshake_done());
  CHECK(server.peer_identity().empty());  // never requested, so never presented
}

TEST_CASE("TLS minimum version 1.3 refuses a TLS 1.2 client", "[tls]") {
  TlsLayer server(server_ctx(ClientCertPolicy::none, "1.3"));
  TlsClient client(nullptr, TLS1_2_VERSION);
  ByteBlock app_in;
  CHECK_FALSE(pump(client, server, app_in));
  CAPTURE(server.error());
  CHECK(server.error().find("unsupported protocol") != std::string::npos);
}

TEST_CASE("plain bytes on a TLS port fail with a clear error", "[tls]") {
  ByteBlock app_in, wire;
  SECTION("an MQTT CONNECT") {
    TlsLayer server(server_ctx());
    const unsigned char connect[] = {0x10, 0x10, 0x00, 0x04, 'M',  'Q', 'T', 'T', 0x04,
                                     0x02, 0x00, 0x3c, 0x00, 0x04, 'a', 'b', 'c', 'd'};
    CHECK_FALSE(server.on_wire_data({reinterpret_cast<const std::byte*>(connect), sizeof connect},
                                    app_in, wire));
    CHECK(server.error().find("TLS handshake failed: error:") == 0);
    CHECK(app_in.empty());
  }
  SECTION("an HTTP request") {
    TlsLayer server(server_ctx());
    CHECK_FALSE(server.on_wire_data(bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), app_in, wire));
    CHECK(server.error().find("http request") != std::string::npos);
  }
}

TEST_CASE("TLS close_notify both ways", "[tls]") {
  auto ctx = server_ctx();
  ByteBlock app_in;
  SECTION("server closes") {
    TlsLayer server(ctx);
    TlsClient client(nullptr);
    REQUIRE(pump(client, server, app_in));
    ByteBlock wire;
    server.close(wire);
    REQUIRE_FALSE(wire.empty());
    CHECK_FALSE(server.on_app_data(bytes("late"), wire));  // nothing after close_notify
    client.feed({wire.data(), wire.size()});
    client.step();
    CHECK(client.got_close_notify);
  }
  SECTION("client closes") {
    TlsLayer server(ctx);
    TlsClient client(nullptr);
    REQUIRE(pump(client, server, app_in));
    client.write("last words");
    SSL_shutdown(client.ssl());
    std::string out = client.drain();
    ByteBlock wire;
    CHECK_FALSE(server.on_wire_data(bytes(out), app_in, wire));
    CHECK(text(app_in) == "last words");  // data before close_notify still delivered
    CHECK(server.peer_closed());
    CHECK(server.error().find("closed by peer") == 0);
    CHECK_FALSE(wire.empty());  // our close_notify in reply
  }
}

TEST_CASE("TLS sessions resume", "[tls]") {
  int version = GENERATE(TLS1_2_VERSION, TLS1_3_VERSION);
  // Tickets (stateless), or the server's session cache when the client refuses tickets.
  bool tickets = GENERATE(true, false);
  CAPTURE(version, tickets);
  auto ctx = server_ctx(ClientCertPolicy::optional);
  ByteBlock app_in;
  SSL_SESSION* session = nullptr;
  {
    TlsLayer server(ctx);
    TlsClient client(&test_pki().client, version, nullptr, tickets);
    REQUIRE(pump(client, server, app_in));
    CHECK_FALSE(server.session_reused());
    // TLS 1.3 tickets come after the handshake; one exchange of data lets the client take them.
    ByteBlock wire;
    REQUIRE(server.on_app_data(bytes("x"), wire));
    client.feed({wire.data(), wire.size()});
    client.step();
    session = SSL_get1_session(client.ssl());
    REQUIRE(session != nullptr);
    REQUIRE(SSL_SESSION_is_resumable(session));
    // The client leaves without close_notify; the server layer is simply destroyed.
    client.leave_quietly();
  }
  TlsLayer server(ctx);
  TlsClient client(&test_pki().client, version, session, tickets);
  SSL_SESSION_free(session);
  REQUIRE(pump(client, server, app_in));
  REQUIRE(server.handshake_done());
  CHECK(SSL_session_reused(client.ssl()) == 1);
  CHECK(server.session_reused());
  CHECK(server.peer_identity() == "alice");  // the identity survives resumption
}
