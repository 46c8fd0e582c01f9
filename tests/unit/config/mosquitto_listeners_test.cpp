// mosquitto.conf listeners: where they listen, which transport, TLS, and Mosquitto's default
// listener and "local only" mode, as Mosquitto 2.0.11 opens them.
#include <catch2/catch.hpp>

#include "tests/unit/config/config_fixture.hpp"

using namespace shardmq::broker;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using shardmq::io::ClientCertPolicy;
using shardmq::test::refusal;
using shardmq::test::translate;
using shardmq::test::warned;

namespace {

std::vector<std::string> urls(const Config& c) {
  std::vector<std::string> out;
  for (const ListenerConfig& l : c.listeners)
    out.push_back(listener_url(l));
  return out;
}

using Urls = std::vector<std::string>;

}  // namespace

TEST_CASE(
    "mosquitto.conf: listener PORT ADDRESS listens there; without an address on IPv4 and "
    "IPv6",
    "[config][mosquitto]") {
  CHECK(urls(translate("listener 1884 127.0.0.1\n").config) == Urls{"mqtt://127.0.0.1:1884"});
  CHECK(urls(translate("listener 1884 ::1\n").config) == Urls{"mqtt://[::1]:1884"});
  CHECK(urls(translate("listener 1884 localhost\n").config) == Urls{"mqtt://localhost:1884"});
  CHECK(urls(translate("listener 1884\n").config) ==
        Urls{"mqtt://0.0.0.0:1884", "mqtt://[::]:1884"});
  CHECK(urls(translate("listener 1884 # all addresses\n").config) ==
        Urls{"mqtt://0.0.0.0:1884", "mqtt://[::]:1884"});
  CHECK(urls(translate("listener 1884\nlistener 1885 10.0.0.1\n").config) ==
        Urls{"mqtt://0.0.0.0:1884", "mqtt://[::]:1884", "mqtt://10.0.0.1:1885"});
}

TEST_CASE("mosquitto.conf: socket_domain picks the family of a listener without an address",
          "[config][mosquitto]") {
  CHECK(urls(translate("listener 1884\nsocket_domain ipv4\n").config) ==
        Urls{"mqtt://0.0.0.0:1884"});
  CHECK(urls(translate("listener 1884\nsocket_domain ipv6\n").config) == Urls{"mqtt://[::]:1884"});
  CHECK(urls(translate("listener 1884 localhost\nsocket_domain ipv6\n").config) ==
        Urls{"mqtt://[::1]:1884"});
  CHECK_THAT(refusal("listener 1884 ::1\nsocket_domain ipv4\n"),
             StartsWith("mosquitto.conf:1: socket_domain ipv4 does not match"));
  CHECK_THAT(refusal("listener 1884\nsocket_domain ipv5\n"),
             StartsWith("mosquitto.conf:2: socket_domain must be ipv4 or ipv6"));
}

TEST_CASE("mosquitto.conf: protocol websockets is ws:// on /mqtt, wss:// with certfile",
          "[config][mosquitto]") {
  auto ws = translate("listener 8080 127.0.0.1\nprotocol websockets\n").config;
  REQUIRE(ws.listeners.size() == 1);
  CHECK(ws.listeners[0].kind == ListenerKind::ws);
  CHECK(listener_url(ws.listeners[0]) == "ws://127.0.0.1:8080/mqtt");

  auto wss =
      translate("listener 8081 127.0.0.1\nprotocol websockets\ncertfile /c.pem\nkeyfile /k.pem\n")
          .config;
  CHECK(wss.listeners.at(0).kind == ListenerKind::wss);
  CHECK(listener_url(wss.listeners[0]) == "wss://127.0.0.1:8081/mqtt");

  auto mqtt = translate("listener 1884 127.0.0.1\nprotocol mqtt\n").config;
  CHECK(mqtt.listeners.at(0).kind == ListenerKind::mqtt);
  CHECK_THAT(refusal("listener 1884\nprotocol quic\n"),
             StartsWith("mosquitto.conf:2: protocol must be mqtt or websockets"));
}

TEST_CASE(
    "mosquitto.conf: certfile and keyfile make TLS; cafile, require_certificate, "
    "ciphers and tls_version go with them",
    "[config][mosquitto]") {
  auto c = translate(
               "listener 8883 127.0.0.1\n"
               "certfile /etc/mosquitto/certs/server.crt\n"
               "keyfile /etc/mosquitto/certs/server.key\n"
               "cafile /etc/mosquitto/ca_certificates/ca.crt\n"
               "require_certificate true\n"
               "use_identity_as_username true\n"
               "ciphers ECDHE-ECDSA-AES128-GCM-SHA256\n"
               "ciphers_tls1.3 TLS_AES_128_GCM_SHA256\n"
               "tls_version tlsv1.3\n"
               "listener 1883 127.0.0.1\n")
               .config;
  REQUIRE(c.listeners.size() == 2);
  const ListenerConfig& tls = c.listeners[0];
  CHECK(tls.kind == ListenerKind::mqtts);
  CHECK(tls.tls.cert_file == "/etc/mosquitto/certs/server.crt");
  CHECK(tls.tls.key_file == "/etc/mosquitto/certs/server.key");
  CHECK(tls.tls.ca_file == "/etc/mosquitto/ca_certificates/ca.crt");
  CHECK(tls.tls.client_cert == ClientCertPolicy::required);
  CHECK(tls.use_identity_as_username);
  CHECK_FALSE(tls.use_subject_as_username);
  CHECK(tls.tls.ciphers == "ECDHE-ECDSA-AES128-GCM-SHA256");
  CHECK(tls.tls.ciphersuites == "TLS_AES_128_GCM_SHA256");
  CHECK(tls.tls.min_version == "1.3");
  // The next listener starts with none of it.
  CHECK(c.listeners[1].kind == ListenerKind::mqtt);
  CHECK(c.listeners[1].tls.cert_file.empty());
  CHECK(c.listeners[1].tls.client_cert == ClientCertPolicy::none);

  // Without require_certificate Mosquitto asks no client for a certificate, cafile or not.
  auto no_client_certs =
      translate(
          "listener 8883\ncertfile /c\nkeyfile /k\ncafile /ca\nuse_subject_as_username "
          "false\n")
          .config;
  CHECK(no_client_certs.listeners.at(0).tls.client_cert == ClientCertPolicy::none);
  CHECK(no_client_certs.listeners.at(0).tls.ca_file == "/ca");

  auto subject = translate(
      "listener 8883\ncertfile /c\nkeyfile /k\ncafile /ca\n"
      "require_certificate true\nuse_subject_as_username true\n");
  CHECK(subject.config.listeners.at(0).use_subject_as_username);

  auto old_tls = translate("listener 8883\ncertfile /c\nkeyfile /k\ntls_version tlsv1.1\n");
  CHECK(old_tls.config.listeners.at(0).tls.min_version == "1.2");
  CHECK(warned(old_tls, "mosquitto.conf:4: tls_version tlsv1.1"));
}

TEST_CASE(
    "mosquitto.conf: TLS settings that Mosquitto would quietly serve as plain MQTT are "
    "refused",
    "[config][mosquitto]") {
  CHECK_THAT(refusal("listener 8883\ncertfile /c\n"),
             StartsWith("mosquitto.conf:2: certfile without keyfile"));
  CHECK_THAT(refusal("listener 8883\nkeyfile /k\n"),
             StartsWith("mosquitto.conf:2: keyfile without certfile"));
  CHECK_THAT(refusal("listener 1883\nrequire_certificate true\n"),
             StartsWith("mosquitto.conf:2: directive require_certificate needs certfile and "
                        "keyfile"));
  CHECK_THAT(refusal("listener 1883\nuse_identity_as_username true\n"),
             StartsWith("mosquitto.conf:2: use_identity_as_username and use_subject_as_username "
                        "need a TLS listener"));
  CHECK_THAT(refusal("listener 8883\ncertfile /c\nkeyfile /k\nuse_subject_as_username true\n"),
             StartsWith("mosquitto.conf:4:"));
  CHECK_THAT(refusal("listener 8883\ncertfile /c\ncertfile /d\n"),
             StartsWith("mosquitto.conf:3: duplicate certfile value (the first is on "
                        "mosquitto.conf:2)"));
  CHECK_THAT(refusal("listener 8883\ncertfile /c\nkeyfile /k\ntls_version sslv3\n"),
             StartsWith("mosquitto.conf:4: tls_version must be"));
  auto plain_ca = translate("listener 1883\ncafile /ca\n");
  CHECK(warned(plain_ca, "mosquitto.conf:2: cafile on a listener without certfile and keyfile"));
}

TEST_CASE(
    "mosquitto.conf: max_connections limits the listener it follows; -1 and 0 are "
    "unlimited",
    "[config][mosquitto]") {
  auto c = translate(
               "listener 1884 127.0.0.1\nmax_connections 100\n"
               "listener 1885 127.0.0.1\nmax_connections -1\n"
               "listener 1886 127.0.0.1\nmax_connections 0\n")
               .config;
  REQUIRE(c.listeners.size() == 3);
  CHECK(c.listeners[0].max_connections == 100);
  CHECK(c.listeners[1].max_connections == 0);
  CHECK(c.listeners[2].max_connections == 0);
  CHECK(c.max_connections == 0);  // Mosquitto 2.0 has no broker-wide limit
  CHECK(translate("listener 1884\nglobal_max_connections 5000\n").config.max_connections == 5000);
  CHECK_THAT(refusal("listener 1884\nmax_connections lots\n"),
             StartsWith("mosquitto.conf:2: max_connections must be a whole number, not 'lots'"));
}

TEST_CASE(
    "mosquitto.conf: port and bind_address configure the default listener, opened after "
    "the others",
    "[config][mosquitto]") {
  CHECK(urls(translate("port 1884\n").config) == Urls{"mqtt://0.0.0.0:1884", "mqtt://[::]:1884"});
  CHECK(urls(translate("bind_address 127.0.0.1\n").config) == Urls{"mqtt://127.0.0.1:1883"});
  CHECK(urls(translate("port 1884\nbind_address 127.0.0.1\n").config) ==
        Urls{"mqtt://127.0.0.1:1884"});
  CHECK(urls(translate("port 1884\nlistener 1885 127.0.0.1\n").config) ==
        Urls{"mqtt://127.0.0.1:1885", "mqtt://0.0.0.0:1884", "mqtt://[::]:1884"});
  // bind_address and port always mean the default listener, after a `listener` too.
  CHECK(urls(translate("listener 1885 127.0.0.1\nport 1886\n").config) ==
        Urls{"mqtt://127.0.0.1:1885", "mqtt://0.0.0.0:1886", "mqtt://[::]:1886"});
  auto twice = translate("port 1884\nport 1885\n");
  CHECK(urls(twice.config) == Urls{"mqtt://0.0.0.0:1885", "mqtt://[::]:1885"});
  CHECK(warned(twice, "mosquitto.conf:2: the default listener's port is given more than once"));
}

TEST_CASE(
    "mosquitto.conf: a listener setting before any listener opens Mosquitto's default "
    "listener on 1883",
    "[config][mosquitto]") {
  // Mosquitto 2.0.11 with only "max_connections 5" listens on 0.0.0.0:1883 and [::]:1883.
  auto c = translate("max_connections 5\n").config;
  CHECK(urls(c) == Urls{"mqtt://0.0.0.0:1883", "mqtt://[::]:1883"});
  CHECK(c.listeners[0].max_connections == 5);
  CHECK(urls(translate("max_connections 5\nlistener 1885 127.0.0.1\n").config) ==
        Urls{"mqtt://127.0.0.1:1885", "mqtt://0.0.0.0:1883", "mqtt://[::]:1883"});
  // Values that leave the listener as it was do not.
  CHECK(urls(translate("max_connections -1\nprotocol mqtt\nrequire_certificate false\n"
                       "listener 1885 127.0.0.1\n")
                 .config) == Urls{"mqtt://127.0.0.1:1885"});
}

TEST_CASE("mosquitto.conf: no listener at all is Mosquitto's local only mode",
          "[config][mosquitto]") {
  for (const char* text : {"", "# nothing\n", "sys_interval 5\nallow_anonymous true\n"}) {
    Config c = translate(text).config;
    CHECK(urls(c) == Urls{"mqtt://127.0.0.1:1883", "mqtt://[::1]:1883"});
    CHECK(c.auth.anonymous_allowed(c.listeners[0].allow_anonymous));
  }
}

TEST_CASE("mosquitto.conf: listener values shardmq cannot serve are refused with file and line",
          "[config][mosquitto]") {
  CHECK_THAT(refusal("listener\n"), StartsWith("mosquitto.conf:1: empty listener value"));
  CHECK_THAT(refusal("listener 70000\n"),
             StartsWith("mosquitto.conf:1: listener port 70000 is out of range"));
  CHECK_THAT(refusal("# unix socket\nlistener 0 /run/mosquitto.sock\n"),
             StartsWith("mosquitto.conf:2: listener 0 is a Unix socket"));
  CHECK_THAT(refusal("listener 1883 broker.example.com\n"),
             StartsWith("mosquitto.conf:1: bind address 'broker.example.com' is not an IP "
                        "address"));
  CHECK_THAT(refusal("listener 1883 127.0.0.1\nlistener 1883 127.0.0.1\n"),
             StartsWith("mosquitto.conf:2: a second listener on 127.0.0.1 port 1883"));
  CHECK_THAT(refusal("listener 1883\nbind_interface eth0\n"),
             Contains("mosquitto.conf:2: directive bind_interface is not supported:"));
  CHECK_THAT(refusal("listener 1883\nmount_point tenant1/\n"),
             StartsWith("mosquitto.conf:2: directive mount_point is not supported:"));
}
