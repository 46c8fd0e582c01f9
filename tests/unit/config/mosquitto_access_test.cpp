// mosquitto.conf access settings: allow_anonymous, password_file and acl_file for the whole
// broker, and per_listener_settings true, which shardmq takes only where its one password file
// and one ACL give every listener at least Mosquitto's protection.
#include <catch2/catch.hpp>

#include "tests/unit/config/config_fixture.hpp"

using namespace shardmq::broker;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using shardmq::test::refusal;
using shardmq::test::translate;
using shardmq::test::warned;

namespace {

bool anonymous_on(const Config& c, std::size_t listener) {
  return c.auth.anonymous_allowed(c.listeners.at(listener).allow_anonymous);
}

}  // namespace

TEST_CASE(
    "mosquitto.conf: with a listener, anonymous clients are refused unless "
    "allow_anonymous true (Mosquitto 2.0)",
    "[config][mosquitto][access]") {
  Config closed = translate("listener 1883\n").config;
  CHECK(closed.auth.allow_anonymous == false);
  CHECK_FALSE(anonymous_on(closed, 0));
  CHECK(closed.authenticates());

  Config open = translate("listener 1883\nallow_anonymous true\n").config;
  CHECK(open.auth.allow_anonymous == true);
  CHECK(anonymous_on(open, 0));

  // per_listener_settings false: wherever it is written, it is the broker's.
  Config late = translate("listener 1883\nlistener 1884\nallow_anonymous true\n").config;
  for (std::size_t i = 0; i < late.listeners.size(); ++i)
    CHECK(anonymous_on(late, i));
  CHECK_THAT(refusal("listener 1883\nallow_anonymous yes\n"),
             StartsWith("mosquitto.conf:2: allow_anonymous must be true or false, not 'yes'"));
  CHECK(translate("listener 1883\nallow_anonymous 1\n").config.auth.allow_anonymous == true);
}

TEST_CASE(
    "mosquitto.conf: local only mode lets anonymous clients in, but an explicit "
    "allow_anonymous false still holds",
    "[config][mosquitto][access]") {
  CHECK(translate("").config.auth.allow_anonymous == true);
  // Mosquitto 2.0.11 lets anonymous clients in here all the same; shardmq keeps to the file.
  CHECK(translate("allow_anonymous false\n").config.auth.allow_anonymous == false);
  // A default listener opened by a listener setting alone is still "local only" for
  // Mosquitto's anonymous default, though it listens everywhere.
  CHECK(translate("max_connections 10\n").config.auth.allow_anonymous == true);
}

TEST_CASE("mosquitto.conf: password_file and acl_file are the broker's",
          "[config][mosquitto][access]") {
  Config c = translate(
                 "listener 8883\ncertfile /c\nkeyfile /k\n"
                 "password_file /etc/mosquitto/passwd\n"
                 "listener 1883 127.0.0.1\n"
                 "acl_file /etc/mosquitto/acl\n")
                 .config;
  CHECK(c.auth.password_file == "/etc/mosquitto/passwd");
  CHECK(c.auth.acl_file == "/etc/mosquitto/acl");
  for (const ListenerConfig& l : c.listeners)
    CHECK_FALSE(l.allow_anonymous.has_value());
  CHECK(translate("password_file /a file with spaces  \n").config.auth.password_file ==
        "/a file with spaces");
  CHECK_THAT(refusal("password_file /a\nlistener 1883\npassword_file /b\n"),
             StartsWith("mosquitto.conf:3: duplicate password_file value (the first is on "
                        "mosquitto.conf:1)"));
  CHECK_THAT(refusal("acl_file /a\nacl_file /a\n"),
             StartsWith("mosquitto.conf:2: duplicate acl_file value"));
  CHECK_THAT(refusal("password_file\n"), StartsWith("mosquitto.conf:1: empty password_file value"));
}

TEST_CASE(
    "mosquitto.conf: per_listener_settings true gives each listener its own "
    "allow_anonymous, false by default",
    "[config][mosquitto][access]") {
  Config c = translate(
                 "per_listener_settings true\n"
                 "listener 1883 127.0.0.1\n"
                 "allow_anonymous true\n"
                 "listener 1884 127.0.0.1\n"
                 "listener 1885 127.0.0.1\n"
                 "allow_anonymous false\n")
                 .config;
  REQUIRE(c.listeners.size() == 3);
  CHECK(c.listeners[0].allow_anonymous == true);
  CHECK(c.listeners[1].allow_anonymous == false);
  CHECK(c.listeners[2].allow_anonymous == false);
  // Listeners added later with --listen get Mosquitto's default for a listener.
  CHECK(c.auth.allow_anonymous == false);

  // Before any listener, access settings belong to the default listener: dropped with it
  // when nothing opens it, as Mosquitto drops them.
  auto dropped = translate(
      "per_listener_settings true\nallow_anonymous true\n"
      "acl_file /acl\nlistener 1883 127.0.0.1\n");
  CHECK(dropped.config.listeners.at(0).allow_anonymous == false);
  CHECK(dropped.config.auth.acl_file.empty());
  CHECK(warned(dropped,
               "mosquitto.conf:2: allow_anonymous before any listener, with "
               "per_listener_settings true, belongs to Mosquitto's default listener"));
  CHECK(warned(dropped, "mosquitto.conf:3: acl_file before any listener"));
  Config kept = translate(
                    "per_listener_settings true\nport 1884\nallow_anonymous true\n"
                    "listener 1883 127.0.0.1\n")
                    .config;
  REQUIRE(kept.listeners.size() == 3);
  CHECK(kept.listeners[0].allow_anonymous == false);
  CHECK(kept.listeners[1].allow_anonymous == true);  // the default listener, 0.0.0.0:1884
}

TEST_CASE(
    "mosquitto.conf: per_listener_settings true with one password file and ACL for every "
    "listener that names one",
    "[config][mosquitto][access]") {
  auto m = translate(
      "per_listener_settings true\n"
      "listener 8883\ncertfile /c\nkeyfile /k\n"
      "password_file /etc/mosquitto/passwd\n"
      "acl_file /etc/mosquitto/acl\n"
      "listener 1883 127.0.0.1\n"
      "password_file /etc/mosquitto/./passwd\n"
      "allow_anonymous true\n");
  CHECK(m.config.auth.password_file == "/etc/mosquitto/passwd");
  CHECK(m.config.auth.acl_file == "/etc/mosquitto/acl");
  CHECK(m.config.listeners.at(0).allow_anonymous == false);
  CHECK(m.config.listeners.at(2).allow_anonymous == true);
  // The listener without an acl_file gets the broker's: stricter than Mosquitto, and said.
  CHECK(warned(m,
               "mosquitto.conf:7: per_listener_settings true: this listener names no "
               "acl_file; shardmq applies /etc/mosquitto/acl (mosquitto.conf:6)"));

  // A listener with anonymous clients and no password file: its users are checked too.
  auto open = translate(
      "per_listener_settings true\n"
      "listener 1883 127.0.0.1\npassword_file /p\n"
      "listener 1884 127.0.0.1\nallow_anonymous true\n");
  CHECK(open.config.auth.password_file == "/p");
  CHECK(warned(open,
               "mosquitto.conf:4: per_listener_settings true: this listener names no "
               "password_file"));

  // Certificate users need no password file.
  auto certs = translate(
      "per_listener_settings true\n"
      "listener 1883 127.0.0.1\npassword_file /p\n"
      "listener 8883 127.0.0.1\ncertfile /c\nkeyfile /k\ncafile /ca\n"
      "require_certificate true\nuse_identity_as_username true\n");
  CHECK(certs.config.listeners.at(1).use_identity_as_username);
}

TEST_CASE(
    "mosquitto.conf: per_listener_settings true that one password file or ACL cannot "
    "honour is refused",
    "[config][mosquitto][access]") {
  CHECK_THAT(refusal("per_listener_settings true\n"
                     "listener 1883\npassword_file /a\n"
                     "listener 1884\npassword_file /b\n"),
             StartsWith("mosquitto.conf:5: per_listener_settings true with password_file /b here "
                        "and /a on mosquitto.conf:3: shardmq has one password_file"));
  CHECK_THAT(refusal("per_listener_settings true\n"
                     "listener 1883\nacl_file /a\nallow_anonymous true\n"
                     "listener 1884\nacl_file /b\nallow_anonymous true\n"),
             StartsWith("mosquitto.conf:6: per_listener_settings true with acl_file /b"));
  // Mosquitto lets nobody in on 1884 (no password file, no anonymous clients); shardmq's
  // broker-wide password file would let its users in there.
  CHECK_THAT(refusal("per_listener_settings true\n"
                     "listener 1883\npassword_file /a\n"
                     "listener 1884\n"),
             StartsWith("mosquitto.conf:4: per_listener_settings true: this listener names no "
                        "password_file and refuses anonymous clients"));
  // Mosquitto's own rule.
  CHECK_THAT(refusal("allow_anonymous true\nper_listener_settings true\n"),
             StartsWith("mosquitto.conf:2: per_listener_settings must be set before any other "
                        "security setting"));
  // Once true it stays true.
  Config c = translate(
                 "per_listener_settings true\nper_listener_settings false\n"
                 "listener 1883 127.0.0.1\n")
                 .config;
  CHECK(c.listeners.at(0).allow_anonymous == false);
}

TEST_CASE("mosquitto.conf: access directives shardmq cannot honour are refused",
          "[config][mosquitto][access]") {
  for (const char* d :
       {"auth_plugin /usr/lib/mosquitto_dynamic_security.so",
        "plugin /usr/lib/mosquitto_dynamic_security.so", "auth_opt_db_host localhost",
        "plugin_opt_config_file /x", "psk_file /etc/mosquitto/psk", "psk_hint hint",
        "capath /etc/ssl/certs", "crlfile /etc/mosquitto/crl.pem", "clientid_prefixes secure-",
        "use_username_as_clientid true", "allow_zero_length_clientid false",
        "check_retain_source true", "tls_keyform engine", "tls_engine pkcs11"}) {
    const std::string text = std::string("listener 1883\n") + d + "\n";
    INFO(text);
    CHECK_THAT(refusal(text),
               StartsWith("mosquitto.conf:2: directive ") && Contains(" is not supported: "));
  }
  // The values that are shardmq's behaviour anyway are accepted.
  translate(
      "listener 1883\nuse_username_as_clientid false\nallow_zero_length_clientid true\n"
      "check_retain_source false\n");
}
