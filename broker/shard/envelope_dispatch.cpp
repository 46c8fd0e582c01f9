// Which part takes each kind of envelope, from another shard's ring or from a part of this
// shard that addressed its own shard (MeshLink::send). The parts never call each other this
// way round: the session store answers a connection with an envelope, and this is where it
// reaches the protocol.
#include "broker/connection/client_protocol.hpp"
#include "broker/connection/connection_table.hpp"
#include "broker/mesh/mesh_link.hpp"
#include "broker/retained/retained_store.hpp"
#include "broker/routing/router.hpp"
#include "broker/routing/subscription_index.hpp"
#include "broker/session/session_store.hpp"
#include "broker/shard/shard.hpp"
#include "broker/storage/storage_link.hpp"

namespace shardmq::broker {

void Shard::on_envelope(const ShardEnvelope& e) {
  using K = ShardEnvelope::Kind;
  switch (e.kind) {
    // Routing.
    case K::publish: {
      const std::uint64_t own_before = storage_->peers().last_ticket();
      router_->route_arrived(static_cast<PublishedMessage*>(e.ptr), e.from, e.seq);
      // What that wrote here, and on the shards it handed the publish to (a shared
      // subscription's member), must be on disk before its publisher is acknowledged.
      const std::uint64_t own = storage_->peers().last_ticket();
      return storage_->peers().arrived(e.from, e.ticket(), storage_->write_mark(),
                                       own != own_before ? own : 0);
    }
    case K::peer_ticket:
      return storage_->peers().arrived(e.from, e.ticket(), storage_->write_mark());
    case K::peer_durable:
      return storage_->peers().confirmed(e.from, e.ticket());
    case K::retain_set: {
      auto* m = static_cast<PublishedMessage*>(e.ptr);
      retained_->apply_remote(m, (std::uint64_t(e.target) << 32) | e.seq, e.from);
      m->release();
      return;
    }
    case K::interest_add:
    case K::interest_remove: {
      auto* f = static_cast<std::string*>(e.ptr);
      index_->remote_interest(e.kind == K::interest_add, *f, e.from);
      delete f;
      return;
    }
    case K::barrier:
      return link_->send(e.from, ShardEnvelope{K::barrier_ack, 0, ctx_.self(), e.seq});
    case K::barrier_ack:
      link_->barrier_answered(e.from, e.seq);
      return sessions_->barriers_answered(link_->barriers_done());
    // Shared subscriptions: member's home <-> group's owner.
    case K::shared_join:
      return sessions_->shared_join(static_cast<SharedJoin*>(e.ptr), e.from);
    case K::shared_joined:
      return sessions_->shared_joined(static_cast<SubscribeRequest*>(e.ptr));
    case K::shared_state:
      return index_->shared_state(e.from, e.target, e.flags != 0);
    case K::shared_leave:
      return router_->shared_leave(static_cast<SharedLeave*>(e.ptr), e.from);
    case K::shared_deliver:
      return sessions_->shared_deliver(e);
    case K::shared_bounce:
      return router_->shared_bounce(static_cast<PublishedMessage*>(e.ptr), e.seq);
    // Connection shard -> session home shard.
    case K::attach:
      return sessions_->attach(static_cast<AttachRequest*>(e.ptr));
    case K::detach:
      return sessions_->detach(static_cast<DetachNotice*>(e.ptr));
    case K::subscribe:
      return sessions_->subscribe(static_cast<SubscribeRequest*>(e.ptr));
    case K::unsubscribe:
      return sessions_->unsubscribe(static_cast<UnsubscribeRequest*>(e.ptr));
    case K::client_ack:
      return sessions_->client_ack(static_cast<Session*>(e.ptr), ConnectionRef{e.from, e.target},
                                   static_cast<core::PacketType>(e.flags),
                                   static_cast<std::uint16_t>(e.aux));
    case K::inbound_qos2:
      sessions_->inbound_qos2(static_cast<Session*>(e.ptr), e.from,
                              static_cast<std::uint16_t>(e.seq), e.flags != 0);
      return storage_->peers().arrived(e.from, e.ticket(), storage_->write_mark());
    // Session home shard -> connection shard.
    case K::attached: {
      auto* reply = static_cast<AttachReply*>(e.ptr);
      protocol_->on_attached(*reply, e.from);
      delete reply;
      return;
    }
    case K::deliver:
      return protocol_->on_delivery(e);
    case K::release:
      return protocol_->on_release(e.target, static_cast<std::uint16_t>(e.aux));
    case K::packet: {
      auto* p = static_cast<core::Packet*>(e.ptr);
      protocol_->on_session_packet(e.target, *p);
      delete p;
      return;
    }
    case K::kick:
      return protocol_->on_kick(e.target);
    case K::hold_publisher:
      return connections_->hold_publisher(e.target, e.flags != 0);
  }
}

}  // namespace shardmq::broker
