// TopicIndex<Key, Value>: subscriptions (filter, subscriber key) -> value, and
// the publish-time question "which subscriptions match this topic name?".
// Matching walks the topic's levels through a trie (literal child by hash,
// plus the `+` and `#` slots), so its cost grows with the number of levels and
// matches, not with the number of subscriptions; it never allocates unless a
// topic has more than kInlineDepth levels that all have matching branches.
//
// MQTT rules applied: `+` matches exactly one level (empty included), `#` (last
// level) matches zero or more levels so `a/#` matches `a`, and a topic whose
// first level starts with '$' is not matched by a filter whose first level is
// `+` or `#`. Filters are assumed validated by the codec; odd ones are stored
// without harm (a non-final `#` is a literal level that no valid topic matches).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/level_trie.hpp"

namespace shardmq::core {

template <typename Key, typename Value>
class TopicIndex {
 public:
  // Adds (filter, key) -> value; true if it was new, false if an existing
  // value was replaced.
  bool insert(std::string_view filter, const Key& key, Value value);
  // Removes (filter, key); prunes nodes left empty. False if it was absent.
  bool erase(std::string_view filter, const Key& key);
  // Value stored for (filter, key), or nullptr. Invalidated by insert/erase.
  const Value* find(std::string_view filter, const Key& key) const;
  Value* find(std::string_view filter, const Key& key);

  // Calls fn(const Key&, const Value&) once per subscription whose filter
  // matches `topic` (a key subscribed through two matching filters is called
  // twice: the caller merges). fn must not modify this index.
  template <typename Fn>
  void match(std::string_view topic, Fn&& fn) const;

  std::size_t size() const noexcept { return size_; }             // (filter, key) pairs
  std::size_t filter_count() const noexcept { return filters_; }  // distinct filters
  bool empty() const noexcept { return size_ == 0; }
  std::size_t node_count() const noexcept { return trie_.node_count(); }
  // Approximate heap bytes (trie, subscriber lists; not what Key/Value own).
  std::size_t memory_bytes() const noexcept;
  void clear();

  // Traversal frames kept on the stack before spilling to the heap.
  static constexpr std::size_t kInlineDepth = 64;

 private:
  using NodeId = LevelTrie::NodeId;
  struct Entry {
    Key key;
    Value value;
  };
  // Linear scan while small; a key -> position map once a filter is popular,
  // so unsubscribe storms on e.g. "$SYS/#" stay O(1) each.
  struct Subscribers {
    std::vector<Entry> list;
    std::unique_ptr<std::unordered_map<Key, std::uint32_t>> pos;
  };
  static constexpr std::size_t kMapAbove = 16;

  NodeId locate(std::string_view filter) const noexcept;
  static std::size_t position(const Subscribers& s, const Key& key) noexcept;
  template <typename Fn>
  static void deliver(const Subscribers& s, Fn& fn) {
    for (const Entry& e : s.list)
      fn(e.key, e.value);
  }
  void prune(NodeId n) noexcept;

  LevelTrie trie_;
  std::vector<Subscribers> subs_ = std::vector<Subscribers>(1);  // by node id
  std::size_t size_ = 0;
  std::size_t filters_ = 0;
};

// ---------------------------------------------------------------------------

template <typename Key, typename Value>
bool TopicIndex<Key, Value>::insert(std::string_view filter, const Key& key, Value value) {
  NodeId node = LevelTrie::kRoot;
  LevelReader levels(filter);
  std::string_view level;
  while (levels.next(level)) {
    node = trie_.find_or_add(node, level, LevelTrie::slot_for(level, levels.done()));
  }
  if (subs_.size() < trie_.id_limit()) subs_.resize(trie_.id_limit());
  Subscribers& s = subs_[node];
  if (const std::size_t at = position(s, key); at != s.list.size()) {
    s.list[at].value = std::move(value);
    return false;
  }
  if (s.list.empty()) ++filters_;
  s.list.push_back(Entry{key, std::move(value)});
  if (s.pos) {
    s.pos->emplace(key, static_cast<std::uint32_t>(s.list.size() - 1));
  } else if (s.list.size() > kMapAbove) {
    s.pos = std::make_unique<std::unordered_map<Key, std::uint32_t>>();
    for (std::size_t i = 0; i < s.list.size(); ++i) {
      s.pos->emplace(s.list[i].key, static_cast<std::uint32_t>(i));
    }
  }
  ++size_;
  return true;
}

template <typename Key, typename Value>
bool TopicIndex<Key, Value>::erase(std::string_view filter, const Key& key) {
  const NodeId node = locate(filter);
  if (node == LevelTrie::kNone) return false;
  Subscribers& s = subs_[node];
  const std::size_t at = position(s, key);
  if (at == s.list.size()) return false;
  if (s.pos) s.pos->erase(key);
  if (at + 1 != s.list.size()) {
    s.list[at] = std::move(s.list.back());
    if (s.pos) (*s.pos)[s.list[at].key] = static_cast<std::uint32_t>(at);
  }
  s.list.pop_back();
  --size_;
  if (s.list.empty()) {
    --filters_;
    prune(node);
  }
  return true;
}

template <typename Key, typename Value>
const Value* TopicIndex<Key, Value>::find(std::string_view filter, const Key& key) const {
  const NodeId node = locate(filter);
  if (node == LevelTrie::kNone) return nullptr;
  const Subscribers& s = subs_[node];
  const std::size_t at = position(s, key);
  return at == s.list.size() ? nullptr : &s.list[at].value;
}

template <typename Key, typename Value>
Value* TopicIndex<Key, Value>::find(std::string_view filter, const Key& key) {
  return const_cast<Value*>(std::as_const(*this).find(filter, key));
}

template <typename Key, typename Value>
template <typename Fn>
void TopicIndex<Key, Value>::match(std::string_view topic, Fn&& fn) const {
  struct Frame {
    NodeId node;
    std::size_t pos;  // offset of the next topic level, or LevelReader::kDone
  };
  // A popped frame pushes at most two, so depth <= levels + 1: inline first.
  Frame inline_frames[kInlineDepth];
  std::vector<Frame> spill;
  std::size_t depth = 0;
  auto push = [&](Frame f) {
    if (depth < kInlineDepth) {
      inline_frames[depth] = f;
    } else {
      spill.push_back(f);
    }
    ++depth;
  };
  auto pop = [&]() -> Frame {
    --depth;
    if (depth < kInlineDepth) return inline_frames[depth];
    const Frame f = spill.back();
    spill.pop_back();
    return f;
  };

  // Wildcards in the first filter level do not reach "$..." topics.
  const bool dollar = !topic.empty() && topic.front() == '$';
  push(Frame{LevelTrie::kRoot, 0});
  while (depth != 0) {
    const Frame f = pop();
    const bool wild_ok = !(dollar && f.node == LevelTrie::kRoot);
    if (const NodeId h = trie_.hash_child(f.node); h != LevelTrie::kNone && wild_ok) {
      deliver(subs_[h], fn);  // `#` covers the remaining levels, zero included
    }
    if (f.pos == LevelReader::kDone) {
      deliver(subs_[f.node], fn);
      continue;
    }
    LevelReader levels = LevelReader::at(topic, f.pos);
    std::string_view level;
    levels.next(level);
    if (const NodeId lit = trie_.find(f.node, level); lit != LevelTrie::kNone) {
      push(Frame{lit, levels.position()});
    }
    if (const NodeId p = trie_.plus_child(f.node); p != LevelTrie::kNone && wild_ok) {
      push(Frame{p, levels.position()});
    }
  }
}

template <typename Key, typename Value>
std::size_t TopicIndex<Key, Value>::memory_bytes() const noexcept {
  std::size_t bytes = trie_.memory_bytes() + subs_.capacity() * sizeof(Subscribers);
  for (const Subscribers& s : subs_) {
    bytes += s.list.capacity() * sizeof(Entry);
    if (s.pos) bytes += s.pos->size() * (sizeof(Key) + 32) + s.pos->bucket_count() * 8;
  }
  return bytes;
}

template <typename Key, typename Value>
void TopicIndex<Key, Value>::clear() {
  trie_.clear();
  subs_.clear();
  subs_.resize(1);
  size_ = 0;
  filters_ = 0;
}

template <typename Key, typename Value>
typename TopicIndex<Key, Value>::NodeId TopicIndex<Key, Value>::locate(
    std::string_view filter) const noexcept {
  NodeId node = LevelTrie::kRoot;
  LevelReader levels(filter);
  std::string_view level;
  while (node != LevelTrie::kNone && levels.next(level)) {
    node = trie_.find(node, level, LevelTrie::slot_for(level, levels.done()));
  }
  return node;
}

template <typename Key, typename Value>
std::size_t TopicIndex<Key, Value>::position(const Subscribers& s, const Key& key) noexcept {
  if (s.pos) {
    const auto it = s.pos->find(key);
    return it == s.pos->end() ? s.list.size() : it->second;
  }
  for (std::size_t i = 0; i < s.list.size(); ++i) {
    if (s.list[i].key == key) return i;
  }
  return s.list.size();
}

template <typename Key, typename Value>
void TopicIndex<Key, Value>::prune(NodeId n) noexcept {
  while (n != LevelTrie::kRoot && subs_[n].list.empty() && !trie_.has_children(n)) {
    const NodeId parent = trie_.parent(n);
    subs_[n] = Subscribers{};  // drop capacity and the position map
    trie_.remove_leaf(n);
    n = parent;
  }
}

}  // namespace shardmq::core
