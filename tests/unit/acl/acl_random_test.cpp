// The compiled tries against a linear evaluator written the way Mosquitto writes it
// (naive_acl.hpp), over random ACL files, clients, topics and subscription filters, for
// several seeds. The random file goes through the parser too, so it is checked on the way.
#include <catch2/catch.hpp>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "broker/auth/acl_rules.hpp"
#include "naive_acl.hpp"

using shardmq::broker::AclAccess;
using shardmq::broker::AclRules;
using shardmq::test::NaiveAcl;

namespace {

// Small alphabets, so that rules, clients and topics collide often: client ids and user
// names also appear as topic levels, some hold '/', '+' or '#', some start with '$'.
const std::vector<std::string> kClientIds = {"k1", "k2", "a", "a/b", "x+y", "h#", "$s", "", "b"};
const std::vector<std::optional<std::string>> kUsers = {std::nullopt, "alice", "bob", "a/b",
                                                        "u#",         "",      "k1",  "carol"};
const std::vector<std::string> kUserSections = {"alice", "bob", "a/b", "u#", "k1"};
const std::vector<std::string> kLiterals = {
    "a", "b", "", "k1", "alice", "pre-k1", "a-level-longer-than-inline"};
const std::vector<std::string> kTemplates = {"%c", "%u", "pre-%c", "%u%c", "%c-x"};
// Filter levels also spell out what the templates become for some clients.
const std::vector<std::string> kFilterLevels = {
    "a", "b", "", "k1", "alice", "pre-k1", "k1-x", "alicek1", "pre-a", "bob", "carol", "k2", "$s"};

class Generator {
 public:
  explicit Generator(unsigned seed) : rng_(seed) {}

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  const T& one_of(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(pick(0, static_cast<int>(v.size()) - 1))];
  }

  std::string filter(bool pattern) {
    std::string s;
    const int n = pick(1, 4);
    for (int i = 0; i < n; ++i) {
      if (i != 0) s.push_back('/');
      const int r = pick(0, 9);
      if (i + 1 == n && r == 0) {
        s.push_back('#');
      } else if (r <= 2) {
        s.push_back('+');
      } else if (pattern && r <= 5) {
        s += one_of(kTemplates);
      } else if (i == 0 && r == 6) {
        s += "$s";
      } else {
        s += one_of(kLiterals);
      }
    }
    // An empty rule topic would make "topic deny " a one-word line: a rule on "deny".
    if (s.empty()) s = "a";
    return s;
  }

  std::string topic() {
    std::string s;
    const int n = pick(1, 5);
    for (int i = 0; i < n; ++i) {
      if (i != 0) s.push_back('/');
      const int r = pick(0, 9);
      if (r <= 1) {
        s += one_of(kClientIds);  // may add levels ("a/b") or a wildcard (refused topic)
      } else if (r == 2) {
        s += one_of(kUserSections);
      } else if (i == 0 && r == 3) {
        s += "$s";
      } else {
        s += one_of(kLiterals);
      }
    }
    return s;
  }

  // A valid subscription filter: wildcards, literals and client ids or user names as levels
  // (one without a wildcard may add levels: "a/b"), sometimes a '$' first level.
  std::string subscription() {
    std::string s;
    const int n = pick(1, 4);
    for (int i = 0; i < n; ++i) {
      if (i != 0) s.push_back('/');
      const int r = pick(0, 9);
      if (i + 1 == n && r == 0) {
        s.push_back('#');
      } else if (r <= 2) {
        s.push_back('+');
      } else if (r == 3) {
        const std::string& id = one_of(kClientIds);
        s += id.find_first_of("+#") == std::string::npos ? id : "a/b";
      } else if (i == 0 && r == 4) {
        s += "$s";
      } else {
        s += one_of(kFilterLevels);
      }
    }
    return s;
  }

  static const char* access_word(unsigned a) {
    switch (a) {
      case NaiveAcl::kRead:
        return "read";
      case NaiveAcl::kWrite:
        return "write";
      case NaiveAcl::kRead | NaiveAcl::kWrite:
        return "readwrite";
      default:
        return "deny";
    }
  }
  unsigned access() {
    static const unsigned kAll[] = {NaiveAcl::kRead, NaiveAcl::kWrite,
                                    NaiveAcl::kRead | NaiveAcl::kWrite, NaiveAcl::kDeny};
    return kAll[pick(0, 3)];
  }

 private:
  std::mt19937 rng_;
};

// A random ACL file and the same rules given to the naive evaluator.
std::string random_file(Generator& g, NaiveAcl& naive, int rules) {
  std::string text = "# generated\n";
  std::optional<std::string> user;
  for (int i = 0; i < rules; ++i) {
    const int r = g.pick(0, 9);
    if (r == 0 && i > 2) {
      user = g.one_of(kUserSections);  // sections repeat: they merge
      text += "user " + *user + "\n";
      continue;
    }
    const unsigned access = g.access();
    if (r <= 3) {
      const std::string f = g.filter(true);
      text += std::string("pattern ") + Generator::access_word(access) + " " + f + "\n";
      naive.pattern(f, access);
    } else {
      const std::string f = g.filter(false);
      text += std::string("topic ") + Generator::access_word(access) + " " + f + "\n";
      naive.topic(user, f, access);
    }
    if (g.pick(0, 7) == 0) text += "\n";
  }
  return text;
}

}  // namespace

TEST_CASE("acl random: the tries decide as Mosquitto's linear scan does", "[acl][random]") {
  for (unsigned seed = 1; seed <= 40; ++seed) {
    Generator g(seed);
    NaiveAcl naive;
    const int rule_count = seed <= 20 ? g.pick(1, 12) : g.pick(20, 80);
    const std::string text = random_file(g, naive, rule_count);
    auto parsed = AclRules::parse(text, "random.acl");
    INFO("seed " << seed << "\n" << text);
    REQUIRE(parsed);
    const AclRules& rules = *parsed;

    int allowed = 0;
    int checks = 0;
    int subscribed = 0;
    for (int i = 0; i < 600; ++i) {
      const std::string topic = g.topic();
      const std::string& client = g.one_of(kClientIds);
      const std::optional<std::string>& user = g.one_of(kUsers);
      for (const auto& [access, want] : {std::pair{AclAccess::read, NaiveAcl::kRead},
                                         std::pair{AclAccess::write, NaiveAcl::kWrite}}) {
        const bool expected = naive.allows(client, user, topic, want);
        const std::optional<std::string_view> user_view =
            user ? std::optional<std::string_view>(*user) : std::nullopt;
        const bool actual = rules.allows(client, user_view, topic, access);
        INFO("client '" << client << "' user " << (user ? "'" + *user + "'" : "(none)")
                        << " topic '" << topic << "' "
                        << (access == AclAccess::read ? "read" : "write"));
        REQUIRE(actual == expected);
        allowed += actual;
        ++checks;
      }
      const std::string filter = g.subscription();
      const std::optional<std::string_view> user_view =
          user ? std::optional<std::string_view>(*user) : std::nullopt;
      const bool expected = naive.allows_subscribe(client, user, filter);
      INFO("client '" << client << "' user " << (user ? "'" + *user + "'" : "(none)")
                      << " subscribes to '" << filter << "'");
      REQUIRE(rules.allows(client, user_view, filter, AclAccess::subscribe) == expected);
      subscribed += expected;
    }
    // The alphabets are small enough that both answers are common.
    if (seed > 20) {
      CHECK(allowed > 0);
      CHECK(allowed < checks);
      CHECK(subscribed > 0);
      CHECK(subscribed < 600);
    }
  }
}
