// Reading Mosquitto ACL files: what is a rule, what is an error, and where the error is.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include <unistd.h>

#include "broker/auth/acl_rules.hpp"

using shardmq::broker::AclAccess;
using shardmq::broker::AclRules;

namespace {

constexpr auto kRead = AclAccess::read;
constexpr auto kWrite = AclAccess::write;

AclRules parsed(std::string_view text) {
  auto r = AclRules::parse(text, "acl.conf");
  INFO((r ? std::string() : r.error().to_string()));
  REQUIRE(r);
  return std::move(r).value();
}

std::string error_of(std::string_view text) {
  auto r = AclRules::parse(text, "acl.conf");
  REQUIRE_FALSE(r);
  return r.error().to_string();
}

bool anon(const AclRules& rules, std::string_view topic, AclAccess access) {
  return rules.allows("client", std::nullopt, topic, access);
}

}  // namespace

TEST_CASE("acl parse: comments, blank lines, CRLF and the rule count", "[acl][parse]") {
  const AclRules rules = parsed(
      "# a comment\n"
      "\n"
      "topic read sensors/#\r\n"
      "   \t  \n"
      "user alice\n"
      "topic write alice/#\n"
      "pattern read clients/%c/#");
  CHECK(rules.rule_count() == 3);
  CHECK(rules.warnings().empty());
  CHECK(anon(rules, "sensors/t1", kRead));
  CHECK_FALSE(anon(rules, "sensors/t1", kWrite));
  CHECK(rules.allows("x", "alice", "alice/1", kWrite));
}

TEST_CASE("acl parse: access words", "[acl][parse]") {
  const AclRules rules = parsed(
      "topic read r\n"
      "topic write w\n"
      "topic readwrite rw\n"
      "topic deny d\n"
      "topic both\n");
  CHECK(anon(rules, "r", kRead));
  CHECK_FALSE(anon(rules, "r", kWrite));
  CHECK(anon(rules, "w", kWrite));
  CHECK_FALSE(anon(rules, "w", kRead));
  CHECK(anon(rules, "rw", kRead));
  CHECK(anon(rules, "rw", kWrite));
  CHECK_FALSE(anon(rules, "d", kRead));
  CHECK_FALSE(anon(rules, "d", kWrite));
  // No access word: the one word is the topic, read and write.
  CHECK(anon(rules, "both", kRead));
  CHECK(anon(rules, "both", kWrite));
}

TEST_CASE("acl parse: a lone access word is a topic name, not an access", "[acl][parse]") {
  const AclRules rules = parsed("topic read\ntopic deny\n");
  CHECK(anon(rules, "read", kRead));
  CHECK(anon(rules, "read", kWrite));
  CHECK(anon(rules, "deny", kWrite));  // a readwrite rule on the topic "deny"
}

TEST_CASE("acl parse: the topic is the rest of the line, inner spaces kept", "[acl][parse]") {
  const AclRules rules = parsed("topic read   a b/c  \nuser   bob smith  \ntopic write x\n");
  CHECK(anon(rules, "a b/c", kRead));
  CHECK_FALSE(anon(rules, "a", kRead));
  CHECK(rules.allows("id", "bob smith", "x", kWrite));
}

TEST_CASE("acl parse: leading spaces are skipped, tabs are not separators", "[acl][parse]") {
  const AclRules rules = parsed("    topic read a\ntopic read\tb\n");
  CHECK(anon(rules, "a", kRead));
  // strtok on ' ' only: "read\tb" is one word, so it is the topic (read and write).
  CHECK(anon(rules, "read\tb", kWrite));
  CHECK_FALSE(anon(rules, "b", kRead));
  CHECK(error_of("topic\tread a\n") ==
        "acl.conf:1: invalid line \"topic\tread a\" (expected "
        "topic, pattern or user)");
  // Blanks between the access word and the topic may be tabs: the topic is trimmed.
  CHECK(anon(parsed("topic read \t c\n"), "c", kRead));
}

TEST_CASE("acl parse: only a '#' in the first column is a comment", "[acl][parse]") {
  CHECK(error_of("topic read a\n  # indented\n") ==
        "acl.conf:2: invalid line \"  # indented\" (expected topic, pattern or user)");
}

TEST_CASE("acl parse: errors name the file and the line", "[acl][parse]") {
  CHECK(error_of("topic read a\ntopic\n") == "acl.conf:2: empty topic in 'topic' line");
  CHECK(error_of("pattern   \n\npattern\n") == "acl.conf:1: empty topic in 'pattern' line");
  CHECK(error_of("\n\ntopic reed a/b\n") ==
        "acl.conf:3: invalid topic access type \"reed\" (read, write, readwrite or deny)");
  CHECK(error_of("topic read a/#/b\n") == "acl.conf:1: invalid ACL topic \"a/#/b\"");
  CHECK(error_of("topic read a+/b\n") == "acl.conf:1: invalid ACL topic \"a+/b\"");
  CHECK(error_of("pattern read a/b#\n") == "acl.conf:1: invalid ACL topic \"a/b#\"");
  CHECK(error_of("user\n") == "acl.conf:1: missing user name after 'user'");
  CHECK(error_of("# ok\nuser    \t \n") == "acl.conf:2: missing user name after 'user'");
  CHECK(error_of("topic read a\nTopic read b\n") ==
        "acl.conf:2: invalid line \"Topic read b\" (expected topic, pattern or user)");
}

TEST_CASE("acl parse: topic size limits are Mosquitto's", "[acl][parse]") {
  std::string deep = "a";
  for (int i = 0; i < 200; ++i)
    deep += "/a";  // 200 slashes: the limit
  CHECK(parsed("topic read " + deep + "\n").rule_count() == 1);
  CHECK(error_of("topic read " + deep + "/a\n").starts_with("acl.conf:1: invalid ACL topic"));
  CHECK(parsed("topic read " + std::string(65535, 'x')).rule_count() == 1);
  CHECK(error_of("topic read " + std::string(65536, 'x')).starts_with("acl.conf:1: invalid"));
}

TEST_CASE("acl parse: a NUL ends the line, as it does for Mosquitto's C strings", "[acl][parse]") {
  using namespace std::string_literals;
  const AclRules rules = parsed("topic read a\0junk\ntopic read b\n"s);
  CHECK(anon(rules, "a", kRead));
  CHECK(anon(rules, "b", kRead));
  CHECK_FALSE(anon(rules, "a\0junk"s, kRead));
}

TEST_CASE("acl parse: patterns without %c or %u are kept, with a warning", "[acl][parse]") {
  const AclRules rules = parsed("\npattern read public/#\npattern read p/%u\n");
  REQUIRE(rules.warnings().size() == 1);
  CHECK(rules.warnings()[0] == "acl.conf:2: pattern \"public/#\" contains neither %c nor %u");
  CHECK(anon(rules, "public/x", kRead));
}

TEST_CASE("acl parse: an empty file or one of comments only refuses everything", "[acl][parse]") {
  for (const char* text : {"", "\n\n", "# nothing\n# here\n"}) {
    const AclRules rules = parsed(text);
    CHECK(rules.rule_count() == 0);
    CHECK_FALSE(anon(rules, "a", kRead));
    CHECK_FALSE(rules.allows("c", "alice", "a", kWrite));
    CHECK_FALSE(anon(rules, "#", AclAccess::subscribe));  // shardmq; Mosquitto grants it
  }
}

TEST_CASE("acl load: reads a file, names the path when it cannot", "[acl][parse]") {
  const std::string path = "acl_load_test_" + std::to_string(::getpid()) + ".acl";
  {
    std::ofstream out(path, std::ios::binary);
    out << "user alice\ntopic readwrite a/#\nbogus\n";
  }
  auto bad = AclRules::load(path);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().to_string() == path +
                                       ":3: invalid line \"bogus\" (expected topic, pattern "
                                       "or user)");
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "user alice\ntopic readwrite a/#\n";
  }
  auto good = AclRules::load(path);
  REQUIRE(good);
  CHECK(good->allows("c", "alice", "a/b", kWrite));
  std::remove(path.c_str());

  auto missing = AclRules::load("/nonexistent/acl");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().to_string() == "/nonexistent/acl: cannot open the file");
}
