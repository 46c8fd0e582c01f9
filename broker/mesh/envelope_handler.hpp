// Who takes the envelopes addressed to a shard. The shard implements it and hands each
// kind to the part that owns it (shard/envelope_dispatch.cpp). MeshLink calls it for an
// envelope a part sends to its own shard, at once and without a ring, so a part never calls
// a part above it: it sends a message, as it would to another shard.
#pragma once

#include "broker/mesh/shard_envelope.hpp"

namespace shardmq::broker {

class EnvelopeHandler {
 public:
  virtual ~EnvelopeHandler() = default;
  virtual void on_envelope(const ShardEnvelope& e) = 0;
};

}  // namespace shardmq::broker
