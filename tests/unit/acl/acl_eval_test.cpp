// Deciding with compiled ACL rules: Mosquitto 2.0's order (the client's own rules, then the
// patterns; deny before allow within each), %c/%u, anonymous clients, $SYS, and shardmq's own
// SUBSCRIBE rule (docs/security.md: overlap with a read grant, no covering deny).
#include <catch2/catch.hpp>

#include <string>

#include "broker/auth/acl_rules.hpp"

using shardmq::broker::AclAccess;
using shardmq::broker::AclRules;

namespace {

constexpr auto kRead = AclAccess::read;
constexpr auto kWrite = AclAccess::write;
constexpr auto kSubscribe = AclAccess::subscribe;

AclRules parsed(std::string_view text) {
  auto r = AclRules::parse(text, "acl.conf");
  INFO((r ? std::string() : r.error().to_string()));
  REQUIRE(r);
  return std::move(r).value();
}

}  // namespace

TEST_CASE("acl eval: read, write and wildcards in rules", "[acl][eval]") {
  const AclRules rules = parsed(
      "user alice\n"
      "topic read sensors/+/temp\n"
      "topic write cmd/#\n"
      "topic readwrite chat\n");
  CHECK(rules.allows("c", "alice", "sensors/k1/temp", kRead));
  CHECK_FALSE(rules.allows("c", "alice", "sensors/k1/temp", kWrite));
  CHECK_FALSE(rules.allows("c", "alice", "sensors/k1/hum", kRead));
  CHECK_FALSE(rules.allows("c", "alice", "sensors/temp", kRead));
  CHECK(rules.allows("c", "alice", "cmd", kWrite));  // `#` covers its parent level too
  CHECK(rules.allows("c", "alice", "cmd/a/b", kWrite));
  CHECK_FALSE(rules.allows("c", "alice", "cmdx", kWrite));
  CHECK(rules.allows("c", "alice", "chat", kRead));
  CHECK(rules.allows("c", "alice", "chat", kWrite));
  CHECK_FALSE(rules.allows("c", "alice", "chat/x", kRead));
  CHECK_FALSE(rules.allows("c", "bob", "chat", kRead));
}

TEST_CASE("acl eval: a matching deny wins over any allow, wherever it is in the file",
          "[acl][eval]") {
  const AclRules after = parsed(
      "user alice\n"
      "topic readwrite home/#\n"
      "topic deny home/secret/#\n");
  const AclRules before = parsed(
      "user alice\n"
      "topic deny home/secret/#\n"
      "topic readwrite home/#\n");
  for (const AclRules* rules : {&after, &before}) {
    CHECK(rules->allows("c", "alice", "home/kitchen", kWrite));
    CHECK_FALSE(rules->allows("c", "alice", "home/secret", kRead));
    CHECK_FALSE(rules->allows("c", "alice", "home/secret/x", kWrite));
  }
  // A deny is no access at all: it refuses reads and writes alike.
  const AclRules narrow = parsed("topic read a/#\ntopic deny a/b\n");
  CHECK_FALSE(narrow.allows("c", std::nullopt, "a/b", kRead));
  CHECK(narrow.allows("c", std::nullopt, "a/c", kRead));
}

TEST_CASE("acl eval: a rule of the wrong access does not stop the search", "[acl][eval]") {
  const AclRules rules = parsed(
      "user alice\n"
      "topic read a/#\n"
      "topic write a/b\n");
  CHECK(rules.allows("c", "alice", "a/b", kWrite));  // the read rule matched first; no matter
  CHECK(rules.allows("c", "alice", "a/b", kRead));
  CHECK_FALSE(rules.allows("c", "alice", "a/c", kWrite));
}

TEST_CASE("acl eval: the user's own rules decide before any pattern", "[acl][eval]") {
  const AclRules rules = parsed(
      "pattern deny shared/%u/#\n"
      "pattern readwrite own/%c\n"
      "user alice\n"
      "topic readwrite shared/alice/#\n"
      "topic deny own/alice-phone\n"
      "topic read up/#\n"
      "pattern write up/%u\n");
  // A user allow is final: the pattern deny is never reached.
  CHECK(rules.allows("alice-phone", "alice", "shared/alice/x", kWrite));
  // A user deny is final: the pattern allow is never reached.
  CHECK_FALSE(rules.allows("alice-phone", "alice", "own/alice-phone", kWrite));
  // Undecided by the user's rules (read only): the patterns decide the write.
  CHECK(rules.allows("alice-phone", "alice", "up/alice", kWrite));
  // Someone else: the pattern deny applies to them.
  CHECK_FALSE(rules.allows("bob-phone", "bob", "shared/bob/x", kWrite));
  CHECK(rules.allows("bob-phone", "bob", "own/bob-phone", kRead));
}

TEST_CASE("acl eval: pattern denies come before pattern allows", "[acl][eval]") {
  const AclRules rules = parsed(
      "pattern readwrite d/%c/#\n"
      "pattern deny d/%c/private\n");
  CHECK(rules.allows("k1", std::nullopt, "d/k1/x", kWrite));
  CHECK_FALSE(rules.allows("k1", std::nullopt, "d/k1/private", kRead));
  CHECK_FALSE(rules.allows("k2", std::nullopt, "d/k1/x", kRead));
}

TEST_CASE("acl eval: rules before any user line are the anonymous clients'", "[acl][eval]") {
  const AclRules rules = parsed(
      "topic read public/#\n"
      "user alice\n"
      "topic readwrite alice/#\n");
  CHECK(rules.allows("anon", std::nullopt, "public/news", kRead));
  CHECK_FALSE(rules.allows("anon", std::nullopt, "alice/x", kRead));
  // A user does not get the anonymous rules, not even one with no section of their own.
  CHECK_FALSE(rules.allows("c", "alice", "public/news", kRead));
  CHECK_FALSE(rules.allows("c", "carol", "public/news", kRead));
  // An empty user name is a user name, not anonymous.
  CHECK_FALSE(rules.allows("c", "", "public/news", kRead));
}

TEST_CASE("acl eval: a user with no rules and no patterns gets nothing", "[acl][eval]") {
  const AclRules rules = parsed("user alice\ntopic read a\n");
  CHECK_FALSE(rules.allows("c", "bob", "a", kRead));
  CHECK_FALSE(rules.allows("c", std::nullopt, "a", kRead));
}

TEST_CASE("acl eval: duplicate user sections are one list", "[acl][eval]") {
  const AclRules rules = parsed(
      "user alice\ntopic read a\n"
      "user bob\ntopic read b\n"
      "user alice\ntopic deny b\ntopic read c\n");
  CHECK(rules.allows("x", "alice", "a", kRead));
  CHECK(rules.allows("x", "alice", "c", kRead));
  CHECK_FALSE(rules.allows("x", "alice", "b", kRead));
  CHECK(rules.allows("x", "bob", "b", kRead));
}

TEST_CASE("acl eval: pattern lines apply to everyone, whatever user section they sit in",
          "[acl][eval]") {
  const AclRules rules = parsed("user alice\npattern read in/%c\n");
  CHECK(rules.allows("k1", "bob", "in/k1", kRead));
  CHECK(rules.allows("k1", std::nullopt, "in/k1", kRead));
}

TEST_CASE("acl eval: %c and %u are replaced as text, anywhere in a level", "[acl][eval]") {
  const AclRules rules = parsed(
      "pattern readwrite dev/%u/%c/#\n"
      "pattern read feed/pre-%c-post\n"
      "pattern write twice/%c%c\n"
      "pattern read lit/100%/%%c\n");
  CHECK(rules.allows("k1", "alice", "dev/alice/k1", kWrite));
  CHECK(rules.allows("k1", "alice", "dev/alice/k1/a/b", kRead));
  CHECK_FALSE(rules.allows("k1", "alice", "dev/bob/k1", kRead));
  CHECK_FALSE(rules.allows("k2", "alice", "dev/alice/k1", kRead));
  CHECK(rules.allows("k1", std::nullopt, "feed/pre-k1-post", kRead));
  CHECK_FALSE(rules.allows("k1", std::nullopt, "feed/pre-k2-post", kRead));
  CHECK(rules.allows("ab", std::nullopt, "twice/abab", kWrite));
  CHECK_FALSE(rules.allows("ab", std::nullopt, "twice/ab", kWrite));
  // A '%' before anything else is itself; "%%c" is a '%' and then the client id.
  CHECK(rules.allows("k1", std::nullopt, "lit/100%/%k1", kRead));
  // A topic level that happens to read "%c" is not the pattern.
  CHECK_FALSE(rules.allows("k1", std::nullopt, "feed/pre-%c-post", kRead));
}

TEST_CASE("acl eval: patterns with %u are skipped for anonymous clients, denies too",
          "[acl][eval]") {
  const AclRules rules = parsed(
      "pattern deny %u/#\n"
      "pattern readwrite #\n");
  CHECK(rules.allows("k1", std::nullopt, "alice/x", kWrite));   // the deny is skipped
  CHECK_FALSE(rules.allows("k1", "alice", "alice/x", kWrite));  // a user gets it
  CHECK(rules.allows("k1", "alice", "bob/x", kWrite));
}

TEST_CASE("acl eval: a client id or user name with + or # gets no pattern", "[acl][eval]") {
  const AclRules rules = parsed(
      "topic read anon/#\n"
      "user m+\n"
      "topic read own/#\n"
      "pattern readwrite c/%c/#\n"
      "pattern readwrite everyone/#\n");
  CHECK_FALSE(rules.allows("x#", std::nullopt, "everyone/x", kRead));
  CHECK_FALSE(rules.allows("x#", std::nullopt, "c/x#", kRead));
  CHECK_FALSE(rules.allows("ok", "m+", "everyone/x", kRead));
  // Their own topic rules still apply: the refusal is only in front of the patterns.
  CHECK(rules.allows("x#", std::nullopt, "anon/x", kRead));
  CHECK(rules.allows("ok", "m+", "own/x", kRead));
  CHECK(rules.allows("ok", "plain", "everyone/x", kRead));
}

TEST_CASE("acl eval: a client id holding '/' reaches across levels", "[acl][eval]") {
  const AclRules rules = parsed("pattern readwrite clients/%c/#\npattern read one/%c\n");
  CHECK(rules.allows("a/b", std::nullopt, "clients/a/b", kWrite));
  CHECK(rules.allows("a/b", std::nullopt, "clients/a/b/c", kWrite));
  CHECK(rules.allows("a/b", std::nullopt, "one/a/b", kRead));
  CHECK_FALSE(rules.allows("a/b", std::nullopt, "one/a", kRead));
  // ...so client "a" may read what client "a/b" owns: its subtree is inside a's.
  CHECK(rules.allows("a", std::nullopt, "clients/a/b/c", kRead));
  CHECK_FALSE(rules.allows("a/b", std::nullopt, "clients/a/c", kRead));
}

TEST_CASE("acl eval: $ topics need a rule that starts with $", "[acl][eval]") {
  const AclRules rules = parsed(
      "topic readwrite #\n"
      "topic read +/broker/#\n"
      "user monitor\n"
      "topic read $SYS/#\n"
      "user ops\n"
      "topic read $SYS/broker/+\n"
      "pattern read $SYS/%u/#\n");
  CHECK(rules.allows("a", std::nullopt, "anything/at/all", kRead));
  CHECK_FALSE(rules.allows("a", std::nullopt, "$SYS/broker/uptime", kRead));
  CHECK(rules.allows("m", "monitor", "$SYS/broker/uptime", kRead));
  CHECK(rules.allows("m", "monitor", "$SYS", kRead));
  CHECK(rules.allows("o", "ops", "$SYS/broker/uptime", kRead));
  CHECK_FALSE(rules.allows("o", "ops", "$SYS/broker/load/1min", kRead));
  CHECK(rules.allows("o", "ops", "$SYS/ops/x", kRead));
  // Writes to $SYS are the broker's own business; acl_file answers as its rules say.
  CHECK_FALSE(rules.allows("m", "monitor", "$SYS/x", kWrite));
}

TEST_CASE("acl subscribe: granted when a read rule overlaps the filter, refused otherwise",
          "[acl][subscribe]") {
  const AclRules rules = parsed("user alice\ntopic read a/+/c\ntopic write w/#\n");
  for (const char* filter : {"#", "a/#", "+/+/+", "a/b/c", "a/+/c", "+/b/+", "a/b/c/#", "a/+/#"}) {
    INFO(filter);
    CHECK(rules.allows("c", "alice", filter, kSubscribe));
  }
  // Nothing readable there: a level short or long, another literal, write-only, '$'.
  for (const char* filter : {"a/+", "a/b", "a/b/c/d", "a/b/d", "b/#", "w/#", "w", "$SYS/#", "+"}) {
    INFO(filter);
    CHECK_FALSE(rules.allows("c", "alice", filter, kSubscribe));
  }
  // bob has no rules and there are no patterns: nothing at all.
  CHECK_FALSE(rules.allows("c", "bob", "#", kSubscribe));
  CHECK_FALSE(rules.allows("c", std::nullopt, "a/b/c", kSubscribe));
  // A granted wildcard subscriber still receives only what it may read.
  CHECK(rules.allows("c", "alice", "a/b/c", kRead));
  CHECK_FALSE(rules.allows("c", "alice", "a/b", kRead));
}

TEST_CASE("acl subscribe: `#` rules and filters overlap the rest, zero levels included",
          "[acl][subscribe]") {
  const AclRules rules = parsed("topic read x/#\ntopic read y\n");
  for (const char* filter : {"x", "x/#", "x/+", "x/1/2/3", "+", "#", "+/+", "y", "y/#", "+/#"}) {
    INFO(filter);
    CHECK(rules.allows("c", std::nullopt, filter, kSubscribe));
  }
  for (const char* filter : {"y/+", "y/z", "z/#", "z"}) {
    INFO(filter);
    CHECK_FALSE(rules.allows("c", std::nullopt, filter, kSubscribe));
  }
}

TEST_CASE("acl subscribe: refused when a deny covers all of the filter", "[acl][subscribe]") {
  const AclRules rules = parsed(
      "topic read #\n"
      "topic deny secret/#\n"
      "topic deny one/+\n"
      "topic deny lit/x\n"
      "topic read lit/x\n");  // a grant on the same topic does not undo the deny
  for (const char* filter : {"secret", "secret/#", "secret/a/+", "one/x", "one/+", "lit/x"}) {
    INFO(filter);
    CHECK_FALSE(rules.allows("c", std::nullopt, filter, kSubscribe));
  }
  // Partly denied: granted, and each delivery is checked.
  for (const char* filter : {"#", "+/a", "+", "one/#", "one/x/y", "one", "lit/+", "lit/#"}) {
    INFO(filter);
    CHECK(rules.allows("c", std::nullopt, filter, kSubscribe));
  }
  CHECK_FALSE(rules.allows("c", std::nullopt, "one/x", kRead));
  CHECK(rules.allows("c", std::nullopt, "one/x/y", kRead));
}

TEST_CASE("acl subscribe: $ filters need a rule starting with $, and the other way round",
          "[acl][subscribe]") {
  const AclRules rules = parsed(
      "topic read #\n"
      "user monitor\n"
      "topic read $SYS/#\n"
      "user ops\n"
      "topic read +/broker/#\n"
      "topic read $SYS/broker/+\n"
      "topic deny $SYS/broker/secret\n"
      "user guard\n"
      "topic read #\n"
      "topic read $SYS/#\n"
      "topic deny +/#\n");
  CHECK(rules.allows("a", std::nullopt, "#", kSubscribe));
  CHECK_FALSE(rules.allows("a", std::nullopt, "$SYS/#", kSubscribe));  // `read #` is no '$'
  CHECK(rules.allows("m", "monitor", "$SYS/#", kSubscribe));
  CHECK(rules.allows("m", "monitor", "$SYS/+/uptime", kSubscribe));
  CHECK(rules.allows("m", "monitor", "$SYS", kSubscribe));
  // A filter wildcard in the first level does not reach $SYS: nothing for monitor there.
  CHECK_FALSE(rules.allows("m", "monitor", "#", kSubscribe));
  CHECK_FALSE(rules.allows("m", "monitor", "+/broker/#", kSubscribe));
  CHECK(rules.allows("o", "ops", "$SYS/broker/uptime", kSubscribe));
  CHECK(rules.allows("o", "ops", "$SYS/broker/#", kSubscribe));
  CHECK_FALSE(rules.allows("o", "ops", "$SYS/broker/secret", kSubscribe));
  CHECK_FALSE(rules.allows("o", "ops", "$SYS/other/#", kSubscribe));  // `+/broker/#` is no '$'
  CHECK(rules.allows("o", "ops", "+/broker/x", kSubscribe));
  CHECK(rules.allows("o", "ops", "#", kSubscribe));
  // `deny +/#` covers every filter that starts with a literal or `+`, but no '$' filter...
  CHECK(rules.allows("g", "guard", "$SYS/#", kSubscribe));
  CHECK_FALSE(rules.allows("g", "guard", "a", kSubscribe));
  CHECK_FALSE(rules.allows("g", "guard", "+", kSubscribe));
  CHECK_FALSE(rules.allows("g", "guard", "+/x/#", kSubscribe));
  // ...and not `#`, which only a rule `#` covers (every delivery on it is then refused).
  CHECK(rules.allows("g", "guard", "#", kSubscribe));
  CHECK_FALSE(rules.allows("g", "guard", "a/b", kRead));
}

TEST_CASE("acl subscribe: own rules decide first, then the patterns, each deny before grant",
          "[acl][subscribe]") {
  const AclRules rules = parsed(
      "pattern deny shared/%u/#\n"
      "pattern read own/%c\n"
      "pattern deny x/#\n"
      "pattern read x/%c\n"
      "user alice\n"
      "topic read shared/alice/#\n"
      "topic deny own/alice-phone\n"
      "topic deny x/a\n");
  // An own grant is final: the pattern deny is never asked.
  CHECK(rules.allows("alice-phone", "alice", "shared/alice/#", kSubscribe));
  CHECK_FALSE(rules.allows("bob-phone", "bob", "shared/bob/#", kSubscribe));
  // An own deny covering the filter is final: the pattern grant is never asked.
  CHECK_FALSE(rules.allows("alice-phone", "alice", "own/alice-phone", kSubscribe));
  CHECK(rules.allows("bob-phone", "bob", "own/bob-phone", kSubscribe));
  // An own deny that covers only part of the filter leaves it to the patterns...
  CHECK(rules.allows("alice-phone", "alice", "own/+", kSubscribe));
  // ...where a covering deny comes before any grant.
  CHECK_FALSE(rules.allows("a", "alice", "x/+", kSubscribe));
  CHECK_FALSE(rules.allows("b", "bob", "x/b", kSubscribe));
  // Denies are the whole stage's: `deny x/#` also beats the grant of x/%c for bob.
  CHECK_FALSE(rules.allows("b", "bob", "x/#", kSubscribe));
}

TEST_CASE("acl subscribe: %c and %u levels, multi-level ids, anonymous clients",
          "[acl][subscribe]") {
  const AclRules rules = parsed(
      "pattern readwrite clients/%c/#\n"
      "pattern deny clients/%c/locked\n"
      "pattern read users/%u/inbox\n"
      "pattern read pre-%c-post/x\n");
  CHECK(rules.allows("k1", std::nullopt, "clients/k1/#", kSubscribe));
  CHECK(rules.allows("k1", std::nullopt, "clients/+/up", kSubscribe));
  CHECK(rules.allows("k1", std::nullopt, "clients/#", kSubscribe));
  CHECK(rules.allows("k1", std::nullopt, "clients/+", kSubscribe));  // clients/k1 itself
  CHECK(rules.allows("k1", std::nullopt, "#", kSubscribe));
  CHECK(rules.allows("k1", std::nullopt, "+/k1/x", kSubscribe));
  CHECK_FALSE(rules.allows("k1", std::nullopt, "clients/k2/#", kSubscribe));
  CHECK_FALSE(rules.allows("k1", std::nullopt, "clients/%c/#", kSubscribe));  // not the text
  // The deny covers only its own literal level.
  CHECK_FALSE(rules.allows("k1", std::nullopt, "clients/k1/locked", kSubscribe));
  CHECK(rules.allows("k1", std::nullopt, "clients/+/locked", kSubscribe));
  CHECK(rules.allows("k1", std::nullopt, "pre-k1-post/x", kSubscribe));
  CHECK(rules.allows("k1", std::nullopt, "+/x", kSubscribe));
  CHECK_FALSE(rules.allows("k1", std::nullopt, "pre-k2-post/x", kSubscribe));
  // %u: each user their own inbox; never an anonymous client, not even through wildcards.
  CHECK(rules.allows("k1", "alice", "users/alice/inbox", kSubscribe));
  CHECK(rules.allows("k1", "alice", "users/+/inbox", kSubscribe));
  CHECK(rules.allows("k1", "alice", "users/#", kSubscribe));
  CHECK_FALSE(rules.allows("k1", "alice", "users/bob/inbox", kSubscribe));
  CHECK_FALSE(rules.allows("k1", std::nullopt, "users/+/inbox", kSubscribe));
  CHECK_FALSE(rules.allows("k1", std::nullopt, "users/#", kSubscribe));
  // A client id with '/' is that many literal levels.
  CHECK(rules.allows("a/b", std::nullopt, "clients/a/b/x", kSubscribe));
  CHECK(rules.allows("a/b", std::nullopt, "clients/a/+", kSubscribe));
  CHECK(rules.allows("a/b", std::nullopt, "clients/+/b/#", kSubscribe));
  CHECK(rules.allows("a/b", std::nullopt, "clients/a/#", kSubscribe));
  CHECK_FALSE(rules.allows("a/b", std::nullopt, "clients/a", kSubscribe));
  CHECK_FALSE(rules.allows("a/b", std::nullopt, "clients/+", kSubscribe));
  CHECK_FALSE(rules.allows("a/b", std::nullopt, "clients/a/c", kSubscribe));
  CHECK_FALSE(rules.allows("a/b", std::nullopt, "clients/a/b/locked", kSubscribe));
  CHECK(rules.allows("a/b", std::nullopt, "clients/a/+/locked", kSubscribe));
  // A client id or user name with a wildcard gets no pattern.
  CHECK_FALSE(rules.allows("x#", std::nullopt, "clients/#", kSubscribe));
  CHECK_FALSE(rules.allows("k1", "m+", "clients/k1/#", kSubscribe));
}

TEST_CASE("acl subscribe: a filter `#` or `+` first level meets no text starting with '$'",
          "[acl][subscribe]") {
  const AclRules rules = parsed("pattern read %c/#\npattern read %u/x\npattern read $%c/y\n");
  CHECK(rules.allows("k1", std::nullopt, "#", kSubscribe));
  CHECK(rules.allows("k1", std::nullopt, "+/z", kSubscribe));
  CHECK(rules.allows("k1", std::nullopt, "$k1/y", kSubscribe));
  CHECK_FALSE(rules.allows("$s", std::nullopt, "#", kSubscribe));
  CHECK_FALSE(rules.allows("$s", std::nullopt, "+/z", kSubscribe));
  CHECK(rules.allows("$s", std::nullopt, "$s/#", kSubscribe));
  CHECK(rules.allows("$s", "$u", "$u/x", kSubscribe));
  CHECK_FALSE(rules.allows("$s", "$u", "+/x", kSubscribe));
  CHECK(rules.allows("$s", "u", "+/x", kSubscribe));
  // An anonymous client reaches no %u pattern through `#` either.
  CHECK_FALSE(rules.allows("$s", std::nullopt, "+/x", kSubscribe));
}

TEST_CASE("acl subscribe: the examples in docs/security.md", "[acl][subscribe]") {
  const AclRules table = parsed("topic read a/+/c\ntopic deny a/x/c\ntopic read $SYS/broker/#\n");
  auto anon = [](const AclRules& r, const char* filter) {
    INFO(filter);
    return r.allows("k1", std::nullopt, filter, kSubscribe);
  };
  for (const char* f :
       {"a/b/c", "a/+/c", "+/+/c", "#", "a/#", "a/x/+", "$SYS/broker/uptime", "$SYS/#"}) {
    CHECK(anon(table, f));
  }
  for (const char* f : {"a/x/c", "a/+", "a/b", "b/#", "+/broker/uptime"}) {
    CHECK_FALSE(anon(table, f));
  }
  const AclRules x = parsed("topic read x/#\n");
  for (const char* f : {"x", "x/+", "+", "#"}) {
    CHECK(anon(x, f));
  }
  const AclRules secret = parsed("topic read #\ntopic deny secret/#\n");
  for (const char* f : {"secret", "secret/+/y", "secret/#"}) {
    CHECK_FALSE(anon(secret, f));
  }
  CHECK(anon(secret, "+/y"));
  CHECK(anon(secret, "#"));
  const AclRules guard = parsed("topic read #\ntopic read $SYS/#\ntopic deny +/#\n");
  for (const char* f : {"a", "+", "+/x/#"}) {
    CHECK_FALSE(anon(guard, f));
  }
  CHECK(anon(guard, "#"));
  CHECK(anon(guard, "$SYS/#"));
  const AclRules clients = parsed("pattern readwrite clients/%c/#\n");
  for (const char* f : {"clients/k1/#", "clients/+/up", "clients/+", "#"}) {
    CHECK(anon(clients, f));
  }
  CHECK_FALSE(anon(clients, "clients/k2/#"));
  CHECK(clients.allows("a/b", std::nullopt, "clients/a/+", kSubscribe));
  CHECK_FALSE(clients.allows("a/b", std::nullopt, "clients/a", kSubscribe));
  const AclRules inbox = parsed("pattern read users/%u/inbox\n");
  CHECK(inbox.allows("k1", "alice", "users/+/inbox", kSubscribe));
  CHECK_FALSE(anon(inbox, "users/+/inbox"));
}

TEST_CASE("acl subscribe: shared, invalid and empty-file cases", "[acl][subscribe]") {
  const AclRules rules = parsed("topic read a/#\n");
  CHECK(rules.allows("c", std::nullopt, "$share/g/a/b", kSubscribe));  // judged by a/b
  CHECK(rules.allows("c", std::nullopt, "$share/g/#", kSubscribe));
  CHECK_FALSE(rules.allows("c", std::nullopt, "$share/g/b", kSubscribe));
  CHECK_FALSE(rules.allows("c", std::nullopt, "", kSubscribe));
  CHECK_FALSE(rules.allows("c", std::nullopt, "a/#/b", kSubscribe));
  CHECK_FALSE(rules.allows("c", std::nullopt, "a/b+", kSubscribe));
  // No rules at all (comments only): every SUBSCRIBE refused, as every delivery is.
  const AclRules none = parsed("# nothing\n");
  CHECK_FALSE(none.allows("c", std::nullopt, "#", kSubscribe));
  CHECK_FALSE(none.allows("c", "alice", "a", kSubscribe));
}

TEST_CASE("acl subscribe: wide and deep filters over many rules", "[acl][subscribe]") {
  std::string text;
  for (int u = 0; u < 500; ++u) {
    text += "topic read t" + std::to_string(u) + "/a/b\n";
    text += "topic deny t" + std::to_string(u) + "/a/c\n";
  }
  text += "topic read t499/z/q/r\n";
  std::string deep = "d";
  std::string plus = "+";
  for (int i = 1; i < 150; ++i) {
    deep += "/d";
    plus += "/+";
  }
  text += "topic read " + deep + "\n";
  const AclRules rules = parsed(text);
  CHECK(rules.allows("c", std::nullopt, "+/a/b", kSubscribe));
  CHECK(rules.allows("c", std::nullopt, "+/+/b", kSubscribe));
  CHECK(rules.allows("c", std::nullopt, "+/z/q/r", kSubscribe));  // only t499 has it
  CHECK_FALSE(rules.allows("c", std::nullopt, "+/a/d", kSubscribe));
  CHECK_FALSE(rules.allows("c", std::nullopt, "t7/a/c", kSubscribe));
  CHECK(rules.allows("c", std::nullopt, plus, kSubscribe));
  CHECK(rules.allows("c", std::nullopt, deep, kSubscribe));
  CHECK_FALSE(rules.allows("c", std::nullopt, plus + "/+", kSubscribe));
  CHECK(rules.allows("c", std::nullopt, plus.substr(0, 99) + "/#", kSubscribe));  // 50 levels
}

TEST_CASE("acl eval: a topic name with a wildcard, or an empty one, matches nothing",
          "[acl][eval]") {
  const AclRules rules = parsed("topic readwrite #\npattern readwrite #\n");
  CHECK(rules.allows("c", std::nullopt, "a/b", kWrite));
  CHECK_FALSE(rules.allows("c", std::nullopt, "a/+", kWrite));
  CHECK_FALSE(rules.allows("c", std::nullopt, "#", kRead));
  CHECK_FALSE(rules.allows("c", std::nullopt, "", kRead));
}

TEST_CASE("acl eval: empty levels are levels", "[acl][eval]") {
  const AclRules rules = parsed("topic read /a\ntopic read b//c\ntopic read +/+\ntopic read d/+\n");
  CHECK(rules.allows("c", std::nullopt, "/a", kRead));
  CHECK_FALSE(rules.allows("c", std::nullopt, "a", kRead));
  CHECK(rules.allows("c", std::nullopt, "b//c", kRead));
  CHECK(rules.allows("c", std::nullopt, "/", kRead));  // "+/+": two empty levels
  CHECK(rules.allows("c", std::nullopt, "d/", kRead));
  CHECK_FALSE(rules.allows("c", std::nullopt, "d", kRead));
}

TEST_CASE("acl eval: many rules still cost one walk", "[acl][eval]") {
  std::string text;
  for (int u = 0; u < 2000; ++u) {
    text += "user u" + std::to_string(u) + "\n";
    for (int t = 0; t < 5; ++t) {
      text += "topic readwrite u" + std::to_string(u) + "/t" + std::to_string(t) + "/#\n";
    }
  }
  text += "pattern read clients/%c/#\n";
  const AclRules rules = parsed(text);
  CHECK(rules.rule_count() == 10001);
  CHECK(rules.allows("c", "u1234", "u1234/t3/x", kWrite));
  CHECK_FALSE(rules.allows("c", "u1234", "u1233/t3/x", kWrite));
  CHECK(rules.allows("k", "u7", "clients/k/z", kRead));
  CHECK(rules.memory_bytes() > 0);
}

TEST_CASE("acl eval: deep topics walk past the inline frames", "[acl][eval]") {
  std::string literal = "a";
  std::string plus = "+";
  std::string topic = "a";
  for (int i = 1; i < 150; ++i) {
    literal += "/a";
    plus += "/+";
    topic += "/a";
  }
  const AclRules rules = parsed("topic write " + literal + "/x\ntopic read " + plus +
                                "\npattern read %c/" + plus.substr(2));
  CHECK(rules.allows("c", std::nullopt, topic, kRead));
  CHECK(rules.allows("c", std::nullopt, topic + "/x", kWrite));
  CHECK_FALSE(rules.allows("c", std::nullopt, topic + "/y", kWrite));
  // bob has no rules of his own: a 150-level pattern with a template decides.
  const std::string own = "c/" + topic.substr(2);
  CHECK(rules.allows("c", "bob", own, kRead));
  CHECK_FALSE(rules.allows("d", "bob", own, kRead));
  CHECK_FALSE(rules.allows("c", "bob", own + "/a", kRead));
}
