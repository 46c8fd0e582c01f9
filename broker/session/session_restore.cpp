// Sessions read back from durable storage at start-up: rebuilt offline, as a client that
// disconnected just now would have left them.
#include <algorithm>

#include "broker/message/will_message.hpp"
#include "broker/routing/subscription_index.hpp"
#include "broker/session/session_store.hpp"
#include "broker/storage/restored_state.hpp"

namespace shardmq::broker {

void SessionStore::restore(const RestoredSession& r) {
  Session* s = sessions_.find(r.client_id);
  if (s) return;  // read once per client id: cannot happen
  s = slab_.create();
  if (r.username)
    s->client_id.assign(r.client_id, *r.username);
  else
    s->client_id.assign(r.client_id);
  sessions_.insert(s);
  count_sessions();
  s->expiry_s = r.expiry_s;
  for (const auto& [filter, options] : r.subscriptions) {
    s->subscriptions.add(filter, options);
    index_.insert(filter, s, options);
  }
  for (const RestoredEntry& e : r.messages) {
    e.message->add_ref();
    OutgoingMessage m{e.message, e.qos, e.retain, e.subscription_id, e.packet_id, e.released};
    if (e.packet_id) {
      s->inflight.push_back(m);
      count_inflight(1);
      s->next_packet_id = std::max(s->next_packet_id, e.packet_id);
    } else {
      s->queue.push_back(m);
      count_queued(1);
      s->queued_bytes += e.message->payload().size() + e.message->topic().size();
    }
  }
  // Exactly once across the restart: a resent PUBLISH with one of these ids is acknowledged
  // again and not delivered, as if the client had only been away.
  if (!r.qos2_awaiting_rel.empty()) s->away_state().qos2_awaiting_rel = r.qos2_awaiting_rel;
  // The client was connected when the broker stopped, or its will waited for its delay: the
  // connection ended without DISCONNECT, so the will goes after its Will Delay (counted from
  // the restart) or at the session's end, unless the client comes back first.
  if (r.will) {
    PublishedMessage* will = r.will;
    will->add_ref();
    const std::uint32_t delay_s = take_will_delay(will);
    keep_will(*s, will, delay_s);
    if (delay_s == 0) wills_due_.push_back(s);
  }
  if (s->expiry_s != 0xFFFFFFFFu)
    expiry_timers_.schedule(
        s->away_state().expiry_timer,
        ctx_.tick + ShardContext::ms_to_ticks(std::uint64_t(s->expiry_s) * 1000));
}

void SessionStore::publish_restored_wills() {
  for (Session* s : wills_due_)
    end_delayed_will(*s, true);
  wills_due_.clear();
  wills_due_.shrink_to_fit();
}

}  // namespace shardmq::broker
