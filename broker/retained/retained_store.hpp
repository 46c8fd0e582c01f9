// This shard's replica of the retained messages. Every shard holds all of them, so a
// SUBSCRIBE is answered from local memory; a retained PUBLISH updates the publisher's shard
// first and reaches the others through the rings, ordered by Lamport timestamps (ties broken
// by shard number) so every replica keeps the same last writer.
//
// Owns: the retained tree and the Lamport clock. Calls: MeshLink (replication),
// StorageLink. Called by: the router (a retained publish), the envelope dispatch (another
// shard's update), the session store (streams for new subscriptions), $SYS (the count).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/retained/retained_message.hpp"
#include "broker/shard/shard_context.hpp"
#include "core/retained_tree.hpp"

namespace shardmq::broker {

class MeshLink;
class StorageLink;
struct LocalPublish;

class RetainedStore {
 public:
  using Tree = core::RetainedTree<RetainedMessage>;

  RetainedStore(ShardContext& ctx, MeshLink& mesh, StorageLink& storage);

  // A retained PUBLISH from this shard: kept here and sent to every other replica.
  void retain(const LocalPublish& p);
  // Another shard's update, at its Lamport time (`lamport`) from shard `from`.
  void apply_remote(PublishedMessage* m, std::uint64_t lamport, unsigned from);

  // Start-up: a message read back from the store (the tree takes its own reference);
  // older than any update made since.
  void restore(PublishedMessage* m) { apply(m, 0); }

  // Walking the messages that match a filter, a chunk at a time (RetainedTree::resume).
  Tree::Cursor start(std::string_view filter) { return tree_.start(filter); }
  template <typename F>
  bool resume(Tree::Cursor& cursor, F&& f) {
    return tree_.resume(cursor, f);
  }
  std::size_t size() const { return tree_.size(); }
  // Drops the topic's message if its Message Expiry has passed (each replica does so on its
  // own when it meets one: the deadline is the same everywhere).
  void forget_if_expired(std::string_view topic, std::uint64_t now_ms);

 private:
  void apply(PublishedMessage* m, std::uint64_t order);
  void remember_clear(std::string_view topic, std::uint64_t order);
  void count();  // the replica's size into the shard's gauges

  static constexpr std::size_t kMaxTombstones = 65536;
  static constexpr std::uint64_t kTombstoneTicks = 600;  // 60 s
  struct Tombstone {
    std::uint64_t order = 0;
    std::uint64_t tick = 0;
  };

  ShardContext& ctx_;
  MeshLink& mesh_;
  StorageLink& storage_;
  Tree tree_;
  // Topics cleared lately, and when (only with more than one shard: a clear must not be
  // undone by an older update still on its way from another shard).
  std::unordered_map<std::string, Tombstone> cleared_;
  std::uint64_t lamport_ = 0;
};

}  // namespace shardmq::broker
