// Shared subscriptions, the session side. A member's session lives on its home shard (here);
// its group ($share/{group}/{filter}) lives on the group's owner shard, which chooses the
// member for each message (routing/shared_groups.hpp). Here: joining and leaving (with the
// QoS 1 messages a leaving member held, for another member), telling the owner when the
// client comes and goes, and taking the owner's deliveries. As an owner, this shard also
// confirms joins once every shard routes the group's filter here.
#include <xxhash.h>

#include <algorithm>

#include "broker/mesh/mesh_link.hpp"
#include "broker/message/local_publish.hpp"
#include "broker/routing/subscription_index.hpp"
#include "broker/session/session_store.hpp"
#include "broker/storage/storage_link.hpp"

namespace shardmq::broker {

namespace {

constexpr std::string_view kShare = "$share/";

// "{group}/{filter}", which names the group, and the shard that owns it.
std::string_view group_key(std::string_view filter) {
  return filter.substr(kShare.size());
}

unsigned owner_of(std::string_view key, unsigned shards) {
  return static_cast<unsigned>(XXH3_64bits(key.data(), key.size()) % shards);
}

}  // namespace

bool SessionStore::add_shared(Session& s, const std::string& filter, const SubscriptionOptions& o,
                              bool* existed, std::vector<SharedJoin*>& joins) {
  storage_.subscription_added(s.client_id, filter, o);
  if (s.subscriptions.update(filter, o)) {
    // The owner knows the member only by its slot: new options stay here.
    if (std::uint32_t i = shared_.find(&s, filter); i != SharedMemberships::kNone)
      shared_.at(i).options = o;
    *existed = true;
    return false;
  }
  *existed = false;
  s.subscriptions.add(filter, o);
  ShardCounters::bump(counters_.subscriptions);
  const std::string_view key = group_key(filter);
  const unsigned owner = owner_of(key, ctx_.shards);
  const std::uint32_t i = shared_.add(&s, filter, o, owner);
  if (owner != id_ && config_.shared_strategy == SharedStrategy::local_first)
    index_.local_member_join(
        key, key.substr(key.find('/') + 1),
        SharedMember{static_cast<std::uint16_t>(id_), s.online, i, shared_.at(i).generation});
  auto* j = new SharedJoin;
  j->key = key;
  j->filter_at = key.find('/') + 1;
  j->index = i;
  j->generation = shared_.at(i).generation;
  j->online = s.online;
  joins.push_back(j);
  return true;
}

void SessionStore::leave_shared(Session& s, const std::string& filter, bool session_ends) {
  const std::uint32_t i = shared_.find(&s, filter);
  if (i == SharedMemberships::kNone) return;
  const std::uint32_t tag = i + 1;
  auto* leave = new SharedLeave;
  leave->index = i;
  // Messages not yet sent go to another member; of those sent, QoS 1 ones go too when the
  // session ends (QoS 2 must not: the client may have it already, MQTT 5 §4.8.2), and on
  // UNSUBSCRIBE the client still gets what it was sent (§3.10.4).
  LazyDeque<OutgoingMessage> keep;
  for (OutgoingMessage& m : s.queue) {
    if (m.shared_member != tag) {
      keep.push_back(m);
      continue;
    }
    s.queued_bytes -= m.message->payload().size() + m.message->topic().size();
    leave->messages.push_back(m.message);
  }
  count_queued(std::int64_t(keep.size()) - std::int64_t(s.queue.size()));
  s.queue = std::move(keep);
  for (auto it = s.inflight.begin(); it != s.inflight.end();) {
    if (it->shared_member != tag) {
      ++it;
      continue;
    }
    if (!session_ends || it->qos != 1) {
      it->shared_member = 0;  // stays with this client; the slot may be reused
      ++it;
      continue;
    }
    storage_.message_done(s.client_id, it->packet_id);
    leave->messages.push_back(it->message);
    s.inflight.erase(it);
    count_inflight(-1);
    it = s.inflight.begin();  // a deque erase invalidates; the list is short (the window)
  }
  const unsigned owner = shared_.at(i).owner;
  if (owner != id_ && config_.shared_strategy == SharedStrategy::local_first)
    index_.local_member_leave(i);
  shared_.remove(i, filter);
  ctx_.counters.subscriptions.store(ctx_.counters.subscriptions.load(std::memory_order_relaxed) - 1,
                                    std::memory_order_relaxed);
  if (ctx_.destroying) {
    release_envelope(ShardEnvelope{ShardEnvelope::Kind::shared_leave, 0, 0, 0, leave});
    return;
  }
  mesh_.send(owner, ShardEnvelope{ShardEnvelope::Kind::shared_leave, 0, ctx_.self(), 0, leave});
}

void SessionStore::shared_presence(Session& s) {
  if (shared_.empty() || ctx_.destroying) return;
  for (const auto& sub : s.subscriptions) {
    if (!sub.filter.starts_with(kShare)) continue;
    const std::uint32_t i = shared_.find(&s, sub.filter);
    if (i == SharedMemberships::kNone) continue;
    if (shared_.at(i).owner != id_ && config_.shared_strategy == SharedStrategy::local_first)
      index_.local_member_state(i, s.online);
    mesh_.send(shared_.at(i).owner,
               ShardEnvelope{ShardEnvelope::Kind::shared_state, std::uint8_t(s.online ? 1 : 0),
                             ctx_.self(), 0, nullptr, i, 0});
  }
}

void SessionStore::deliver_shared(std::uint32_t index, const LocalPublish& p) {
  SharedMembership& m = shared_.at(index);
  const SubscriptionOptions& o = m.options;
  const std::uint8_t qos = p.qos < o.max_qos ? p.qos : o.max_qos;
  Session& s = *m.session;
  const std::size_t inflight = s.inflight.size(), queued = s.queue.size();
  deliver(s, p, qos, o.identifier, o.retain_as_published && p.retain);
  ctx_.delivery_latency.delivered(p.arrived_us);  // a sample of its own (docs/operations.md)
  // Tag what deliver() kept (tagged here, not passed in: the common path's call keeps its
  // arguments in registers), so a leaving member's messages can go to another.
  if (s.queue.size() > queued)
    s.queue.back().shared_member = index + 1;
  else if (s.inflight.size() > inflight)
    s.inflight.back().shared_member = index + 1;
}

void SessionStore::shared_deliver(const ShardEnvelope& e) {
  auto* msg = static_cast<PublishedMessage*>(e.ptr);
  SharedMembership* m = shared_.current(e.target, e.aux);
  if (!m || (!m->session->online && !(e.flags & kSharedFinal))) {
    // Left or went away since the owner chose it; the owner has heard by now (the news went
    // first, on the same ring) and chooses again.
    mesh_.send(e.from,
               ShardEnvelope{ShardEnvelope::Kind::shared_bounce, 0, ctx_.self(), e.seq, msg});
    return;
  }
  LocalPublish p(msg);  // adopts the envelope's reference
  deliver_shared(e.target, p);
}

void SessionStore::shared_join(SharedJoin* j, unsigned from) {
  const std::string_view key = j->key;
  SharedMember m{static_cast<std::uint16_t>(from), j->online, j->index, j->generation};
  const bool fresh = index_.shared_join(key, key.substr(j->filter_at), m);
  // Confirm once every shard routes the filter here (behind any barrier still out).
  const std::uint32_t b = fresh ? mesh_.issue_barrier() : mesh_.last_barrier();
  pending_joins_.push_back(PendingJoin{b, static_cast<std::uint16_t>(from), j->request});
  delete j;
  barriers_answered(mesh_.barriers_done());
}

void SessionStore::shared_joined(SubscribeRequest* req) {
  auto it = std::find_if(pending_subscribes_.begin(), pending_subscribes_.end(),
                         [&](const PendingSubscribe& p) { return p.request == req; });
  if (it == pending_subscribes_.end()) return;
  if (it->joins_waiting) --it->joins_waiting;
  barriers_answered(mesh_.barriers_done());
}

}  // namespace shardmq::broker
