// Out-of-line code of LevelTrie (the non-template part of TopicIndex,
// ShardInterest and RetainedTree). It lives in this file because
// core/meson.build lists topic_index.cpp as the topic area's only source.
// XXH3 inlined here: matching hashes every topic level, and a call into the shared library
// per level cost more than the short-input hash itself.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <chrono>
#include <cstdint>

#include "core/level_trie.hpp"

namespace shardmq::core {

namespace {

constexpr std::size_t kInitialBuckets = 16;
// Freed arena text is reclaimed by compaction once it is at least this large
// and at least half the arena, so compaction cost stays amortised O(1).
constexpr std::size_t kCompactAbove = 64 * 1024;

// Per-instance seed so clients cannot precompute colliding level names for
// every broker (linear probing degrades badly under collisions).
std::uint64_t make_seed(const void* self) {
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  const std::uint64_t mix[2] = {static_cast<std::uint64_t>(now),
                                static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(self))};
  return XXH3_64bits(mix, sizeof mix);
}

}  // namespace

LevelTrie::LevelTrie(Children children) : seed_(make_seed(this)), children_(children) {
  clear();
}

std::uint32_t LevelTrie::hash_of(NodeId parent, std::string_view level) const noexcept {
  const std::uint64_t h =
      XXH3_64bits_withSeed(level.data(), level.size(), seed_ ^ (parent * 0x9E3779B97F4A7C15ull));
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

// Wildcard children are keyed by (parent, slot) alone: an integer mix suffices.
std::uint32_t LevelTrie::wild_hash(NodeId parent, Slot slot) const noexcept {
  std::uint64_t x =
      ((static_cast<std::uint64_t>(parent) << 2) | static_cast<std::uint64_t>(slot)) ^ seed_;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return static_cast<std::uint32_t>(x);
}

std::uint32_t LevelTrie::hash_of(NodeId node) const noexcept {
  const Node& n = nodes_[node];
  const Slot slot = slot_of(n);
  return slot == Slot::kLiteral ? hash_of(n.parent, level(node)) : wild_hash(n.parent, slot);
}

LevelTrie::NodeId LevelTrie::find_wild(NodeId parent, Slot slot) const noexcept {
  const std::uint32_t h = wild_hash(parent, slot);
  const std::size_t mask = table_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const Bucket& b = table_[i];
    if (b.node == kNone) return kNone;
    if (b.hash != h) continue;
    const Node& n = nodes_[b.node];
    if (n.parent == parent && slot_of(n) == slot) return b.node;
  }
}

LevelTrie::NodeId LevelTrie::find_filter(std::string_view filter) const noexcept {
  NodeId node = kRoot;
  LevelReader levels(filter);
  std::string_view level;
  while (node != kNone && levels.next(level))
    node = find(node, level, slot_for(level, levels.done()));
  return node;
}

LevelTrie::NodeId LevelTrie::add_filter(std::string_view filter) {
  NodeId node = kRoot;
  LevelReader levels(filter);
  std::string_view level;
  while (levels.next(level))
    node = find_or_add(node, level, slot_for(level, levels.done()));
  return node;
}

void LevelTrie::store_text(Node& n, std::string_view level) {
  n.meta = static_cast<std::uint32_t>(level.size() << 2) | (n.meta & 3);
  if (level.size() <= kInlineText) {
    if (!level.empty()) std::memcpy(n.text, level.data(), level.size());
    return;
  }
  const auto off = static_cast<std::uint32_t>(arena_.size());
  arena_.insert(arena_.end(), level.begin(), level.end());
  std::memcpy(n.text, &off, sizeof off);
}

void LevelTrie::compact_arena() {
  std::vector<char> fresh;
  fresh.reserve(arena_.size() - arena_garbage_);
  for (Node& n : nodes_) {
    const std::size_t len = n.meta >> 2;
    if (n.parent == kNone || len <= kInlineText) continue;
    const char* old = arena_.data() + arena_offset(n);
    const auto off = static_cast<std::uint32_t>(fresh.size());
    fresh.insert(fresh.end(), old, old + len);
    std::memcpy(n.text, &off, sizeof off);
  }
  arena_.swap(fresh);
  arena_garbage_ = 0;
}

LevelTrie::NodeId LevelTrie::allocate(NodeId parent, std::string_view level, Slot slot) {
  if (level.size() > kInlineText && arena_garbage_ >= kCompactAbove &&
      arena_garbage_ * 2 >= arena_.size()) {
    compact_arena();
  }
  NodeId id;
  if (free_ != kNone) {
    id = free_;
    free_ = nodes_[id].kids;
    nodes_[id] = Node{};
  } else {
    id = static_cast<NodeId>(nodes_.size());
    nodes_.emplace_back();
    if (listed()) links_.emplace_back();
  }
  Node& n = nodes_[id];
  n.parent = parent;
  n.meta = static_cast<std::uint32_t>(slot);
  store_text(n, level);
  Node& p = nodes_[parent];
  ++p.kids;
  if (slot == Slot::kPlus) p.kids |= kHasPlus;
  if (slot == Slot::kHash) p.kids |= kHasHash;
  if (listed()) {
    Links& l = links_[id];
    l = Links{};
    l.next = links_[parent].first;
    if (l.next != kNone) links_[l.next].prev = id;
    links_[parent].first = id;
  }
  ++live_;
  return id;
}

LevelTrie::NodeId LevelTrie::find_or_add(NodeId parent, std::string_view level, Slot slot) {
  if (slot == Slot::kLiteral) {
    if (const NodeId found = find(parent, level); found != kNone) return found;
    const NodeId id = allocate(parent, level, slot);
    table_insert(hash_of(parent, level), id);
    return id;
  }
  if (const NodeId found = find_wild(parent, slot); found != kNone) return found;
  const NodeId id = allocate(parent, slot == Slot::kPlus ? "+" : "#", slot);
  table_insert(wild_hash(parent, slot), id);
  if (parent == kRoot) root_wild_[slot == Slot::kPlus ? 0 : 1] = id;
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
  const std::uint32_t h = hash_of(node);
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
  table_erase(id);
  Node& n = nodes_[id];
  Node& p = nodes_[n.parent];
  --p.kids;
  if (slot_of(n) == Slot::kPlus) p.kids &= ~kHasPlus;
  if (slot_of(n) == Slot::kHash) p.kids &= ~kHasHash;
  if (n.parent == kRoot && slot_of(n) != Slot::kLiteral) {
    root_wild_[slot_of(n) == Slot::kPlus ? 0 : 1] = kNone;
  }
  if (listed()) {
    const Links l = links_[id];
    if (l.prev != kNone) {
      links_[l.prev].next = l.next;
    } else {
      links_[n.parent].first = l.next;
    }
    if (l.next != kNone) links_[l.next].prev = l.prev;
    links_[id] = Links{};
  }
  if ((n.meta >> 2) > kInlineText) arena_garbage_ += n.meta >> 2;
  n = Node{};  // parent = kNone marks it free
  n.kids = free_;
  free_ = id;
  --live_;
}

std::size_t LevelTrie::memory_bytes() const noexcept {
  return nodes_.capacity() * sizeof(Node) + links_.capacity() * sizeof(Links) +
         table_.capacity() * sizeof(Bucket) + arena_.capacity();
}

void LevelTrie::clear() {
  nodes_.assign(1, Node{});  // root
  links_.assign(listed() ? 1 : 0, Links{});
  table_.assign(kInitialBuckets, Bucket{});
  arena_.clear();
  arena_garbage_ = 0;
  table_used_ = 0;
  live_ = 0;
  free_ = kNone;
  root_wild_[0] = root_wild_[1] = kNone;
}

}  // namespace shardmq::core
