#include "broker/mesh/shard_mesh.hpp"

#include <algorithm>

namespace shardmq::broker {

ShardMesh::ShardMesh(unsigned shards, std::size_t ring_capacity)
    : n_(shards), slots_(new Slot[shards]), blocked_(new std::atomic<bool>[shards * shards]) {
  for (unsigned i = 0; i < shards * shards; ++i)
    blocked_[i].store(false);
  rings_.reserve(static_cast<std::size_t>(shards) * shards);
  for (unsigned from = 0; from < shards; ++from)
    for (unsigned to = 0; to < shards; ++to)
      rings_.push_back(from == to ? nullptr
                                  : std::make_unique<io::SpscRing<ShardEnvelope>>(ring_capacity));
}

std::size_t ShardMesh::ring_capacity_for(unsigned shards) {
  const std::size_t squared = std::size_t(shards) * shards;
  return std::clamp<std::size_t>(squared ? 65536 / squared : 4096, 256, 4096);
}

bool ShardMesh::inbound_empty(unsigned shard) {
  for (unsigned from = 0; from < n_; ++from)
    if (from != shard && !ring(from, shard).empty()) return false;
  return true;
}

}  // namespace shardmq::broker
