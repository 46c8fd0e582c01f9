// SUBSCRIBE and UNSUBSCRIBE for sessions homed here: the session's own list and the shard's
// index change together, and a SUBACK for a filter new to this shard waits until every other
// shard routes it here (a barrier), so a publish sent after SUBACK reaches the subscriber.
#include "broker/mesh/mesh_link.hpp"
#include "broker/retained/retained_store.hpp"
#include "broker/routing/subscription_index.hpp"
#include "broker/session/session_store.hpp"
#include "broker/storage/storage_link.hpp"

namespace shardmq::broker {

using core::ProtocolVersion;
using core::ReasonCode;

bool SessionStore::add_subscription(Session& s, const std::string& filter,
                                    const SubscriptionOptions& o, bool* existed) {
  storage_.subscription_added(s.client_id, filter, o);
  if (s.subscriptions.update(filter, o)) {
    index_.replace(filter, &s, o);
    *existed = true;
    return false;
  }
  *existed = false;
  s.subscriptions.add(filter, o);
  return index_.insert(filter, &s, o);
}

bool SessionStore::remove_subscription(Session& s, const std::string& filter, bool session_ends) {
  if (!s.subscriptions.remove(filter)) return false;
  if (filter.starts_with("$share/"))
    leave_shared(s, filter, session_ends);
  else
    index_.erase(filter, &s);
  if (!ctx_.destroying) storage_.subscription_removed(s.client_id, filter);
  return true;
}

void SessionStore::subscribe(SubscribeRequest* req) {
  Session* s = req->session;
  if (!s->online || !(s->connection == req->connection)) {
    delete req;
    return;
  }
  bool new_interest = false;
  std::vector<SharedJoin*> joins;
  for (SubscribeRequest::Item& item : req->items) {
    using Refusal = SubscribeRequest::Item::Refusal;
    const bool v5 = s->version == ProtocolVersion::v5;
    if (item.refused != Refusal::none) {
      item.granted = !v5 ? 0x80
                         : static_cast<std::uint8_t>(item.refused == Refusal::invalid
                                                         ? ReasonCode::TopicFilterInvalid
                                                         : ReasonCode::NotAuthorized);
      continue;
    }
    if (config_.max_subscriptions && s->subscriptions.size() >= config_.max_subscriptions &&
        !s->subscriptions.contains(item.filter)) {
      item.granted = v5 ? static_cast<std::uint8_t>(ReasonCode::QuotaExceeded) : 0x80;
      continue;
    }
    bool existed = false;
    if (item.filter.starts_with("$share/")) {
      if (!config_.shared_subscriptions) {
        item.granted =
            v5 ? static_cast<std::uint8_t>(ReasonCode::SharedSubscriptionsNotSupported) : 0x80;
        continue;
      }
      add_shared(*s, item.filter, item.options, &existed, joins);
      item.existed = existed;
      item.granted = item.options.max_qos;
      continue;
    }
    new_interest |= add_subscription(*s, item.filter, item.options, &existed);
    item.existed = existed;
    item.granted = item.options.max_qos;
  }
  if (!joins.empty() || (ctx_.shards > 1 && (new_interest || !pending_subscribes_.empty()))) {
    // Answer once every shard routes the new filters here, and every group's owner has the
    // new member (and keep SUBACKs in order).
    std::uint32_t b = new_interest ? mesh_.issue_barrier() : mesh_.last_barrier();
    pending_subscribes_.push_back(
        PendingSubscribe{b, req, nullptr, static_cast<std::uint32_t>(joins.size())});
    for (SharedJoin* j : joins) {
      j->request = req;
      mesh_.send(shared_.at(j->index).owner,
                 ShardEnvelope{ShardEnvelope::Kind::shared_join, 0, ctx_.self(), 0, j});
    }
    barriers_answered(mesh_.barriers_done());
    return;
  }
  finish_subscribe(req);
}

void SessionStore::barriers_answered(std::uint32_t done) {
  while (!pending_joins_.empty() && pending_joins_.front().barrier <= done) {
    PendingJoin j = pending_joins_.front();
    pending_joins_.pop_front();
    mesh_.send(j.home,
               ShardEnvelope{ShardEnvelope::Kind::shared_joined, 0, ctx_.self(), 0, j.request});
  }
  while (!pending_subscribes_.empty() && pending_subscribes_.front().barrier <= done &&
         pending_subscribes_.front().joins_waiting == 0) {
    PendingSubscribe p = pending_subscribes_.front();
    pending_subscribes_.pop_front();
    if (p.unsubscribe)
      finish_unsubscribe(p.unsubscribe);
    else
      finish_subscribe(p.request);
  }
}

void SessionStore::finish_subscribe(SubscribeRequest* req) {
  Session* s = req->session;
  if (!s || !s->online || !(s->connection == req->connection)) {
    delete req;
    return;
  }
  auto* ack = new core::Packet(core::SubAck{});
  auto& suback = std::get<core::SubAck>(*ack);
  suback.packet_id = req->packet_id;
  for (const auto& item : req->items)
    suback.reason_codes.push_back(static_cast<ReasonCode>(item.granted));
  reply(req->connection, ShardEnvelope{ShardEnvelope::Kind::packet, 0, ctx_.self(), 0, ack,
                                       req->connection.serial, 0});
  for (const auto& item : req->items) {
    // A new shared subscription is sent no retained messages (MQTT 5 §4.8.2).
    if (item.granted > 2 || item.filter.starts_with("$share/")) continue;
    bool send =
        item.retain_handling == core::RetainHandling::SendOnSubscribe ||
        (item.retain_handling == core::RetainHandling::SendIfNewSubscription && !item.existed);
    if (send)
      s->retained_streams.push_back(
          RetainedStream{retained_.start(item.filter), item.options, item.filter});
  }
  delete req;
  pump_retained(*s);
}

void SessionStore::unsubscribe(UnsubscribeRequest* req) {
  if (!pending_subscribes_.empty()) {
    pending_subscribes_.push_back(PendingSubscribe{mesh_.last_barrier(), nullptr, req});
    return;
  }
  finish_unsubscribe(req);
}

void SessionStore::finish_unsubscribe(UnsubscribeRequest* req) {
  Session* s = req->session;
  if (!s || !s->online || !(s->connection == req->connection)) {
    delete req;
    return;
  }
  auto* ack = new core::Packet(core::UnsubAck{});
  auto& unsuback = std::get<core::UnsubAck>(*ack);
  unsuback.packet_id = req->packet_id;
  for (const std::string& f : req->filters) {
    bool had = remove_subscription(*s, f);
    // Retained messages still streaming for it would arrive after the UNSUBACK: stop them.
    if (!s->retained_streams.empty()) {
      LazyDeque<RetainedStream> keep;
      for (RetainedStream& st : s->retained_streams)
        if (st.filter != f) keep.push_back(std::move(st));
      s->retained_streams = std::move(keep);
    }
    if (s->version == ProtocolVersion::v5)
      unsuback.reason_codes.push_back(had ? ReasonCode::Success
                                          : ReasonCode::NoSubscriptionExisted);
  }
  reply(req->connection, ShardEnvelope{ShardEnvelope::Kind::packet, 0, ctx_.self(), 0, ack,
                                       req->connection.serial, 0});
  delete req;
}

}  // namespace shardmq::broker
