// Shared subscriptions in the router. route_shared takes a publish entering this shard whose
// route has this shard's own bit set (groups owned here, or a strategy that looks at every
// publish: the sticky hash, local_first's members homed here). On the group's owner shard each
// publish matching a group goes to one member, chosen here (shared_choice.hpp). A member homed here
// is delivered to at once; one homed elsewhere gets a shared_deliver envelope, which its home sends
// back (shared_bounce) if the member left or went away meanwhile, so the message is never delivered
// twice nor lost to a member that is no longer there.
#include <xxhash.h>

#include "broker/connection/connection.hpp"
#include "broker/mesh/mesh_link.hpp"
#include "broker/message/local_publish.hpp"
#include "broker/routing/router.hpp"
#include "broker/session/session_store.hpp"
#include "broker/storage/storage_link.hpp"

namespace shardmq::broker {

void Router::route_shared(const LocalPublish& p, const SubscriptionIndex::Route& r,
                          Connection* publisher, std::uint64_t mask) {
  std::uint32_t hash = 0;
  if (sticky_ && publisher) {
    const std::string_view id = publisher->client_id.view();
    hash = static_cast<std::uint32_t>(XXH3_64bits(id.data(), id.size()));
  }
  // Groups owned here first (deliveries change neither the index nor the cached route).
  if (!r.groups.empty()) deliver_shared(p, r, id_, hash);
  if (local_first_ && index_.has_local_members()) deliver_local_first(p);
  deliver_local(p, r);
  if (mask) push_remote(p, mask, hash, publisher);
}

void Router::deliver_shared(const LocalPublish& p, const SubscriptionIndex::Route& route,
                            unsigned from, std::uint32_t publisher_hash) {
  for (SharedGroup* g : route.groups)
    dispatch(*g, p, from, publisher_hash);
}

void Router::dispatch(SharedGroup& g, const LocalPublish& p, unsigned from,
                      std::uint32_t publisher_hash) {
  const int i = choose_member(g.members, g.online, strategy_, g.cursor, publisher_hash, from);
  if (i < 0) return;
  const SharedMember m = g.members[static_cast<std::size_t>(i)];
  // local_first chose a member online on the publishing shard: that shard has delivered to
  // one of its members itself (deliver_local_first), seeing the same membership as here.
  if (strategy_ == SharedStrategy::local_first && m.online && m.home == from && from != id_) return;
  if (m.home == id_) {
    sessions_.deliver_shared(m.index, p);
    return;
  }
  PublishedMessage* msg = p.shared();
  if (!msg) {
    log_error("out of memory copying a publish for a shared subscription");
    return;
  }
  msg->add_ref();
  // Offline only when no member is online: the home then queues it rather than sending it back.
  const std::uint8_t flags = m.online ? 0 : kSharedFinal;
  mesh_.push(m.home,
             ShardEnvelope{ShardEnvelope::Kind::shared_deliver, flags, ctx_.self(), g.id, msg,
                           m.index, m.generation},
             nullptr);
  // "sync": the member's home confirms once it has written it (the publisher's
  // acknowledgement, here or on the shard it came from, waits for that).
  if (p.qos && storage_.peers().enabled()) {
    ShardEnvelope t{ShardEnvelope::Kind::peer_ticket, 0, ctx_.self()};
    mesh_.push(m.home, t.set_ticket(storage_.peers().sent(std::uint64_t(1) << m.home)), nullptr);
  }
}

void Router::deliver_local_first(const LocalPublish& p) {
  index_.match_local_groups(p.topic, [&](SharedGroup* g) {
    if (!g->online) return;  // the owner chooses, among members elsewhere
    const int i =
        choose_member(g->members, g->online, SharedStrategy::round_robin, g->cursor, 0, kNoShard);
    sessions_.deliver_shared(g->members[static_cast<std::size_t>(i)].index, p);
  });
}

void Router::shared_bounce(PublishedMessage* m, std::uint32_t group_id) {
  LocalPublish p(m);  // adopts the reference
  if (SharedGroup* g = index_.shared_group(group_id)) dispatch(*g, p, kNoShard, 0);
}

void Router::shared_leave(SharedLeave* leave, unsigned from) {
  SharedGroup* g = index_.shared_leave(from, leave->index);
  for (PublishedMessage* m : leave->messages) {
    LocalPublish p(m);  // adopts the reference
    if (g) dispatch(*g, p, kNoShard, 0);
  }
  delete leave;
}

}  // namespace shardmq::broker
