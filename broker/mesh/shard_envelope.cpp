#include "broker/mesh/shard_envelope.hpp"

#include "broker/message/published_message.hpp"

namespace shardmq::broker {

DetachNotice::~DetachNotice() {
  if (will) will->release();
}

void release_envelope(const ShardEnvelope& e) {
  using K = ShardEnvelope::Kind;
  switch (e.kind) {
    case K::publish:
    case K::retain_set:
    case K::deliver:
    case K::shared_deliver:
    case K::shared_bounce:
      static_cast<PublishedMessage*>(e.ptr)->release();
      break;
    case K::interest_add:
    case K::interest_remove:
      delete static_cast<std::string*>(e.ptr);
      break;
    case K::attach:
      delete static_cast<AttachRequest*>(e.ptr);
      break;
    case K::detach:
      delete static_cast<DetachNotice*>(e.ptr);
      break;
    case K::subscribe:
      delete static_cast<SubscribeRequest*>(e.ptr);
      break;
    case K::unsubscribe:
      delete static_cast<UnsubscribeRequest*>(e.ptr);
      break;
    case K::attached:
      delete static_cast<AttachReply*>(e.ptr);
      break;
    case K::packet:
      delete static_cast<core::Packet*>(e.ptr);
      break;
    case K::shared_join:
      delete static_cast<SharedJoin*>(e.ptr);
      break;
    case K::shared_leave: {
      auto* leave = static_cast<SharedLeave*>(e.ptr);
      for (PublishedMessage* m : leave->messages)
        m->release();
      delete leave;
      break;
    }
    case K::shared_joined:
    case K::shared_state:
    case K::barrier:
    case K::barrier_ack:
    case K::peer_durable:
    case K::peer_ticket:
    case K::client_ack:
    case K::inbound_qos2:
    case K::release:
    case K::kick:
    case K::hold_publisher:
      break;
  }
}

}  // namespace shardmq::broker
