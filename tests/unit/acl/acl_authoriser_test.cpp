// AclAuthoriser: the Authoriser interface over AclRules, and its per-shard decision cache
// (same answers as without it, exact keys, bounded memory, forgotten on reload).
#include <catch2/catch.hpp>

#include <memory>
#include <random>
#include <string>

#include "broker/auth/acl_authoriser.hpp"

using shardmq::broker::AclAccess;
using shardmq::broker::AclAuthoriser;
using shardmq::broker::AclDecisionCache;
using shardmq::broker::AclRules;
using shardmq::broker::ClientIdentity;

namespace {

std::shared_ptr<const AclRules> rules_of(std::string_view text) {
  auto r = AclRules::parse(text, "acl.conf");
  INFO((r ? std::string() : r.error().to_string()));
  REQUIRE(r);
  return std::make_shared<const AclRules>(std::move(r).value());
}

constexpr std::string_view kFile =
    "topic read public/#\n"
    "user alice\n"
    "topic readwrite alice/#\n"
    "topic deny alice/locked\n"
    "pattern readwrite clients/%c/#\n"
    "pattern read users/%u/#\n";

}  // namespace

TEST_CASE("acl authoriser: publish, subscribe and receive map to write, subscribe and read",
          "[acl][authoriser]") {
  AclAuthoriser auth(rules_of(kFile));
  CHECK(auth.restricts());
  const ClientIdentity alice{"phone", "alice"};
  const ClientIdentity anon{"k1", std::nullopt};
  CHECK(auth.may_publish(alice, "alice/x"));
  CHECK_FALSE(auth.may_publish(alice, "alice/locked"));
  CHECK(auth.may_receive(alice, "users/alice/inbox"));
  CHECK_FALSE(auth.may_publish(alice, "users/alice/inbox"));
  // SUBSCRIBE: granted where a read grant overlaps the filter (docs/security.md).
  CHECK(auth.may_subscribe(alice, "#"));
  CHECK(auth.may_subscribe(alice, "users/+/inbox"));
  CHECK_FALSE(auth.may_subscribe(alice, "alice/locked"));
  CHECK(auth.may_subscribe(anon, "clients/k1/#"));
  CHECK_FALSE(auth.may_subscribe(anon, "anything/+"));
  CHECK_FALSE(auth.may_subscribe(anon, "users/+/inbox"));
  // Anonymous: the rules before any user line apply.
  CHECK(auth.may_receive(anon, "public/news"));
  CHECK_FALSE(auth.may_publish(anon, "public/news"));
  CHECK(auth.may_publish(anon, "clients/k1/up"));
  CHECK_FALSE(auth.may_receive(anon, "users//inbox"));  // %u patterns skip anonymous clients
}

TEST_CASE("acl authoriser: clients never publish to $SYS or $share, whatever the rules",
          "[acl][authoriser]") {
  AclAuthoriser auth(
      rules_of("topic readwrite #\ntopic readwrite $SYS/#\n"
               "topic readwrite $share/#\ntopic readwrite $SYSTEM/#\n"
               "topic readwrite $custom/#\n"));
  const ClientIdentity anon{"k1", std::nullopt};
  CHECK(auth.may_publish(anon, "a/b"));
  CHECK(auth.may_publish(anon, "$custom/x"));  // other '$' topics are up to the rules
  CHECK_FALSE(auth.may_publish(anon, "$SYS/x"));
  CHECK_FALSE(auth.may_publish(anon, "$SYS"));
  // Mosquitto's test is on the bytes: "$SYSTEM" starts with "$SYS".
  CHECK_FALSE(auth.may_publish(anon, "$SYSTEM/x"));
  // Mosquitto lets this one through for its bridges; shardmq has none.
  CHECK_FALSE(auth.may_publish(anon, "$SYS/broker/connection/b1/state"));
  CHECK_FALSE(auth.may_publish(anon, "$share/g/x"));
  CHECK_FALSE(auth.may_publish(anon, "$share"));
  // Reading and subscribing to $SYS stay with the rules.
  CHECK(auth.may_receive(anon, "$SYS/broker/uptime"));
  CHECK(auth.may_subscribe(anon, "$SYS/#"));
  CHECK(auth.rules().allows("k1", std::nullopt, "$SYS/x", AclAccess::write));
}

TEST_CASE("acl authoriser: cached answers are the rules' answers", "[acl][authoriser]") {
  const auto rules = rules_of(kFile);
  AclAuthoriser cached(rules, 64);  // small, so slots are overwritten often
  std::mt19937 rng(7);
  const char* ids[] = {"phone", "k1", "k2", "a/b"};
  const std::optional<std::string_view> users[] = {std::nullopt, "alice", "bob", ""};
  const char* topics[] = {"public/a",      "alice/x",        "alice/locked", "clients/k1/up",
                          "clients/k2/up", "users/alice/in", "users/bob/in", "clients/a/b/c",
                          "other",         "public"};
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  for (int i = 0; i < 20000; ++i) {
    const ClientIdentity who{ids[pick(4)], users[pick(4)]};
    const std::string_view topic = topics[pick(10)];
    const std::optional<std::string_view> user = who.username;
    if (pick(2) == 0) {
      REQUIRE(cached.may_publish(who, topic) ==
              rules->allows(who.client_id, user, topic, AclAccess::write));
    } else {
      REQUIRE(cached.may_receive(who, topic) ==
              rules->allows(who.client_id, user, topic, AclAccess::read));
    }
  }
  CHECK(cached.cache().hits() > 2000);  // 320 keys over 64 slots: many evictions too
  CHECK(cached.cache().misses() > 0);
}

TEST_CASE("acl cache: keys are compared whole", "[acl][authoriser]") {
  AclDecisionCache cache(16);
  REQUIRE_FALSE(cache.find("ab", "c", "t", AclAccess::read));
  cache.store(true);
  CHECK(cache.find("ab", "c", "t", AclAccess::read) == std::optional<bool>(true));
  // The same bytes split differently, another access, no user vs an empty one: misses.
  CHECK_FALSE(cache.find("a", "bc", "t", AclAccess::read));
  CHECK_FALSE(cache.find("ab", "", "ct", AclAccess::read));
  CHECK_FALSE(cache.find("ab", "c", "t", AclAccess::write));
  REQUIRE_FALSE(cache.find("x", std::nullopt, "t", AclAccess::read));
  cache.store(false);
  CHECK(cache.find("x", std::nullopt, "t", AclAccess::read) == std::optional<bool>(false));
  CHECK_FALSE(cache.find("x", "", "t", AclAccess::read));
}

TEST_CASE("acl cache: memory is fixed; long keys are decided, not kept", "[acl][authoriser]") {
  AclDecisionCache cache(1000);
  CHECK(cache.slot_count() == 1024);
  CHECK(cache.memory_bytes() == 1024 * 128);
  const std::string long_topic(AclDecisionCache::kKeyBytes, 't');
  REQUIRE_FALSE(cache.find("c", std::nullopt, long_topic, AclAccess::read));
  cache.store(true);
  CHECK_FALSE(cache.find("c", std::nullopt, long_topic, AclAccess::read));  // not kept
  for (int i = 0; i < 100000; ++i) {
    if (!cache.find("c" + std::to_string(i), "u", "t/" + std::to_string(i), AclAccess::read)) {
      cache.store(i % 2 == 0);
    }
  }
  CHECK(cache.memory_bytes() == 1024 * 128);

  AclDecisionCache off(0);
  REQUIRE_FALSE(off.find("c", std::nullopt, "t", AclAccess::read));
  off.store(true);
  CHECK_FALSE(off.find("c", std::nullopt, "t", AclAccess::read));
  CHECK(off.memory_bytes() == 0);

  // A long key through the authoriser is still answered correctly.
  AclAuthoriser auth(rules_of("topic readwrite #\n"));
  CHECK(auth.may_publish(ClientIdentity{"c", std::nullopt}, long_topic));
  CHECK(auth.may_publish(ClientIdentity{"c", std::nullopt}, long_topic));
}

TEST_CASE("acl cache: stands aside while it cannot hit, then tries again", "[acl][authoriser]") {
  AclDecisionCache cache(1024);
  for (std::uint32_t i = 0; i < AclDecisionCache::kWindow; ++i) {  // every key new: no hits
    REQUIRE_FALSE(cache.find("c", std::nullopt, "t/" + std::to_string(i), AclAccess::read));
    cache.store(true);
  }
  REQUIRE_FALSE(cache.find("c", std::nullopt, "k", AclAccess::read));
  cache.store(true);  // ignored: the cache is standing aside
  CHECK_FALSE(cache.find("c", std::nullopt, "k", AclAccess::read));
  for (std::uint32_t i = 2; i < AclDecisionCache::kStandAside; ++i) {
    cache.find("c", std::nullopt, "k", AclAccess::read);
  }
  REQUIRE_FALSE(cache.find("c", std::nullopt, "k", AclAccess::read));  // looked up again
  cache.store(false);
  CHECK(cache.find("c", std::nullopt, "k", AclAccess::read) == std::optional<bool>(false));
}

TEST_CASE("acl authoriser: replacing the rules forgets every cached decision",
          "[acl][authoriser]") {
  AclAuthoriser auth(rules_of("topic readwrite a/#\n"));
  const ClientIdentity who{"c", std::nullopt};
  CHECK(auth.may_publish(who, "a/b"));
  CHECK(auth.may_publish(who, "a/b"));  // now cached
  auth.replace_rules(rules_of("topic read a/#\n"));
  CHECK_FALSE(auth.may_publish(who, "a/b"));
  CHECK(auth.may_receive(who, "a/b"));
}
