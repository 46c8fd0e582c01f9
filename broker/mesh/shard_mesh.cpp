#include "broker/mesh/shard_mesh.hpp"

namespace shardmq::broker {

ShardMesh::ShardMesh(unsigned shards, std::size_t ring_capacity)
    : n_(shards), slots_(new Slot[shards]), blocked_(new std::atomic<bool>[shards * shards]) {
  for (unsigned i = 0; i < shards * shards; ++i)
    blocked_[i].store(false);
  rings_.reserve(static_cast<std::size_t>(shards) * shards);
  for (unsigned i = 0; i < shards * shards; ++i)
    rings_.push_back(std::make_unique<io::SpscRing<ShardEnvelope>>(ring_capacity));
}

bool ShardMesh::inbound_empty(unsigned shard) {
  for (unsigned from = 0; from < n_; ++from)
    if (from != shard && !ring(from, shard).empty()) return false;
  return true;
}

}  // namespace shardmq::broker
