#include "broker/routing/subscription_index.hpp"

#include "broker/mesh/mesh_link.hpp"

namespace shardmq::broker {

SubscriptionIndex::SubscriptionIndex(ShardContext& ctx, MeshLink& mesh) : ctx_(ctx), mesh_(mesh) {}

bool SubscriptionIndex::insert(const std::string& filter, Session* s,
                               const SubscriptionOptions& o) {
  const std::size_t filters_before = subscriptions_.filter_count();
  subscriptions_.insert(filter, s, o);
  ++version_;
  ShardCounters::bump(ctx_.counters.subscriptions);
  // The shard's first subscriber on this filter: the other shards must route it here.
  if (subscriptions_.filter_count() == filters_before || ctx_.shards == 1) return false;
  if (ctx_.destroying) return true;
  mesh_.broadcast([&] {
    return ShardEnvelope{ShardEnvelope::Kind::interest_add, 0, ctx_.self(), 0,
                         new std::string(filter)};
  });
  return true;
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
  if (subscriptions_.filter_count() < filters_before && ctx_.shards > 1 && !ctx_.destroying)
    mesh_.broadcast([&] {
      return ShardEnvelope{ShardEnvelope::Kind::interest_remove, 0, ctx_.self(), 0,
                           new std::string(filter)};
    });
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
  r.remote_mask = ctx_.shards > 1 ? remote_interest_.match_mask(topic) : 0;
  return routes_.store(r);
}

}  // namespace shardmq::broker
