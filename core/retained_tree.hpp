// RetainedTree<Value>: retained messages by exact topic name, and the
// subscribe-time question "which stored topics does this FILTER match?".
// Matching follows literal filter levels by hash lookup and fans out only at
// `+` (children of one node) and `#` (a whole subtree), so its cost follows
// what matches, not how many topics are stored. A filter whose first level is
// `+` or `#` does not match topics whose first level starts with '$'.
//
// Large matches can be streamed: start() returns a Cursor and resume() visits
// until the visitor returns false (pause) or the match is exhausted. While any
// cursor (or a running match()) exists the tree is "pinned": erase() clears the
// value but defers pruning of empty nodes until the last pin is released, so a
// cursor survives any set()/erase() between chunks. A topic set after the
// cursor passed its place is not visited (live publishes cover it); one erased
// before it is reached is skipped; none is visited twice.
//
// Bytes: total_bytes() sums value.size() when Value has a size() member
// (e.g. a payload buffer), else stays 0 and the caller keeps its own count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/level_trie.hpp"

namespace shardmq::core {

template <typename Value>
class RetainedTree {
  using NodeId = LevelTrie::NodeId;
  struct Frame {
    NodeId id;
    std::uint8_t kind;
    std::size_t fpos;  // offset of the next filter level, or LevelReader::kDone
  };
  // The traversal state shared by match() and Cursor.
  struct Walk {
    std::string filter;
    std::vector<Frame> frames;
    std::string topic;         // scratch: name of the node being visited
    std::vector<NodeId> path;  // scratch: ids from node up to the root
  };

 public:
  class Cursor {
   public:
    Cursor(Cursor&& o) noexcept
        : tree_(std::exchange(o.tree_, nullptr)), walk_(std::move(o.walk_)) {}
    Cursor& operator=(Cursor&& o) noexcept {
      if (this != &o) {
        release();
        tree_ = std::exchange(o.tree_, nullptr);
        walk_ = std::move(o.walk_);
      }
      return *this;
    }
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    ~Cursor() { release(); }
    bool done() const noexcept { return walk_.frames.empty(); }

   private:
    friend class RetainedTree;
    Cursor(RetainedTree* tree, std::string_view filter) : tree_(tree) {
      tree_->pin();
      tree_->begin(walk_, filter);
    }
    void release() noexcept {
      if (tree_ != nullptr) std::exchange(tree_, nullptr)->unpin();
    }
    RetainedTree* tree_;
    Walk walk_;
  };

  RetainedTree() = default;
  RetainedTree(const RetainedTree&) = delete;
  RetainedTree& operator=(const RetainedTree&) = delete;
  // Moving is fine while no cursor exists (a cursor points at its tree).
  RetainedTree(RetainedTree&&) noexcept = default;
  RetainedTree& operator=(RetainedTree&&) noexcept = default;

  // Stores or replaces the message of `topic`; true if the topic was new.
  bool set(std::string_view topic, Value value);
  // Removes the message of `topic`; false if there was none.
  bool erase(std::string_view topic);
  const Value* find(std::string_view topic) const;

  // Calls visit(std::string_view topic, const Value&) -> bool for every stored
  // topic the filter matches, in no particular order, until visit returns
  // false. Returns true if the match ran to the end. visit may set()/erase();
  // its arguments are valid until it does.
  template <typename Fn>
  bool match(std::string_view filter, Fn&& visit) {
    Cursor c = start(filter);
    return resume(c, visit);
  }
  // Streamed form: the cursor pins the tree until destroyed; it must not
  // outlive the tree. resume() returns true once the match is exhausted.
  Cursor start(std::string_view filter) { return Cursor(this, filter); }
  template <typename Fn>
  bool resume(Cursor& c, Fn&& visit) {
    return run(c.walk_, visit);
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t total_bytes() const noexcept { return bytes_; }
  std::size_t node_count() const noexcept { return trie_.node_count(); }
  // Must not be called while a cursor exists.
  void clear();

 private:
  enum Kind : std::uint8_t { kVisit, kSiblings, kSubtree };

  static std::size_t size_of(const Value& v) {
    if constexpr (requires { static_cast<std::size_t>(v.size()); }) {
      return static_cast<std::size_t>(v.size());
    } else {
      return 0;
    }
  }
  NodeId locate(std::string_view topic) const noexcept;
  void prune(NodeId n) noexcept;
  void pin() noexcept { ++pins_; }
  void unpin() noexcept;
  void begin(Walk& w, std::string_view filter) const;
  template <typename Fn>
  bool run(Walk& w, Fn& visit);
  const std::string& name_of(Walk& w, NodeId id) const;
  bool skip_dollar(NodeId id) const noexcept {
    return trie_.parent(id) == LevelTrie::kRoot && !trie_.level(id).empty() &&
           trie_.level(id).front() == '$';
  }

  LevelTrie trie_;
  std::vector<std::optional<Value>> values_ = std::vector<std::optional<Value>>(1);  // by id
  std::vector<NodeId> pending_prune_;
  std::size_t size_ = 0;
  std::size_t bytes_ = 0;
  std::size_t pins_ = 0;
};

// ---------------------------------------------------------------------------

template <typename Value>
bool RetainedTree<Value>::set(std::string_view topic, Value value) {
  NodeId node = LevelTrie::kRoot;
  LevelReader levels(topic);
  std::string_view level;
  while (levels.next(level))
    node = trie_.find_or_add(node, level, LevelTrie::Slot::kLiteral);
  if (values_.size() < trie_.id_limit()) values_.resize(trie_.id_limit());
  std::optional<Value>& slot = values_[node];
  const bool fresh = !slot.has_value();
  if (fresh) {
    ++size_;
  } else {
    bytes_ -= size_of(*slot);
  }
  bytes_ += size_of(value);
  slot = std::move(value);
  return fresh;
}

template <typename Value>
bool RetainedTree<Value>::erase(std::string_view topic) {
  const NodeId node = locate(topic);
  if (node == LevelTrie::kNone || !values_[node].has_value()) return false;
  bytes_ -= size_of(*values_[node]);
  values_[node].reset();
  --size_;
  if (pins_ != 0) {
    pending_prune_.push_back(node);  // frames may point at it: keep it alive
  } else {
    prune(node);
  }
  return true;
}

template <typename Value>
const Value* RetainedTree<Value>::find(std::string_view topic) const {
  const NodeId node = locate(topic);
  if (node == LevelTrie::kNone || !values_[node].has_value()) return nullptr;
  return &*values_[node];
}

template <typename Value>
void RetainedTree<Value>::clear() {
  trie_.clear();
  values_.assign(1, std::nullopt);
  pending_prune_.clear();
  size_ = 0;
  bytes_ = 0;
}

template <typename Value>
typename RetainedTree<Value>::NodeId RetainedTree<Value>::locate(
    std::string_view topic) const noexcept {
  NodeId node = LevelTrie::kRoot;
  LevelReader levels(topic);
  std::string_view level;
  while (node != LevelTrie::kNone && levels.next(level))
    node = trie_.find(node, level);
  return node;
}

template <typename Value>
void RetainedTree<Value>::prune(NodeId n) noexcept {
  while (n != LevelTrie::kRoot && trie_.alive(n) && !values_[n].has_value() &&
         !trie_.has_children(n)) {
    const NodeId parent = trie_.parent(n);
    trie_.remove_leaf(n);
    n = parent;
  }
}

template <typename Value>
void RetainedTree<Value>::unpin() noexcept {
  if (--pins_ != 0) return;
  for (const NodeId n : pending_prune_)
    prune(n);  // prune() skips freed ids
  pending_prune_.clear();
}

template <typename Value>
void RetainedTree<Value>::begin(Walk& w, std::string_view filter) const {
  w.filter.assign(filter);
  w.frames.clear();
  w.frames.push_back(Frame{LevelTrie::kRoot, kVisit, 0});
}

template <typename Value>
const std::string& RetainedTree<Value>::name_of(Walk& w, NodeId id) const {
  w.path.clear();
  for (NodeId n = id; n != LevelTrie::kRoot; n = trie_.parent(n))
    w.path.push_back(n);
  w.topic.clear();
  for (std::size_t i = w.path.size(); i-- > 0;) {
    w.topic.append(trie_.level(w.path[i]));
    if (i != 0) w.topic.push_back('/');
  }
  return w.topic;
}

template <typename Value>
template <typename Fn>
bool RetainedTree<Value>::run(Walk& w, Fn& visit) {
  // Every frame's successors are pushed before its own value is visited, so a
  // pause (visit returning false) leaves the stack at the next item.
  auto emit = [&](NodeId id) -> bool {
    if (id == LevelTrie::kRoot || !values_[id].has_value()) return true;
    return visit(std::string_view(name_of(w, id)), std::as_const(*values_[id]));
  };
  while (!w.frames.empty()) {
    Frame f = w.frames.back();
    w.frames.pop_back();
    if (f.kind == kSubtree) {
      if (const NodeId s = trie_.next_sibling(f.id); s != LevelTrie::kNone) {
        w.frames.push_back(Frame{s, kSubtree, 0});
      }
      if (skip_dollar(f.id)) continue;  // reached through a first-level `#`
      if (const NodeId c = trie_.first_child(f.id); c != LevelTrie::kNone) {
        w.frames.push_back(Frame{c, kSubtree, 0});
      }
      if (!emit(f.id)) return false;
      continue;
    }
    if (f.kind == kSiblings) {
      if (const NodeId s = trie_.next_sibling(f.id); s != LevelTrie::kNone) {
        w.frames.push_back(Frame{s, kSiblings, f.fpos});
      }
      if (skip_dollar(f.id)) continue;  // reached through a first-level `+`
    }
    if (f.fpos == LevelReader::kDone) {
      if (!emit(f.id)) return false;
      continue;
    }
    LevelReader levels = LevelReader::at(w.filter, f.fpos);
    std::string_view level;
    levels.next(level);
    switch (LevelTrie::slot_for(level, levels.done())) {
      case LevelTrie::Slot::kHash:
        if (const NodeId c = trie_.first_child(f.id); c != LevelTrie::kNone) {
          w.frames.push_back(Frame{c, kSubtree, 0});
        }
        if (!emit(f.id)) return false;  // `a/#` matches `a` itself
        break;
      case LevelTrie::Slot::kPlus:
        if (const NodeId c = trie_.first_child(f.id); c != LevelTrie::kNone) {
          w.frames.push_back(Frame{c, kSiblings, levels.position()});
        }
        break;
      case LevelTrie::Slot::kLiteral:
        if (const NodeId c = trie_.find(f.id, level); c != LevelTrie::kNone) {
          w.frames.push_back(Frame{c, kVisit, levels.position()});
        }
        break;
    }
  }
  return true;
}

}  // namespace shardmq::core
