// Retained messages matching a new subscription, sent a chunk at a time as the subscriber's
// window and output allow (a '#' subscription may match millions): a session without room
// waits in the streaming list and goes on when its output drains or at the end of a turn.
#include <algorithm>
#include <string>
#include <vector>

#include "broker/connection/connection_table.hpp"
#include "broker/mesh/mesh_link.hpp"
#include "broker/message/local_publish.hpp"
#include "broker/message/message_expiry.hpp"
#include "broker/retained/retained_store.hpp"
#include "broker/session/session_store.hpp"

namespace shardmq::broker {

// Whether the subscriber can take more retained messages now: its QoS 1/2 queue is not
// filling up, and its socket's output (when on this shard) is draining.
bool SessionStore::retained_room(Session& s) {
  if (!s.online || s.queue.size() >= config_.max_queued_messages / 2) return false;
  if (s.connection.shard == id_) {
    Connection* c = s.local_connection;
    return c && connections_.output_queued(*c) < config_.max_outbound_bytes / 2;
  }
  return retained_turn_budget_ > 0;
}

void SessionStore::pump_retained(Session& s) {
  constexpr std::size_t kChunk = 256;
  while (s.online && !s.retained_streams.empty()) {
    if (!retained_room(s)) {
      if (!s.in_stream_list) {
        s.in_stream_list = true;
        streaming_.push_back(&s);
      }
      return;
    }
    RetainedStream& st = s.retained_streams.front();
    std::size_t n = 0;
    std::vector<std::string> expired;  // dropped from the store once the walk has let go
    bool done = retained_.resume(st.cursor, [&](std::string_view topic, const RetainedMessage& r) {
      PublishedMessage* m = r.message();
      if (m->expires() && message_expired(*m, steady_now_ms())) {
        expired.emplace_back(topic);
        return true;
      }
      m->add_ref();
      LocalPublish p(m);
      p.publisher = {};  // whoever published it once is not waiting for this copy
      std::uint8_t qos = p.qos < st.options.max_qos ? p.qos : st.options.max_qos;
      deliver(s, p, qos, st.options.identifier, true);
      if (s.connection.shard != id_ && retained_turn_budget_ > 0) --retained_turn_budget_;
      return ++n < kChunk && retained_room(s);
    });
    for (const std::string& topic : expired)
      retained_.forget_if_expired(topic, steady_now_ms());
    if (done) s.retained_streams.pop_front();
  }
}

void SessionStore::resume_stream(Session& s) {
  std::erase(streaming_, &s);
  s.in_stream_list = false;
  pump_retained(s);
}

void SessionStore::on_turn_end() {
  if (streaming_.empty()) return;
  retained_turn_budget_ = 1024;
  auto waiting = std::move(streaming_);
  streaming_.clear();
  for (Session* s : waiting)
    s->in_stream_list = false;
  for (Session* s : waiting)
    pump_retained(*s);
  // Sessions still waiting on another shard's socket need another turn soon.
  for (Session* s : streaming_)
    if (s->connection.shard != id_) {
      mesh_.wake_self();
      break;
    }
}

}  // namespace shardmq::broker
