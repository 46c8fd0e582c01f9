// Sessions coming and going: attach (new, resumed or taken over), detach, expiry, end.
#include "broker/log.hpp"
#include "broker/mesh/mesh_link.hpp"
#include "broker/message/message_expiry.hpp"
#include "broker/session/session_store.hpp"
#include "broker/session/will_publisher.hpp"
#include "broker/storage/storage_link.hpp"

namespace shardmq::broker {

SessionStore::SessionStore(ShardContext& ctx, SubscriptionIndex& index, RetainedStore& retained,
                           MeshLink& mesh, ConnectionTable& connections, StorageLink& storage,
                           AccessControl& access)
    : ctx_(ctx),
      config_(ctx.config),
      counters_(ctx.counters),
      id_(ctx.id),
      index_(index),
      retained_(retained),
      mesh_(mesh),
      connections_(connections),
      storage_(storage),
      access_(access) {}

SessionStore::~SessionStore() {
  for (auto& p : pending_subscribes_) {
    delete p.request;
    delete p.unsubscribe;
  }
  pending_subscribes_.clear();
  std::vector<Session*> all;
  sessions_.for_each([&](Session* s) { all.push_back(s); });
  for (Session* s : all)
    destroy(s);
}

void SessionStore::attach(AttachRequest* req) {
  Session* s = sessions_.find(req->client_id);
  if (s && s->online) {
    // Takeover: close the current connection, finish when it has let go of the session.
    if (s->pending) {
      // Two new connections raced: the older waiting one loses.
      auto* lost = new AttachReply;
      lost->connection = s->pending->connection;
      reply(lost->connection,
            ShardEnvelope{ShardEnvelope::Kind::attached, 0, ctx_.self(), 0, lost});
    }
    s->pending.reset(req);
    log_info("client '{}' connected again: taking the session over", s->client_id.view());
    reply(s->connection, ShardEnvelope{ShardEnvelope::Kind::kick, 0, ctx_.self(), 0, nullptr,
                                       s->connection.serial, 0});
    return;
  }
  finish_attach(s, *req);
  delete req;
}

void SessionStore::finish_attach(Session* s, AttachRequest& req) {
  bool present = false;
  if (s) {
    if (req.clean_start) {
      clear_state(*s);
      storage_.session_ended(s->client_id);  // what was stored of it is gone
    } else {
      present = true;
    }
    s->client_id.assign(req.client_id, req.username);  // the user name may differ this time
  } else {
    s = slab_.create();
    s->client_id.assign(req.client_id, req.username);
    sessions_.insert(s);
    count_sessions();
  }
  std::vector<std::uint16_t> qos2_awaiting_rel;
  if (s->away) {  // back from away: stop its expiry, hand its QoS 2 state to the connection
    // Back within the Will Delay: no will; a clean start ends the old session: its will goes.
    end_delayed_will(*s, req.clean_start);
    expiry_timers_.cancel(s->away->expiry_timer);
    qos2_awaiting_rel = std::move(s->away->qos2_awaiting_rel);
    s->away.reset();
  }
  if (!s->online) ShardCounters::add(counters_.sessions_online, 1);
  s->online = true;
  s->last_progress_tick = ctx_.tick;
  s->local_connection = nullptr;  // bound by the protocol when the socket is here
  s->connection = req.connection;
  s->version = req.version;
  s->receive_maximum = req.receive_maximum ? req.receive_maximum : 65535;
  s->expiry_s = req.session_expiry_s;
  storage_.session_opened(s->client_id, s->expiry_s);
  storage_.will_changed(s->client_id, req.will.get());
  shared_presence(*s);
  auto* answer = new AttachReply;
  answer->connection = req.connection;
  answer->session = s;
  answer->session_present = present;
  answer->qos2_awaiting_rel = std::move(qos2_awaiting_rel);
  reply(req.connection, ShardEnvelope{ShardEnvelope::Kind::attached, 0, ctx_.self(), 0, answer});
  // On this shard the answer is handled at once, and a connection that is already gone
  // hands the session straight back, which may end it: look it up again before using it.
  if (sessions_.find(req.client_id) != s || !s->online || !(s->connection == req.connection))
    return;
  // Unacknowledged messages go again, in their original order (PUBLISH with DUP, or PUBREL),
  // but not those whose Message Expiry passed meanwhile (a PUBREL still goes: the client has
  // the message).
  drop_expired_inflight(*s);
  for (OutgoingMessage& m : s->inflight)
    send_outgoing(*s, m, true);
  pump(*s);
}

void SessionStore::detach(DetachNotice* n) {
  Session* s = n->session;
  if (!s->online || !(s->connection == n->connection)) {
    delete n;  // a connection that no longer holds the session (its will goes with it)
    return;
  }
  s->online = false;
  ShardCounters::add(counters_.sessions_online, -1);
  s->local_connection = nullptr;
  update_congestion(*s);
  if (!n->qos2_awaiting_rel.empty())
    s->away_state().qos2_awaiting_rel = std::move(n->qos2_awaiting_rel);
  s->retained_streams.clear();  // sent again on the next SUBSCRIBE, not queued
  if (n->session_expiry_s && *n->session_expiry_s != s->expiry_s) {  // the client's DISCONNECT
    s->expiry_s = *n->session_expiry_s;
    storage_.session_opened(s->client_id, s->expiry_s);  // 0: nothing of it is kept
  }
  PublishedMessage* will = std::exchange(n->will, nullptr);
  const std::uint32_t will_delay_s = n->will_delay_s;
  // None left to wait (a clean DISCONNECT, or published as the connection ended): none stored.
  if (!will) storage_.will_changed(s->client_id, nullptr);
  delete n;
  if (s->pending) {
    std::unique_ptr<AttachRequest> req = std::move(s->pending);
    // Taken over: the will goes unless the new connection resumes the session (MQTT 5
    // 3.1.3.2.2: a Will Delay and Clean Start 0).
    if (will && req->clean_start)
      publish_will_now(*s, will);
    else if (will)
      will->release();
    finish_attach(s, *req);
  } else if (s->expiry_s == 0) {
    if (will) publish_will_now(*s, will);  // the session ends now, and with it the delay
    destroy(s);
  } else {
    if (will) keep_will(*s, will, will_delay_s);
    shared_presence(*s);  // offline members are skipped while others are online
    if (s->expiry_s != 0xFFFFFFFFu)
      expiry_timers_.schedule(
          s->away_state().expiry_timer,
          ctx_.tick + ShardContext::ms_to_ticks(std::uint64_t(s->expiry_s) * 1000));
  }
}

// A will with a Will Delay waits with the session: published when the delay passes or the
// session ends (expiry, a clean start), whichever comes first; dropped if the client resumes
// the session in time.
void SessionStore::keep_will(Session& s, PublishedMessage* will, std::uint32_t delay_s) {
  SessionAway& away = s.away_state();
  end_delayed_will(s, false);
  away.will = will;
  if (delay_s < s.expiry_s)  // else the session's end comes first and publishes it
    will_timers_.schedule(away.will_timer,
                          ctx_.tick + ShardContext::ms_to_ticks(std::uint64_t(delay_s) * 1000));
}

void SessionStore::end_delayed_will(Session& s, bool publish) {
  if (!s.away || !s.away->will) return;
  will_timers_.cancel(s.away->will_timer);
  PublishedMessage* will = std::exchange(s.away->will, nullptr);
  if (!ctx_.destroying) storage_.will_changed(s.client_id, nullptr);  // kept over a shutdown
  if (publish && !ctx_.destroying)
    publish_will_now(s, will);
  else
    will->release();
}

void SessionStore::publish_will_now(const Session& s, PublishedMessage* will) {
  if (wills_)
    wills_->publish_will(s.client_id, will);
  else
    will->release();
}

void SessionStore::drop_expired_inflight(Session& s) {
  const std::uint64_t now = steady_now_ms();
  const std::size_t before = s.inflight.size();
  s.inflight.erase_if([&](OutgoingMessage& m) {
    if (m.released || !message_expired(*m.message, now)) return false;
    ShardCounters::bump(counters_.messages_expired);
    storage_.message_done(s.client_id, m.packet_id);
    m.message->release();
    return true;
  });
  count_inflight(std::int64_t(s.inflight.size()) - std::int64_t(before));
}

void SessionStore::clear_state(Session& s) {
  while (!s.subscriptions.empty()) {
    std::string f((*s.subscriptions.begin()).filter);
    remove_subscription(s, f, true);
  }
  for (auto& m : s.inflight)
    m.message->release();
  for (auto& m : s.queue)
    m.message->release();
  count_inflight(-std::int64_t(s.inflight.size()));
  count_queued(-std::int64_t(s.queue.size()));
  s.inflight.clear();
  s.queue.clear();
  s.queued_bytes = 0;
  if (s.away) s.away->qos2_awaiting_rel.clear();
}

void SessionStore::destroy(Session* s) {
  end_delayed_will(*s, true);  // the session's end: a delayed will goes now (not at shutdown)
  if (s->away) expiry_timers_.cancel(s->away->expiry_timer);
  // A SUBSCRIBE still waiting for its barrier must not reach a freed session.
  for (PendingSubscribe& p : pending_subscribes_) {
    if (p.request && p.request->session == s) p.request->session = nullptr;
    if (p.unsubscribe && p.unsubscribe->session == s) p.unsubscribe->session = nullptr;
  }
  if (s->congested) {
    std::erase(congested_, s);
    let_publishers_go(*s);
  }
  if (s->in_stream_list) std::erase(streaming_, s);
  s->retained_streams.clear();
  clear_state(*s);
  if (!ctx_.destroying) storage_.session_ended(s->client_id);
  if (s->online) ShardCounters::add(counters_.sessions_online, -1);
  sessions_.erase(s);
  count_sessions();
  slab_.destroy(s);
}

void SessionStore::on_tick() {
  expiry_timers_.advance(ctx_.tick, [this](io::TimerNode& n) {
    Session* s = SessionAway::from_timer(&n)->session;
    if (!s->online && !s->pending) {
      log_debug("session '{}' expired", s->client_id.view());
      ShardCounters::bump(counters_.sessions_expired);
      destroy(s);
    }
  });
  will_timers_.advance(ctx_.tick, [this](io::TimerNode& n) {
    Session* s = SessionAway::from_will_timer(&n)->session;
    if (!s->online) end_delayed_will(*s, true);
  });
  if (!congested_.empty()) {
    auto congested = congested_;  // a client that stopped acking lets go here
    for (Session* s : congested)
      update_congestion(*s);
  }
}

// Replies to a connection go as envelopes, to this shard too (handled at once there), so
// the session side never calls into the protocol above it.
void SessionStore::reply(ConnectionRef to, ShardEnvelope e) {
  mesh_.send(to.shard, e);
}

}  // namespace shardmq::broker
