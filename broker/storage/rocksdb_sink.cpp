#include "broker/storage/rocksdb_sink.hpp"

#include <algorithm>

#include "broker/storage/storage_keys.hpp"
#include "broker/storage/storage_records.hpp"
#include "core/mqtt_types.hpp"

namespace shardmq::broker {

namespace keys = storage_keys;
namespace records = storage_records;

RocksdbSink::RocksdbSink(StorageService& service, unsigned shard, std::function<void()> wake)
    : service_(service),
      shard_(shard),
      acks_wait_(service.durability() == Config::Durability::sync),
      next_message_id_(service.first_message_id() + shard) {
  service_.attach(shard_, std::move(wake));
}

RocksdbSink::~RocksdbSink() {
  service_.detach(shard_);
  if (batch_.Count()) service_.submit(shard_, std::move(batch_), told_);
  for (auto& [m, stored] : messages_)
    const_cast<PublishedMessage*>(m)->release();
}

RocksdbSink::Client* RocksdbSink::find(std::string_view client_id) {
  if (clients_.empty()) return nullptr;
  auto it = clients_.find(std::string(client_id));
  return it == clients_.end() ? nullptr : &it->second;
}

void RocksdbSink::session_opened(std::string_view client_id,
                                 std::optional<std::string_view> username, std::uint32_t expiry_s) {
  ++told_;
  if (expiry_s == 0) {  // not kept past the connection: nothing of it on disk
    forget(client_id);
    return;
  }
  clients_.try_emplace(std::string(client_id));
  records::SessionRecord r;
  r.expiry_s = expiry_s;
  if (username) r.username = std::string(*username);
  batch_.Put(keys::session(client_id), records::encode_session(r));
}

void RocksdbSink::session_ended(std::string_view client_id) {
  ++told_;
  forget(client_id);
}

void RocksdbSink::forget(std::string_view client_id) {
  auto it = clients_.find(std::string(client_id));
  if (it == clients_.end()) return;
  for (const Entry& e : it->second.queued)
    let_go(e.message);
  for (const Entry& e : it->second.inflight)
    let_go(e.message);
  clients_.erase(it);
  const std::string q = keys::queued_prefix(client_id);
  const std::string u = keys::subscription_prefix(client_id);
  const std::string i = keys::inbound_prefix(client_id);
  batch_.DeleteRange(q, keys::prefix_end(q));
  batch_.DeleteRange(u, keys::prefix_end(u));
  batch_.DeleteRange(i, keys::prefix_end(i));
  batch_.Delete(keys::session(client_id));
  batch_.Delete(keys::will(client_id));
}

void RocksdbSink::subscription_added(std::string_view client_id, std::string_view filter,
                                     const SubscriptionOptions& options) {
  ++told_;
  if (!find(client_id)) return;
  batch_.Put(keys::subscription(client_id, filter), records::encode_options(options));
}

void RocksdbSink::subscription_removed(std::string_view client_id, std::string_view filter) {
  ++told_;
  if (!find(client_id)) return;
  batch_.Delete(keys::subscription(client_id, filter));
}

void RocksdbSink::message_added(std::string_view client_id, const PublishedMessage& m,
                                std::uint8_t qos, std::uint16_t packet_id, bool retain,
                                std::uint32_t subscription_id) {
  ++told_;
  Client* c = find(client_id);
  if (!c) return;
  Entry e;
  if (packet_id) {
    // Leaving the queue for the window keeps its key. Entries ahead of it in the queue
    // were dropped there (their Message Expiry passed): their keys go.
    auto q = std::find_if(c->queued.begin(), c->queued.end(),
                          [&](const Entry& x) { return x.message == &m; });
    if (q != c->queued.end()) {
      for (auto d = c->queued.begin(); d != q; ++d) {
        batch_.Delete(keys::queued(client_id, d->seq));
        let_go(d->message);
      }
      e = *q;
      c->queued.erase(c->queued.begin(), q + 1);
    } else {
      e = Entry{c->next_seq++, &m, hold(m), qos, 0, false, retain, subscription_id};
    }
    e.packet_id = packet_id;
    c->inflight.push_back(e);
  } else {
    e = Entry{c->next_seq++, &m, hold(m), qos, 0, false, retain, subscription_id};
    c->queued.push_back(e);
  }
  put_entry(client_id, e);
}

void RocksdbSink::message_released(std::string_view client_id, std::uint16_t packet_id) {
  ++told_;
  Client* c = find(client_id);
  if (!c) return;
  for (Entry& e : c->inflight)
    if (e.packet_id == packet_id) {
      e.released = true;
      put_entry(client_id, e);
      return;
    }
}

void RocksdbSink::message_done(std::string_view client_id, std::uint16_t packet_id) {
  ++told_;
  Client* c = find(client_id);
  if (!c) return;
  auto it = std::find_if(c->inflight.begin(), c->inflight.end(),
                         [&](const Entry& e) { return e.packet_id == packet_id; });
  if (it == c->inflight.end()) return;
  batch_.Delete(keys::queued(client_id, it->seq));
  let_go(it->message);
  c->inflight.erase(it);
}

void RocksdbSink::inbound_qos2_received(std::string_view client_id, std::uint16_t packet_id) {
  ++told_;
  if (!find(client_id)) return;
  batch_.Put(keys::inbound(client_id, packet_id), {});
}

void RocksdbSink::inbound_qos2_released(std::string_view client_id, std::uint16_t packet_id) {
  ++told_;
  if (!find(client_id)) return;
  batch_.Delete(keys::inbound(client_id, packet_id));
}

void RocksdbSink::will_changed(std::string_view client_id, const PublishedMessage* will) {
  ++told_;
  Client* c = find(client_id);
  if (!c || (!will && !c->will)) return;
  c->will = will != nullptr;
  if (will)
    batch_.Put(keys::will(client_id), records::encode_message(*will));
  else
    batch_.Delete(keys::will(client_id));
}

void RocksdbSink::retained_changed(const PublishedMessage& m) {
  ++told_;
  if (m.topic().starts_with("$SYS/")) return;  // the broker's own, published again at start
  if (m.payload().empty())
    batch_.Delete(keys::retained(m.topic()));
  else
    batch_.Put(keys::retained(m.topic()), records::encode_message(m));
}

void RocksdbSink::put_entry(std::string_view client_id, const Entry& e) {
  records::QueueEntry r{e.message_id, e.qos, e.packet_id, e.released, e.retain, e.subscription_id};
  batch_.Put(keys::queued(client_id, e.seq), records::encode_entry(r));
}

std::uint64_t RocksdbSink::hold(const PublishedMessage& m) {
  auto [it, added] = messages_.try_emplace(&m);
  if (added) {
    it->second.id = next_message_id_;
    next_message_id_ += service_.shards();
    const_cast<PublishedMessage&>(m).add_ref();  // the key stays valid while it is stored
    batch_.Put(keys::message(it->second.id), records::encode_message(m));
  }
  ++it->second.entries;
  return it->second.id;
}

void RocksdbSink::let_go(const PublishedMessage* m) {
  auto it = messages_.find(m);
  if (it == messages_.end()) return;
  if (--it->second.entries) return;
  batch_.Delete(keys::message(it->second.id));
  messages_.erase(it);
  const_cast<PublishedMessage*>(m)->release();
}

void RocksdbSink::adopt(const RestoredShard& restored) {
  for (const RestoredSession& s : restored.sessions) {
    Client& c = clients_[s.client_id];
    c.will = s.will != nullptr;
    for (const RestoredEntry& r : s.messages) {
      auto [it, added] = messages_.try_emplace(r.message, Stored{r.message_id, 0});
      if (added) r.message->add_ref();
      ++it->second.entries;
      Entry e{r.seq,       r.message,  r.message_id, r.qos,
              r.packet_id, r.released, r.retain,     r.subscription_id};
      if (r.packet_id)
        c.inflight.push_back(e);
      else
        c.queued.push_back(e);
      c.next_seq = std::max(c.next_seq, r.seq + 1);
    }
  }
}

void RocksdbSink::end_turn() {
  if (batch_.Count() || batch_.HasDeleteRange()) {
    service_.submit(shard_, std::move(batch_), told_);
    batch_ = rocksdb::WriteBatch();
    submitted_ = told_;
    return;
  }
  // Nothing to store since the last batch: those writes are durable once it is.
  if (submitted_ <= service_.durable_through(shard_)) settled_ = told_;
}

std::uint8_t RocksdbSink::failing() const {
  if (!acks_wait_) return 0;  // "batched": acknowledged already; the log says what failed
  switch (service_.failure()) {
    case StorageService::Failure::none:
      return 0;
    case StorageService::Failure::no_space:
      return static_cast<std::uint8_t>(core::ReasonCode::QuotaExceeded);
    case StorageService::Failure::io_error:
      break;
  }
  return static_cast<std::uint8_t>(core::ReasonCode::UnspecifiedError);
}

std::uint64_t RocksdbSink::durable_through() const {
  // "batched": acknowledged before the write, while the writer keeps up.
  if (!acks_wait_ && !service_.backlogged(shard_)) return told_;
  return std::max(settled_, service_.durable_through(shard_));
}

}  // namespace shardmq::broker
