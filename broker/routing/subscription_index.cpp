#include "broker/routing/subscription_index.hpp"

#include "broker/mesh/mesh_link.hpp"
#include "core/topic_validation.hpp"

namespace shardmq::broker {

SubscriptionIndex::SubscriptionIndex(ShardContext& ctx, MeshLink& mesh)
    : ctx_(ctx),
      mesh_(mesh),
      exact_(mesh.exact_interest()),
      shared_every_publish_(ctx.config.shared_subscriptions &&
                            ctx.config.shared_strategy != SharedStrategy::round_robin) {}

bool SubscriptionIndex::announce(bool add, const std::string& filter) {
  if (ctx_.shards == 1 || ctx_.destroying) return false;
  if (!core::has_wildcard(filter)) {
    exact_.set(filter, ctx_.id, add);
    return false;
  }
  const auto kind = add ? ShardEnvelope::Kind::interest_add : ShardEnvelope::Kind::interest_remove;
  mesh_.broadcast([&] { return ShardEnvelope{kind, 0, ctx_.self(), 0, new std::string(filter)}; });
  return true;
}

bool SubscriptionIndex::insert(const std::string& filter, Session* s,
                               const SubscriptionOptions& o) {
  const std::size_t filters_before = subscriptions_.filter_count();
  subscriptions_.insert(filter, s, o);
  ++version_;
  ShardCounters::bump(ctx_.counters.subscriptions);
  // The shard's first subscriber on this filter: the other shards must route it here.
  if (subscriptions_.filter_count() == filters_before || ctx_.shards == 1) return false;
  if (!groups_.empty() && groups_.contains_filter(filter)) return false;  // routed here already
  return announce(true, filter);
}

void SubscriptionIndex::replace(const std::string& filter, Session* s,
                                const SubscriptionOptions& o) {
  subscriptions_.insert(filter, s, o);  // replaces the options
  ++version_;
}

void SubscriptionIndex::erase(const std::string& filter, Session* s) {
  const std::size_t filters_before = subscriptions_.filter_count();
  subscriptions_.erase(filter, s);
  ++version_;
  ctx_.counters.subscriptions.store(ctx_.counters.subscriptions.load(std::memory_order_relaxed) - 1,
                                    std::memory_order_relaxed);
  if (subscriptions_.filter_count() < filters_before &&
      (groups_.empty() || !groups_.contains_filter(filter)))
    announce(false, filter);
}

bool SubscriptionIndex::shared_join(std::string_view key, std::string_view filter,
                                    const SharedMember& m) {
  ++version_;  // a new group changes routes; a new member of a known one does not, harmlessly
  if (!groups_.join(key, filter, m) || ctx_.shards == 1) return false;
  std::string f(filter);
  if (subscriptions_.contains_filter(f)) return false;
  return announce(true, f);
}

SharedGroup* SubscriptionIndex::shared_leave(unsigned home, std::uint32_t index) {
  bool filter_gone = false;
  std::string filter;
  SharedGroup* g = groups_.leave(home, index, filter_gone, filter);
  if (g) return g;
  ++version_;  // the group is gone: no cached route may name it
  if (filter_gone && !subscriptions_.contains_filter(filter)) announce(false, filter);
  return nullptr;
}

void SubscriptionIndex::remote_interest(bool add, const std::string& filter, unsigned from) {
  if (add)
    remote_interest_.add(filter, from);
  else
    remote_interest_.remove(filter, from);
  ++version_;
}

const SubscriptionIndex::Route& SubscriptionIndex::match(Route& r, std::string_view topic) {
  subscriptions_.match(topic, [&](Session* const& s, const SubscriptionOptions& o) {
    r.subscribers.push_back(Target{s, o});
  });
  r.groups.clear();
  if (!groups_.empty()) groups_.match(topic, [&](SharedGroup* g) { r.groups.push_back(g); });
  r.remote_mask = 0;
  if (ctx_.shards > 1) {
    if (remote_interest_.size()) r.remote_mask = remote_interest_.match_mask(topic);
    r.remote_mask |= exact_.mask(topic) & ~(std::uint64_t(1) << ctx_.id);
  }
  // The route's bit for this shard (no shard announces interest to itself) says the publish
  // has shared-subscription work here: groups owned here, or a strategy that looks at every
  // publish. The router then tests one bit, as good as free when nothing is shared.
  if (!r.groups.empty() || shared_every_publish_) r.remote_mask |= std::uint64_t(1) << ctx_.id;
  return routes_.store(r);
}

}  // namespace shardmq::broker
