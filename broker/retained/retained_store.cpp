#include "broker/retained/retained_store.hpp"

#include "broker/mesh/mesh_link.hpp"
#include "broker/message/local_publish.hpp"
#include "broker/message/message_expiry.hpp"
#include "broker/storage/storage_link.hpp"

namespace shardmq::broker {

RetainedStore::RetainedStore(ShardContext& ctx, MeshLink& mesh, StorageLink& storage)
    : ctx_(ctx), mesh_(mesh), storage_(storage) {}

void RetainedStore::retain(const LocalPublish& p) {
  PublishedMessage* m = p.shared();
  if (!m) return;
  ++lamport_;
  apply(m, (lamport_ << 16) | ctx_.id);
  storage_.retained_changed(*m);
  mesh_.broadcast([&] {
    m->add_ref();
    return ShardEnvelope{ShardEnvelope::Kind::retain_set,
                         0,
                         ctx_.self(),
                         static_cast<std::uint32_t>(lamport_),
                         m,
                         static_cast<std::uint32_t>(lamport_ >> 32),
                         0};
  });
}

void RetainedStore::apply_remote(PublishedMessage* m, std::uint64_t lamport, unsigned from) {
  if (lamport > lamport_) lamport_ = lamport;
  apply(m, (lamport << 16) | from);
}

void RetainedStore::apply(PublishedMessage* m, std::uint64_t order) {
  const RetainedMessage* existing = tree_.find(m->topic());
  if (existing && existing->order() > order) return;  // a later update already landed
  if (!existing) {
    // A clear leaves no entry to compare with: its tombstone says an older update that
    // arrives after it (from another shard's ring) is already superseded.
    auto t = cleared_.empty() ? cleared_.end() : cleared_.find(std::string(m->topic()));
    if (t != cleared_.end()) {
      if (t->second.order > order) return;
      cleared_.erase(t);
    }
  }
  if (m->payload().empty()) {
    if (existing) tree_.erase(m->topic());
    remember_clear(m->topic(), order);
    count();
    return;
  }
  const Config& config = ctx_.config;
  if (!existing &&
      (tree_.size() >= config.max_retained_messages ||
       tree_.total_bytes() + m->topic().size() + m->payload().size() > config.max_retained_bytes)) {
    ShardCounters::bump(ctx_.counters.retained_dropped);
    return;
  }
  tree_.set(m->topic(), RetainedMessage(m, order));
  count();
}

void RetainedStore::forget_if_expired(std::string_view topic, std::uint64_t now_ms) {
  const RetainedMessage* r = tree_.find(topic);
  if (!r || !message_expired(*r->message(), now_ms)) return;
  const std::uint64_t order = r->order();
  tree_.erase(topic);
  remember_clear(topic, order);  // an older update still on its way must not bring it back
  count();
}

void RetainedStore::count() {
  ShardCounters::set(ctx_.counters.retained_messages, tree_.size());
  ShardCounters::set(ctx_.counters.retained_bytes, tree_.total_bytes());
}

void RetainedStore::remember_clear(std::string_view topic, std::uint64_t order) {
  if (ctx_.shards == 1) return;  // no other replica sends updates
  // Updates from other shards arrive within ring latency, so a tombstone older than
  // kTombstoneTicks has done its job; they are pruned when there are many.
  if (cleared_.size() >= kMaxTombstones)
    std::erase_if(cleared_,
                  [&](const auto& kv) { return ctx_.tick - kv.second.tick > kTombstoneTicks; });
  if (cleared_.size() >= kMaxTombstones) cleared_.clear();  // a flood of clears: start again
  auto& t = cleared_[std::string(topic)];
  if (order >= t.order) t = Tombstone{order, ctx_.tick};
}

}  // namespace shardmq::broker
