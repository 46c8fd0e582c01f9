#include "broker/mesh/mesh_link.hpp"

#include <algorithm>
#include <bit>

#include "broker/connection/connection.hpp"
#include "broker/connection/connection_table.hpp"

namespace shardmq::broker {

MeshLink::MeshLink(ShardContext& ctx, ShardMesh& mesh, ConnectionTable& connections)
    : ctx_(ctx),
      mesh_(mesh),
      connections_(connections),
      backlog_(mesh.shards()),
      barrier_acked_(mesh.shards(), 0) {}

MeshLink::~MeshLink() {
  // Every shard thread has joined: drop what other shards sent us and what we kept.
  for (unsigned from = 0; from < mesh_.shards(); ++from) {
    if (from == ctx_.id) continue;
    ShardEnvelope e;
    while (mesh_.ring(from, ctx_.id).try_pop(e))
      release_envelope(e);
  }
  for (auto& q : backlog_)
    for (auto& e : q)
      release_envelope(e);
}

void MeshLink::push(unsigned to, const ShardEnvelope& e, Connection* publisher) {
  notify_mask_ |= std::uint64_t(1) << to;
  if (backlog_[to].empty() && mesh_.ring(ctx_.id, to).try_push(e)) return;
  // The ring is full: keep the envelope (order preserved) and stop reading from the
  // publisher until the other shard catches up.
  backlog_[to].push_back(e);
  mesh_.set_blocked(ctx_.id, to);
  if (publisher && !publisher->ring_paused && publisher->state != Connection::State::closing) {
    publisher->ring_paused = true;
    connections_.update_receive_pause(*publisher);
    paused_publishers_.emplace_back(publisher, publisher->serial);
  }
}

void MeshLink::flush() {
  bool any_left = false;
  for (unsigned to = 0; to < mesh_.shards(); ++to) {
    auto& q = backlog_[to];
    if (q.empty()) continue;
    notify_mask_ |= std::uint64_t(1) << to;
    while (!q.empty() && mesh_.ring(ctx_.id, to).try_push(q.front()))
      q.pop_front();
    if (!q.empty()) {
      mesh_.set_blocked(ctx_.id, to);
      // Room may have appeared between the failed push and the flag: try once more.
      while (!q.empty() && mesh_.ring(ctx_.id, to).try_push(q.front()))
        q.pop_front();
      any_left |= !q.empty();
    }
  }
  std::uint64_t mask = notify_mask_;
  notify_mask_ = 0;
  while (mask) {
    unsigned to = static_cast<unsigned>(std::countr_zero(mask));
    mask &= mask - 1;
    mesh_.notify(to);
  }
  if (any_left || paused_publishers_.empty()) return;
  auto paused = std::move(paused_publishers_);
  paused_publishers_.clear();
  for (auto& [c, serial] : paused) {
    // A publisher that closed meanwhile was removed from the list by forget().
    if (c->serial == serial && c->ring_paused) {
      c->ring_paused = false;
      connections_.update_receive_pause(*c);
    }
  }
}

void MeshLink::forget(Connection* c) {
  std::erase_if(paused_publishers_, [c](const auto& p) { return p.first == c; });
}

std::uint32_t MeshLink::issue_barrier() {
  ++barrier_issued_;
  broadcast([&] {
    return ShardEnvelope{ShardEnvelope::Kind::barrier, 0, ctx_.self(), barrier_issued_};
  });
  return barrier_issued_;
}

std::uint32_t MeshLink::barriers_done() const {
  std::uint32_t done = barrier_issued_;
  for (unsigned p = 0; p < mesh_.shards(); ++p)
    if (p != ctx_.id && barrier_acked_[p] < done) done = barrier_acked_[p];
  return done;
}

}  // namespace shardmq::broker
