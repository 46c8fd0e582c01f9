#include "broker/routing/shared_groups.hpp"

#include <algorithm>

namespace shardmq::broker {

bool SharedGroups::join(std::string_view key, std::string_view filter, const SharedMember& m) {
  const std::uint64_t mk = member_key(m.home, m.index);
  auto [it, created] = by_key_.try_emplace(std::string(key));
  if (created) {
    it->second = std::make_unique<SharedGroup>();
    SharedGroup& g = *it->second;
    g.key = key;
    g.filter = filter;
    g.id = next_id_++;
    by_id_.emplace(g.id, &g);
  }
  SharedGroup& g = *it->second;
  by_member_[mk] = &g;
  g.members.push_back(m);
  if (m.online) ++g.online;
  if (!created) return false;
  const std::size_t before = index_.filter_count();
  index_.insert(g.filter, &g, 0);
  return index_.filter_count() != before;
}

SharedGroup* SharedGroups::leave(unsigned home, std::uint32_t index, bool& filter_gone,
                                 std::string& filter) {
  filter_gone = false;
  auto mit = by_member_.find(member_key(home, index));
  if (mit == by_member_.end()) return nullptr;
  SharedGroup* g = mit->second;
  by_member_.erase(mit);
  auto it = std::find_if(g->members.begin(), g->members.end(),
                         [&](const SharedMember& m) { return m.home == home && m.index == index; });
  if (it != g->members.end()) {
    if (it->online) --g->online;
    const auto pos = static_cast<std::uint32_t>(it - g->members.begin());
    g->members.erase(it);
    if (g->cursor > pos) --g->cursor;  // the next member keeps its turn
    if (g->cursor >= g->members.size()) g->cursor = 0;
  }
  if (!g->members.empty()) return g;
  const std::size_t before = index_.filter_count();
  index_.erase(g->filter, g);
  if (index_.filter_count() != before) {
    filter_gone = true;
    filter = g->filter;
  }
  by_id_.erase(g->id);
  by_key_.erase(by_key_.find(g->key));  // frees g
  return nullptr;
}

void SharedGroups::set_online(unsigned home, std::uint32_t index, bool online) {
  auto mit = by_member_.find(member_key(home, index));
  if (mit == by_member_.end()) return;
  SharedGroup* g = mit->second;
  for (SharedMember& m : g->members) {
    if (m.home != home || m.index != index || m.online == online) continue;
    m.online = online;
    if (online)
      ++g->online;
    else
      --g->online;
  }
}

}  // namespace shardmq::broker
