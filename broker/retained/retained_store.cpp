#include "broker/retained/retained_store.hpp"

#include "broker/mesh/mesh_link.hpp"
#include "broker/message/local_publish.hpp"
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
  if (m->payload().empty()) {
    tree_.erase(m->topic());
    return;
  }
  const Config& config = ctx_.config;
  if (!existing && (tree_.size() >= config.max_retained_messages ||
                    tree_.total_bytes() + m->payload().size() > config.max_retained_bytes)) {
    ShardCounters::bump(ctx_.counters.retained_dropped);
    return;
  }
  tree_.set(m->topic(), RetainedMessage(m, order));
}

}  // namespace shardmq::broker
