// Choosing the member of a shared-subscription group that gets a message, and the owner's
// table of groups (join, leave, the filters it announces).
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "broker/routing/shared_choice.hpp"
#include "broker/routing/shared_groups.hpp"

using namespace shardmq::broker;

namespace {

std::vector<SharedMember> four_on_two_shards() {
  return {{0, true, 0, 1}, {1, true, 0, 1}, {0, true, 1, 1}, {1, true, 1, 1}};
}

std::map<int, int> spread(const std::vector<SharedMember>& m, std::size_t online, SharedStrategy s,
                          int messages, std::uint32_t hash = 0, unsigned from = kNoShard) {
  std::uint32_t cursor = 0;
  std::map<int, int> got;
  for (int i = 0; i < messages; ++i)
    ++got[choose_member(m, online, s, cursor, hash, from)];
  return got;
}

}  // namespace

TEST_CASE("shared choice: an empty group has no member", "[broker][shared]") {
  std::uint32_t cursor = 0;
  CHECK(choose_member({}, 0, SharedStrategy::round_robin, cursor, 0, 0) == -1);
}

TEST_CASE("shared choice: round robin spreads evenly", "[broker][shared]") {
  auto got = spread(four_on_two_shards(), 4, SharedStrategy::round_robin, 10000);
  CHECK(got == std::map<int, int>{{0, 2500}, {1, 2500}, {2, 2500}, {3, 2500}});
}

TEST_CASE("shared choice: offline members are skipped while one is online", "[broker][shared]") {
  auto m = four_on_two_shards();
  m[0].online = m[2].online = m[3].online = false;
  CHECK(spread(m, 1, SharedStrategy::round_robin, 10) == std::map<int, int>{{1, 10}});
  CHECK(spread(m, 1, SharedStrategy::sticky, 10, 12345) == std::map<int, int>{{1, 10}});
  for (auto& x : m)
    x.online = false;
  // None online: the message goes to one of them anyway (queued there).
  CHECK(spread(m, 0, SharedStrategy::round_robin, 8) ==
        std::map<int, int>{{0, 2}, {1, 2}, {2, 2}, {3, 2}});
}

TEST_CASE("shared choice: sticky keeps one publisher on one member", "[broker][shared]") {
  auto m = four_on_two_shards();
  std::map<int, int> members_used;
  for (std::uint32_t publisher = 0; publisher < 64; ++publisher) {
    auto got = spread(m, 4, SharedStrategy::sticky, 20, publisher * 2654435761u);
    REQUIRE(got.size() == 1);
    ++members_used[got.begin()->first];
  }
  CHECK(members_used.size() == 4);  // different publishers spread over the members
}

TEST_CASE("shared choice: local first takes members on the publishing shard", "[broker][shared]") {
  auto m = four_on_two_shards();
  CHECK(spread(m, 4, SharedStrategy::local_first, 10, 0, 1) == std::map<int, int>{{1, 5}, {3, 5}});
  m[1].online = m[3].online = false;  // shard 1's members are away: the others take it
  CHECK(spread(m, 2, SharedStrategy::local_first, 10, 0, 1) == std::map<int, int>{{0, 5}, {2, 5}});
  CHECK(spread(m, 2, SharedStrategy::local_first, 4, 0, kNoShard) ==
        std::map<int, int>{{0, 2}, {2, 2}});
}

TEST_CASE("shared groups: join, match, leave and the filters to announce", "[broker][shared]") {
  SharedGroups groups;
  CHECK(groups.join("a/s/+", "s/+", SharedMember{0, true, 7, 1}));  // filter new here
  CHECK_FALSE(groups.join("a/s/+", "s/+", SharedMember{1, true, 7, 1}));
  CHECK_FALSE(groups.join("b/s/+", "s/+", SharedMember{1, false, 8, 1}));  // same filter
  std::vector<SharedGroup*> matched;
  groups.match("s/x", [&](SharedGroup* g) { matched.push_back(g); });
  REQUIRE(matched.size() == 2);
  SharedGroup* a = matched[0]->key == "a/s/+" ? matched[0] : matched[1];
  CHECK(a->members.size() == 2);
  CHECK(a->online == 2);
  CHECK(groups.find(a->id) == a);

  groups.set_online(1, 7, false);
  CHECK(a->online == 1);
  bool gone = false;
  std::string filter;
  CHECK(groups.leave(0, 7, gone, filter) == a);  // one member left
  CHECK_FALSE(gone);
  CHECK(groups.leave(1, 7, gone, filter) == nullptr);  // group a is gone, b keeps the filter
  CHECK_FALSE(gone);
  CHECK(groups.contains_filter("s/+"));
  CHECK(groups.leave(1, 8, gone, filter) == nullptr);
  CHECK(gone);
  CHECK(filter == "s/+");
  CHECK(groups.empty());
  CHECK_FALSE(groups.contains_filter("s/+"));
  CHECK(groups.leave(1, 8, gone, filter) == nullptr);  // unknown member: nothing
}

TEST_CASE("shared groups: round robin keeps its turn when a member leaves", "[broker][shared]") {
  SharedGroups groups;
  for (std::uint32_t i = 0; i < 3; ++i)
    groups.join("g/t", "t", SharedMember{0, true, i, 1});
  std::vector<SharedGroup*> matched;
  groups.match("t", [&](SharedGroup* g) { matched.push_back(g); });
  REQUIRE(matched.size() == 1);
  SharedGroup& g = *matched[0];
  CHECK(choose_member(g.members, g.online, SharedStrategy::round_robin, g.cursor, 0, 0) == 0);
  CHECK(choose_member(g.members, g.online, SharedStrategy::round_robin, g.cursor, 0, 0) == 1);
  bool gone = false;
  std::string f;
  groups.leave(0, 0, gone, f);  // member 0 leaves; member 2 (now at 1) is next
  const int next = choose_member(g.members, g.online, SharedStrategy::round_robin, g.cursor, 0, 0);
  CHECK(g.members[static_cast<std::size_t>(next)].index == 2);
}
