// ACL checks at a realistic size: 1,000 users x 10 topic rules plus patterns with %c and %u
// (10,008 rules), 1 million checks per benchmark over a mix of allowed, denied and
// pattern-decided topics; ns per check with the compiled rules alone, and through
// AclAuthoriser with and without its per-shard cache (1,024 slots) for working sets of 256,
// 1,024 and 65,536 distinct queries. The Scaling runs change the number of rules to show a check
// does not grow with them. Run from a release build.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "broker/auth/acl_authoriser.hpp"
#include "broker/auth/acl_rules.hpp"

using shardmq::broker::AclAccess;
using shardmq::broker::AclAuthoriser;
using shardmq::broker::AclRules;
using shardmq::broker::ClientIdentity;

namespace {

constexpr std::int64_t kChecks = 1'000'000;
constexpr std::size_t kPoolSize = 65536;  // distinct queries cycled through (cold)

const char* const kPatterns[] = {
    "pattern readwrite clients/%c/#",      "pattern deny clients/%c/locked",
    "pattern read users/%u/inbox/#",       "pattern write users/%u/outbox",
    "pattern read devices/%u/%c/config",   "pattern write devices/%u/%c/state",
    "pattern read fleet/%u/announcements", "pattern readwrite scratch/%u-%c/#",
};

// `rules_per_user` topic rules for each of `users` users, then the patterns.
std::string acl_text(int users, int rules_per_user) {
  std::string t;
  for (int u = 0; u < users; ++u) {
    const std::string n = std::to_string(u);
    t += "user user" + n + "\n";
    const std::string base[] = {
        "topic readwrite home/user" + n + "/#",
        "topic read sensors/+/user" + n + "/temperature",
        "topic write devices/user" + n + "/+/cmd",
        "topic read fleet/region" + std::to_string(u % 20) + "/#",
        "topic deny home/user" + n + "/private/#",
        "topic read alerts/user" + n,
        "topic write telemetry/user" + n + "/+/+",
        "topic readwrite chat/room" + std::to_string(u % 50),
        "topic read status/+/user" + n,
        "topic read shared/user" + n + "/#",
    };
    for (int r = 0; r < rules_per_user; ++r) {
      if (r < 10) {
        t += base[r] + "\n";
      } else {  // extra rules for the scaling runs: more of the same shape
        t += "topic read extra/user" + n + "/r" + std::to_string(r) + "/+\n";
      }
    }
  }
  for (const char* p : kPatterns)
    t += std::string(p) + "\n";
  return t;
}

struct Query {
  std::string client_id;
  std::optional<std::string> username;
  std::string topic;
  AclAccess access;
};

// A mix of what a broker asks: a user's own topics (some in a deny subtree), someone else's
// (decided by the patterns, refused), pattern topics, anonymous clients.
std::vector<Query> queries(int users, std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  std::vector<Query> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const int u = pick(users);
    const std::string n = std::to_string(u);
    const std::string user = "user" + n;
    const std::string client = "dev-" + n + "-" + std::to_string(pick(4));
    const std::string r = std::to_string(pick(8));
    Query q{client,
            pick(10) == 0 ? std::nullopt : std::optional<std::string>(user),
            {},
            pick(2) == 0 ? AclAccess::read : AclAccess::write};
    switch (pick(8)) {
      case 0:
        q.topic = "home/" + user + "/room" + r + "/light";
        break;
      case 1:
        q.topic = "sensors/s" + r + "/" + user + "/temperature";
        break;
      case 2:
        q.topic = "devices/" + user + "/d" + r + "/cmd";
        break;
      case 3:
        q.topic = "home/" + user + "/private/k" + r;
        break;
      case 4:
        q.topic = "home/user" + std::to_string(pick(users)) + "/room" + r + "/light";
        break;
      case 5:
        q.topic = "clients/" + client + "/telemetry";
        break;
      case 6:
        q.topic = "users/" + user + "/inbox/m" + r;
        break;
      default:
        q.topic = "devices/" + user + "/" + client + "/state";
        break;
    }
    out.push_back(std::move(q));
  }
  return out;
}

std::shared_ptr<const AclRules> build(int users, int rules_per_user) {
  auto r = AclRules::parse(acl_text(users, rules_per_user), "bench.acl");
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
    std::abort();
  }
  return std::make_shared<const AclRules>(std::move(r).value());
}

const std::shared_ptr<const AclRules>& standard_rules() {
  static const auto rules = build(1000, 10);
  return rules;
}

const std::vector<Query>& standard_queries() {
  static const auto q = queries(1000, kPoolSize, 42);
  return q;
}

void describe(benchmark::State& state, const AclRules& rules, std::int64_t allowed) {
  state.SetItemsProcessed(state.iterations());
  state.counters["rules"] = static_cast<double>(rules.rule_count());
  state.counters["rule_bytes"] = static_cast<double>(rules.memory_bytes());
  state.counters["allowed"] =
      static_cast<double>(allowed) / static_cast<double>(state.iterations());
}

std::optional<std::string_view> view(const std::optional<std::string>& s) {
  return s ? std::optional<std::string_view>(*s) : std::nullopt;
}

void BM_AclRules(benchmark::State& state) {
  const AclRules& rules = *standard_rules();
  const std::vector<Query>& qs = standard_queries();
  std::size_t i = 0;
  std::int64_t allowed = 0;
  for (auto _ : state) {
    const Query& q = qs[i++ & (kPoolSize - 1)];
    const bool ok = rules.allows(q.client_id, view(q.username), q.topic, q.access);
    benchmark::DoNotOptimize(ok);
    allowed += ok;
  }
  describe(state, rules, allowed);
}

// Through the Authoriser interface, as a shard calls it, over `working_set` distinct queries
// asked in a random order (a strict cycle would be the worst case for any LRU).
void authoriser_run(benchmark::State& state, std::size_t cache_slots, std::size_t working_set) {
  AclAuthoriser auth(standard_rules(), cache_slots);
  const std::vector<Query>& qs = standard_queries();
  std::vector<ClientIdentity> who;
  who.reserve(working_set);
  for (std::size_t k = 0; k < working_set; ++k) {
    who.push_back(ClientIdentity{qs[k].client_id, view(qs[k].username)});
  }
  std::vector<std::uint32_t> order(kPoolSize);
  std::mt19937 rng(3);
  for (std::uint32_t& k : order) {
    k = std::uniform_int_distribution<std::uint32_t>(0, std::uint32_t(working_set - 1))(rng);
  }
  std::size_t i = 0;
  std::int64_t allowed = 0;
  for (auto _ : state) {
    const std::size_t k = order[i++ & (kPoolSize - 1)];
    const Query& q = qs[k];
    const bool ok = q.access == AclAccess::read ? auth.may_receive(who[k], q.topic)
                                                : auth.may_publish(who[k], q.topic);
    benchmark::DoNotOptimize(ok);
    allowed += ok;
  }
  describe(state, auth.rules(), allowed);
  const auto& c = auth.cache();
  const double lookups = static_cast<double>(c.hits() + c.misses());
  state.counters["hit_rate"] = lookups > 0 ? static_cast<double>(c.hits()) / lookups : 0.0;
  state.counters["cache_bytes"] = static_cast<double>(c.memory_bytes());
}

// Argument: the working set, in distinct (client, user, topic, access) queries.
void BM_AclAuthoriser_NoCache(benchmark::State& state) {
  authoriser_run(state, 0, static_cast<std::size_t>(state.range(0)));
}
void BM_AclAuthoriser_Cache(benchmark::State& state) {
  authoriser_run(state, AclAuthoriser::kDefaultCacheSlots,
                 static_cast<std::size_t>(state.range(0)));
}
// Arguments: the working set, the cache's slots (128 bytes each).
void BM_AclAuthoriser_CacheSize(benchmark::State& state) {
  authoriser_run(state, static_cast<std::size_t>(state.range(1)),
                 static_cast<std::size_t>(state.range(0)));
}

// Same queries shape, rules = users x rules per user (+ 8 patterns).
void BM_AclRules_Scaling(benchmark::State& state) {
  const int users = static_cast<int>(state.range(0));
  const int per_user = static_cast<int>(state.range(1));
  const auto rules = build(users, per_user);
  const auto qs = queries(users, kPoolSize, 7);
  std::size_t i = 0;
  std::int64_t allowed = 0;
  for (auto _ : state) {
    const Query& q = qs[i++ & (kPoolSize - 1)];
    const bool ok = rules->allows(q.client_id, view(q.username), q.topic, q.access);
    benchmark::DoNotOptimize(ok);
    allowed += ok;
  }
  describe(state, *rules, allowed);
}

}  // namespace

BENCHMARK(BM_AclRules)->Iterations(kChecks);
BENCHMARK(BM_AclAuthoriser_NoCache)->Arg(256)->Arg(1024)->Arg(kPoolSize)->Iterations(kChecks);
BENCHMARK(BM_AclAuthoriser_Cache)->Arg(256)->Arg(1024)->Arg(kPoolSize)->Iterations(kChecks);
BENCHMARK(BM_AclAuthoriser_CacheSize)
    ->Args({1024, 4096})
    ->Args({4096, 4096})
    ->Args({4096, 16384})
    ->Iterations(kChecks);
BENCHMARK(BM_AclRules_Scaling)
    ->Args({10, 10})
    ->Args({100, 10})
    ->Args({1000, 10})
    ->Args({10000, 10})
    ->Args({100, 100})
    ->Args({100, 1000})
    ->Iterations(kChecks);

BENCHMARK_MAIN();
