// LevelTrie: the shape shared by TopicIndex and RetainedTree — a trie of topic
// levels with node ids, literal children found through one flat hash table
// (keyed by parent id + level text) and `+`/`#` children held in fixed slots.
// Payloads live in the owners' vectors indexed by node id, so this class is not
// a template; its out-of-line code is in topic_index.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shardmq::core {

// Splits a topic name or filter into '/'-separated levels without allocating.
// "a//b" gives "a", "", "b"; "" gives one empty level; "/a" gives "", "a".
class LevelReader {
 public:
  explicit LevelReader(std::string_view s) noexcept : s_(s) {}

  // Next level into `level`; false once every level has been read.
  bool next(std::string_view& level) noexcept {
    if (pos_ == kDone) return false;
    const std::size_t slash = s_.find('/', pos_);
    if (slash == std::string_view::npos) {
      level = s_.substr(pos_);
      pos_ = kDone;
    } else {
      level = s_.substr(pos_, slash - pos_);
      pos_ = slash + 1;
    }
    return true;
  }
  // True when the level just read was the last one.
  bool done() const noexcept { return pos_ == kDone; }
  // Offset of the next level (kDone when none): lets a traversal save its place.
  std::size_t position() const noexcept { return pos_; }
  static LevelReader at(std::string_view s, std::size_t pos) noexcept {
    LevelReader r(s);
    r.pos_ = pos;
    return r;
  }

  static constexpr std::size_t kDone = static_cast<std::size_t>(-1);

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

class LevelTrie {
 public:
  using NodeId = std::uint32_t;
  static constexpr NodeId kRoot = 0;
  static constexpr NodeId kNone = 0xffffffffu;

  // How a filter level is stored: wildcards get fixed slots so matching finds
  // them without hashing. RetainedTree stores everything as kLiteral.
  enum class Slot : std::uint8_t { kLiteral, kPlus, kHash };
  // `+` anywhere, `#` only as the last level; any other text is literal
  // (so an odd filter such as "#/a" is stored, but never matches a topic).
  static Slot slot_for(std::string_view level, bool last) noexcept {
    if (level == "+") return Slot::kPlus;
    if (level == "#" && last) return Slot::kHash;
    return Slot::kLiteral;
  }

  LevelTrie();

  // Literal child of `parent` named `level`, or kNone. Does not allocate.
  NodeId find(NodeId parent, std::string_view level) const noexcept;
  NodeId find(NodeId parent, std::string_view level, Slot slot) const noexcept {
    if (slot == Slot::kPlus) return nodes_[parent].plus;
    if (slot == Slot::kHash) return nodes_[parent].hash;
    return find(parent, level);
  }
  NodeId plus_child(NodeId n) const noexcept { return nodes_[n].plus; }
  NodeId hash_child(NodeId n) const noexcept { return nodes_[n].hash; }

  // The child, created if missing. New ids may exceed a previous id_limit().
  NodeId find_or_add(NodeId parent, std::string_view level, Slot slot);
  // Unlinks and frees a node that has no children (never the root).
  void remove_leaf(NodeId n) noexcept;

  NodeId parent(NodeId n) const noexcept { return nodes_[n].parent; }
  std::string_view level(NodeId n) const noexcept { return nodes_[n].level; }
  // Children in no particular order (all slots); kNone ends the list.
  NodeId first_child(NodeId n) const noexcept { return nodes_[n].first_child; }
  NodeId next_sibling(NodeId n) const noexcept { return nodes_[n].next_sibling; }
  bool has_children(NodeId n) const noexcept { return nodes_[n].first_child != kNone; }
  bool alive(NodeId n) const noexcept { return n == kRoot || nodes_[n].parent != kNone; }

  // Live nodes, root excluded.
  std::size_t node_count() const noexcept { return live_; }
  // One past the largest id ever handed out: size for payload vectors.
  std::size_t id_limit() const noexcept { return nodes_.size(); }
  // Approximate heap bytes held by the structure (not payloads).
  std::size_t memory_bytes() const noexcept;
  void clear();

 private:
  struct Node {
    std::string level;
    NodeId parent = kNone;
    NodeId first_child = kNone;
    NodeId next_sibling = kNone;  // doubles as the free-list link
    NodeId prev_sibling = kNone;
    NodeId plus = kNone;
    NodeId hash = kNone;
  };
  // Open addressing, linear probing; `hash` is kept so growth and backward-shift
  // deletion never rehash level text.
  struct Bucket {
    std::uint32_t hash = 0;
    NodeId node = kNone;
  };

  std::uint32_t hash_of(NodeId parent, std::string_view level) const noexcept;
  void table_insert(std::uint32_t h, NodeId node);
  void table_erase(NodeId node) noexcept;
  void grow();
  NodeId allocate(NodeId parent, std::string_view level);

  std::vector<Node> nodes_;
  std::vector<Bucket> table_;
  std::size_t table_used_ = 0;
  std::size_t live_ = 0;
  NodeId free_ = kNone;
  std::uint64_t seed_;
};

}  // namespace shardmq::core
