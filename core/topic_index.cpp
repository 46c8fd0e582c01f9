// Out-of-line code of LevelTrie (the non-template part of TopicIndex and
// RetainedTree). It lives in this file because core/meson.build lists
// topic_index.cpp as the topic area's only source.
#include "core/level_trie.hpp"

#include <xxhash.h>

#include <chrono>
#include <cstdint>

namespace shardmq::core {

namespace {

constexpr std::size_t kInitialBuckets = 16;

// Per-instance seed so clients cannot precompute colliding level names for
// every broker (linear probing degrades badly under collisions).
std::uint64_t make_seed(const void* self) {
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  const std::uint64_t mix[2] = {static_cast<std::uint64_t>(now),
                                static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(self))};
  return XXH3_64bits(mix, sizeof mix);
}

}  // namespace

LevelTrie::LevelTrie() : seed_(make_seed(this)) {
  nodes_.emplace_back();  // root
  table_.resize(kInitialBuckets);
}

std::uint32_t LevelTrie::hash_of(NodeId parent, std::string_view level) const noexcept {
  const std::uint64_t h =
      XXH3_64bits_withSeed(level.data(), level.size(), seed_ ^ (parent * 0x9E3779B97F4A7C15ull));
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

LevelTrie::NodeId LevelTrie::find(NodeId parent, std::string_view level) const noexcept {
  const std::uint32_t h = hash_of(parent, level);
  const std::size_t mask = table_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const Bucket& b = table_[i];
    if (b.node == kNone) return kNone;
    if (b.hash == h) {
      const Node& n = nodes_[b.node];
      if (n.parent == parent && n.level == level) return b.node;
    }
  }
}

LevelTrie::NodeId LevelTrie::allocate(NodeId parent, std::string_view level) {
  NodeId id;
  if (free_ != kNone) {
    id = free_;
    free_ = nodes_[id].next_sibling;
    nodes_[id] = Node{};
  } else {
    id = static_cast<NodeId>(nodes_.size());
    nodes_.emplace_back();
  }
  Node& n = nodes_[id];
  n.level.assign(level);
  n.parent = parent;
  n.next_sibling = nodes_[parent].first_child;
  if (n.next_sibling != kNone) nodes_[n.next_sibling].prev_sibling = id;
  nodes_[parent].first_child = id;
  ++live_;
  return id;
}

LevelTrie::NodeId LevelTrie::find_or_add(NodeId parent, std::string_view level, Slot slot) {
  if (slot == Slot::kPlus) {
    if (nodes_[parent].plus == kNone) {
      const NodeId id = allocate(parent, "+");
      nodes_[parent].plus = id;
    }
    return nodes_[parent].plus;
  }
  if (slot == Slot::kHash) {
    if (nodes_[parent].hash == kNone) {
      const NodeId id = allocate(parent, "#");
      nodes_[parent].hash = id;
    }
    return nodes_[parent].hash;
  }
  if (const NodeId found = find(parent, level); found != kNone) return found;
  const NodeId id = allocate(parent, level);
  table_insert(hash_of(parent, level), id);
  return id;
}

void LevelTrie::table_insert(std::uint32_t h, NodeId node) {
  // Keep load under 3/4 so probe sequences stay short.
  if ((table_used_ + 1) * 4 > table_.size() * 3) grow();
  const std::size_t mask = table_.size() - 1;
  std::size_t i = h & mask;
  while (table_[i].node != kNone)
    i = (i + 1) & mask;
  table_[i] = Bucket{h, node};
  ++table_used_;
}

void LevelTrie::grow() {
  std::vector<Bucket> old(table_.size() * 2);
  old.swap(table_);
  const std::size_t mask = table_.size() - 1;
  for (const Bucket& b : old) {
    if (b.node == kNone) continue;
    std::size_t i = b.hash & mask;
    while (table_[i].node != kNone)
      i = (i + 1) & mask;
    table_[i] = b;
  }
}

void LevelTrie::table_erase(NodeId node) noexcept {
  const Node& n = nodes_[node];
  const std::uint32_t h = hash_of(n.parent, n.level);
  const std::size_t mask = table_.size() - 1;
  std::size_t i = h & mask;
  while (table_[i].node != node) {
    if (table_[i].node == kNone) return;  // not present: nothing to do
    i = (i + 1) & mask;
  }
  // Backward-shift deletion: pull later entries of the cluster into the hole
  // when the hole lies between their home bucket and where they sit.
  for (std::size_t j = (i + 1) & mask; table_[j].node != kNone; j = (j + 1) & mask) {
    const std::size_t home = table_[j].hash & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      table_[i] = table_[j];
      i = j;
    }
  }
  table_[i] = Bucket{};
  --table_used_;
}

void LevelTrie::remove_leaf(NodeId id) noexcept {
  if (id == kRoot || !alive(id) || has_children(id)) return;
  Node& n = nodes_[id];
  Node& p = nodes_[n.parent];
  if (p.plus == id) {
    p.plus = kNone;
  } else if (p.hash == id) {
    p.hash = kNone;
  } else {
    table_erase(id);
  }
  if (n.prev_sibling != kNone) {
    nodes_[n.prev_sibling].next_sibling = n.next_sibling;
  } else {
    p.first_child = n.next_sibling;
  }
  if (n.next_sibling != kNone) nodes_[n.next_sibling].prev_sibling = n.prev_sibling;
  n = Node{};  // releases a long level's heap buffer; parent = kNone marks it dead
  n.next_sibling = free_;
  free_ = id;
  --live_;
}

std::size_t LevelTrie::memory_bytes() const noexcept {
  std::size_t bytes = nodes_.capacity() * sizeof(Node) + table_.capacity() * sizeof(Bucket);
  for (const Node& n : nodes_) {
    if (n.level.capacity() > std::string().capacity()) bytes += n.level.capacity() + 1;
  }
  return bytes;
}

void LevelTrie::clear() {
  nodes_.clear();
  nodes_.emplace_back();
  table_.assign(kInitialBuckets, Bucket{});
  table_used_ = 0;
  live_ = 0;
  free_ = kNone;
}

}  // namespace shardmq::core
