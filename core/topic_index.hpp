// TopicIndex<Key, Value>: subscriptions (filter, subscriber key) -> value, and
// the publish-time question "which subscriptions match this topic name?".
// Matching walks the topic's levels through a trie (literal child by hash,
// `+` and `#` children only where a node has them), so its cost grows with the
// number of levels and matches, not with the number of subscriptions; it never
// allocates unless a topic has more than kInlineDepth levels that all have
// matching branches.
//
// MQTT rules applied: `+` matches exactly one level (empty included), `#` (last
// level) matches zero or more levels so `a/#` matches `a`, and a topic whose
// first level starts with '$' is not matched by a filter whose first level is
// `+` or `#`. Filters are assumed validated by the codec; odd ones are stored
// without harm (a non-final `#` is a literal level that no valid topic matches).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
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
  bool contains_filter(std::string_view filter) const noexcept {
    const NodeId node = trie_.find_filter(filter);
    return node != LevelTrie::kNone && node < subs_.size() && subs_[node].size() != 0;
  }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t node_count() const noexcept { return trie_.node_count(); }
  // Approximate heap bytes (trie, subscriber lists; not what Key/Value own).
  std::size_t memory_bytes() const noexcept;
  void clear();

  // Traversal frames kept on the stack before spilling to the heap.
  static constexpr std::size_t kInlineDepth = LevelTrie::kInlineDepth;

 private:
  using NodeId = LevelTrie::NodeId;
  struct Entry {
    Key key;
    Value value;
  };
  class Subscribers;

  void prune(NodeId n) noexcept;

  LevelTrie trie_{LevelTrie::Children::kCounted};
  std::vector<Subscribers> subs_ = std::vector<Subscribers>(1);  // by node id
  std::size_t size_ = 0;
  std::size_t filters_ = 0;
};

// ---------------------------------------------------------------------------

// The subscribers of one filter. Most filters have exactly one, kept inline;
// more go to a heap block (a vector, plus a key -> position map once popular so
// unsubscribe storms on e.g. "$SYS/#" stay O(1) each).
template <typename Key, typename Value>
class TopicIndex<Key, Value>::Subscribers {
 public:
  Subscribers() noexcept {}
  Subscribers(Subscribers&& o) noexcept { take(o); }
  Subscribers& operator=(Subscribers&& o) noexcept {
    if (this != &o) {
      reset();
      take(o);
    }
    return *this;
  }
  ~Subscribers() { reset(); }

  std::size_t size() const noexcept { return state_ == kMany ? many_->list.size() : state_; }
  const Entry* begin() const noexcept { return state_ == kMany ? many_->list.data() : &one_; }
  const Entry* end() const noexcept { return begin() + size(); }

  // The entry for `key`, or nullptr.
  Entry* lookup(const Key& key) noexcept {
    if (state_ == kOne) return one_.key == key ? &one_ : nullptr;
    if (state_ == kEmpty) return nullptr;
    const std::size_t at = many_->position(key);
    return at == many_->list.size() ? nullptr : &many_->list[at];
  }
  // Adds an entry whose key is not present yet.
  void add(const Key& key, Value value) {
    if (state_ == kEmpty) {
      new (&one_) Entry{key, std::move(value)};
      state_ = kOne;
      return;
    }
    if (state_ == kOne) {
      Many* m = new Many();
      m->list.reserve(2);
      m->list.push_back(std::move(one_));
      one_.~Entry();
      many_ = m;
      state_ = kMany;
    }
    many_->add(key, std::move(value));
  }
  // Removes `key`; false if absent.
  bool remove(const Key& key) noexcept {
    if (state_ == kOne) {
      if (!(one_.key == key)) return false;
      reset();
      return true;
    }
    if (state_ == kEmpty || !many_->remove(key)) return false;
    if (many_->list.size() == 1) {  // back to inline: frees the block
      Many* m = many_;
      new (&one_) Entry(std::move(m->list.front()));
      state_ = kOne;
      delete m;
    }
    return true;
  }
  std::size_t heap_bytes() const noexcept {
    if (state_ != kMany) return 0;
    std::size_t bytes = sizeof(Many) + many_->list.capacity() * sizeof(Entry);
    if (!many_->pos.empty()) {
      bytes += many_->pos.size() * (sizeof(Key) + 32) + many_->pos.bucket_count() * 8;
    }
    return bytes;
  }

 private:
  static constexpr std::size_t kMapAbove = 16;
  enum : std::uint8_t { kEmpty = 0, kOne = 1, kMany = 2 };
  struct Many {
    std::vector<Entry> list;
    std::unordered_map<Key, std::uint32_t> pos;  // filled while list.size() > kMapAbove

    std::size_t position(const Key& key) const noexcept {
      if (!pos.empty()) {
        const auto it = pos.find(key);
        return it == pos.end() ? list.size() : it->second;
      }
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (list[i].key == key) return i;
      }
      return list.size();
    }
    void add(const Key& key, Value value) {
      list.push_back(Entry{key, std::move(value)});
      if (!pos.empty()) {
        pos.emplace(key, static_cast<std::uint32_t>(list.size() - 1));
      } else if (list.size() > kMapAbove) {
        for (std::size_t i = 0; i < list.size(); ++i)
          pos.emplace(list[i].key, static_cast<std::uint32_t>(i));
      }
    }
    bool remove(const Key& key) noexcept {
      const std::size_t at = position(key);
      if (at == list.size()) return false;
      if (!pos.empty()) pos.erase(key);
      if (at + 1 != list.size()) {
        list[at] = std::move(list.back());
        if (!pos.empty()) pos[list[at].key] = static_cast<std::uint32_t>(at);
      }
      list.pop_back();
      return true;
    }
  };

  void reset() noexcept {
    if (state_ == kOne) one_.~Entry();
    if (state_ == kMany) delete many_;
    state_ = kEmpty;
  }
  void take(Subscribers& o) noexcept {
    if (o.state_ == kOne) new (&one_) Entry(std::move(o.one_));
    if (o.state_ == kMany) many_ = o.many_;
    state_ = o.state_;
    if (o.state_ == kOne) o.one_.~Entry();
    o.state_ = kEmpty;
  }

  union {
    Entry one_;
    Many* many_;
  };
  std::uint8_t state_ = kEmpty;
};

template <typename Key, typename Value>
bool TopicIndex<Key, Value>::insert(std::string_view filter, const Key& key, Value value) {
  const NodeId node = trie_.add_filter(filter);
  if (subs_.size() < trie_.id_limit()) {
    subs_.reserve(trie_.id_capacity());
    subs_.resize(trie_.id_limit());
  }
  Subscribers& s = subs_[node];
  if (Entry* e = s.lookup(key)) {
    e->value = std::move(value);
    return false;
  }
  if (s.size() == 0) ++filters_;
  s.add(key, std::move(value));
  ++size_;
  return true;
}

template <typename Key, typename Value>
bool TopicIndex<Key, Value>::erase(std::string_view filter, const Key& key) {
  const NodeId node = trie_.find_filter(filter);
  if (node == LevelTrie::kNone) return false;
  Subscribers& s = subs_[node];
  if (!s.remove(key)) return false;
  --size_;
  if (s.size() == 0) {
    --filters_;
    prune(node);
  }
  return true;
}

template <typename Key, typename Value>
const Value* TopicIndex<Key, Value>::find(std::string_view filter, const Key& key) const {
  return const_cast<TopicIndex*>(this)->find(filter, key);
}

template <typename Key, typename Value>
Value* TopicIndex<Key, Value>::find(std::string_view filter, const Key& key) {
  const NodeId node = trie_.find_filter(filter);
  if (node == LevelTrie::kNone) return nullptr;
  Entry* e = subs_[node].lookup(key);
  return e == nullptr ? nullptr : &e->value;
}

template <typename Key, typename Value>
template <typename Fn>
void TopicIndex<Key, Value>::match(std::string_view topic, Fn&& fn) const {
  trie_.match(topic, [&](NodeId n) {
    for (const Entry& e : subs_[n])
      fn(e.key, e.value);
  });
}

template <typename Key, typename Value>
std::size_t TopicIndex<Key, Value>::memory_bytes() const noexcept {
  std::size_t bytes = trie_.memory_bytes() + subs_.capacity() * sizeof(Subscribers);
  if (size_ != filters_) {  // only then does any filter hold a heap block
    for (const Subscribers& s : subs_)
      bytes += s.heap_bytes();
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
void TopicIndex<Key, Value>::prune(NodeId n) noexcept {
  while (n != LevelTrie::kRoot && subs_[n].size() == 0 && !trie_.has_children(n)) {
    const NodeId parent = trie_.parent(n);
    trie_.remove_leaf(n);
    n = parent;
  }
}

}  // namespace shardmq::core
