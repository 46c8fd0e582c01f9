// LevelTrie: the shape shared by TopicIndex, ShardInterest and RetainedTree — a
// trie of topic levels with 32-bit node ids. Every child (literal, `+` or `#`)
// is found through one flat open-addressing table keyed by (parent id, level);
// a node carries flags saying whether it has `+`/`#` children so matching only
// looks those up where they exist. Nodes are 24 bytes: level text up to 12
// bytes is stored inline, longer text in one arena. Payloads live in the owners'
// vectors indexed by node id, so this class is not a template; its out-of-line
// code is in topic_index.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
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

  // How a filter level is stored: wildcards are flagged on their parent so
  // matching skips their lookup when absent. RetainedTree stores everything as
  // kLiteral.
  enum class Slot : std::uint8_t { kLiteral, kPlus, kHash };
  // `+` anywhere, `#` only as the last level; any other text is literal
  // (so an odd filter such as "#/a" is stored, but never matches a topic).
  static Slot slot_for(std::string_view level, bool last) noexcept {
    if (level == "+") return Slot::kPlus;
    if (level == "#" && last) return Slot::kHash;
    return Slot::kLiteral;
  }

  // kListed keeps a sibling list per node (12 bytes) so children can be
  // enumerated (RetainedTree fans out at `+`/`#`); kCounted only counts them
  // (TopicIndex and ShardInterest find children by name alone).
  enum class Children : std::uint8_t { kListed, kCounted };

  explicit LevelTrie(Children children = Children::kListed);

  // Literal child of `parent` named `level`, or kNone. Does not allocate.
  // Inline: matching calls it once per topic level (measurably faster).
  inline NodeId find(NodeId parent, std::string_view level) const noexcept;
  NodeId find(NodeId parent, std::string_view level, Slot slot) const noexcept {
    if (slot == Slot::kPlus) return plus_child(parent);
    if (slot == Slot::kHash) return hash_child(parent);
    return find(parent, level);
  }
  NodeId plus_child(NodeId n) const noexcept {
    return (nodes_[n].kids & kHasPlus) ? wild_child(n, Slot::kPlus) : kNone;
  }
  NodeId hash_child(NodeId n) const noexcept {
    return (nodes_[n].kids & kHasHash) ? wild_child(n, Slot::kHash) : kNone;
  }

  // The child, created if missing. New ids may exceed a previous id_limit().
  // Invalidates views returned by level().
  NodeId find_or_add(NodeId parent, std::string_view level, Slot slot);
  // Unlinks and frees a node that has no children (never the root).
  void remove_leaf(NodeId n) noexcept;

  // Node of a whole filter (levels classified by slot_for), or kNone.
  NodeId find_filter(std::string_view filter) const noexcept;
  // Node of a whole filter, created with its path if missing.
  NodeId add_filter(std::string_view filter);

  // Calls on_filter(NodeId) for every node whose filter matches `topic`
  // (MQTT rules: `+` one level, `#` the rest including none, no first-level
  // wildcard for "$..." topics). Nodes without payload may be reported too.
  // Allocation free unless kInlineDepth frames are not enough.
  template <typename Fn>
  void match(std::string_view topic, Fn&& on_filter) const;
  // Traversal frames kept on the stack before spilling to the heap.
  static constexpr std::size_t kInlineDepth = 64;

  NodeId parent(NodeId n) const noexcept { return nodes_[n].parent; }
  // Valid until the next find_or_add/add_filter.
  std::string_view level(NodeId n) const noexcept {
    const Node& node = nodes_[n];
    return {text_of(node), node.meta >> 2};
  }
  // Children in no particular order (all slots); kNone ends the list.
  // Only for Children::kListed; a kCounted trie answers kNone.
  NodeId first_child(NodeId n) const noexcept { return listed() ? links_[n].first : kNone; }
  NodeId next_sibling(NodeId n) const noexcept { return listed() ? links_[n].next : kNone; }
  bool has_children(NodeId n) const noexcept { return (nodes_[n].kids & kCountMask) != 0; }
  bool alive(NodeId n) const noexcept { return n == kRoot || nodes_[n].parent != kNone; }

  // Live nodes, root excluded.
  std::size_t node_count() const noexcept { return live_; }
  // One past the largest id ever handed out: size for payload vectors.
  std::size_t id_limit() const noexcept { return nodes_.size(); }
  // Ids the node storage holds without growing: payload vectors reserve this
  // much so they grow in step with the trie (no slack of their own).
  std::size_t id_capacity() const noexcept { return nodes_.capacity(); }
  // Heap bytes held by the structure (not payloads), capacity included.
  std::size_t memory_bytes() const noexcept;
  void clear();

 private:
  static constexpr std::size_t kInlineText = 12;
  static constexpr std::uint32_t kHasPlus = 1u << 31;
  static constexpr std::uint32_t kHasHash = 1u << 30;
  static constexpr std::uint32_t kCountMask = kHasHash - 1;

  struct Node {
    NodeId parent = kNone;   // kNone marks a free node (root excepted)
    std::uint32_t kids = 0;  // child count | kHasPlus | kHasHash; next free id when free
    std::uint32_t meta = 0;  // level length << 2 | Slot
    char text[kInlineText];  // the level when short, else its arena offset (first 4 bytes)
  };
  static_assert(sizeof(Node) == 24);
  struct Links {
    NodeId first = kNone;
    NodeId next = kNone;
    NodeId prev = kNone;
  };
  // Open addressing, linear probing; the hash is kept so growth and
  // backward-shift deletion never rehash level text.
  struct Bucket {
    std::uint32_t hash = 0;
    NodeId node = kNone;
  };

  bool listed() const noexcept { return children_ == Children::kListed; }
  static Slot slot_of(const Node& n) noexcept { return static_cast<Slot>(n.meta & 3); }
  static std::uint32_t arena_offset(const Node& n) noexcept {
    std::uint32_t off;
    std::memcpy(&off, n.text, sizeof off);
    return off;
  }
  const char* text_of(const Node& n) const noexcept {
    return (n.meta >> 2) <= kInlineText ? n.text : arena_.data() + arena_offset(n);
  }
  std::uint32_t hash_of(NodeId parent, std::string_view level) const noexcept;
  std::uint32_t wild_hash(NodeId parent, Slot slot) const noexcept;
  std::uint32_t hash_of(NodeId node) const noexcept;
  // The root's wildcard children are looked at by nearly every match: they
  // are kept at hand; deeper ones are found through the table.
  NodeId wild_child(NodeId parent, Slot slot) const noexcept {
    return parent == kRoot ? root_wild_[slot == Slot::kPlus ? 0 : 1] : find_wild(parent, slot);
  }
  NodeId find_wild(NodeId parent, Slot slot) const noexcept;
  void table_insert(std::uint32_t h, NodeId node);
  void table_erase(NodeId node) noexcept;
  void grow();
  NodeId allocate(NodeId parent, std::string_view level, Slot slot);
  void store_text(Node& n, std::string_view level);
  void compact_arena();

  std::vector<Node> nodes_;
  std::vector<Links> links_;  // by node id; empty for Children::kCounted
  std::vector<Bucket> table_;
  std::vector<char> arena_;  // level text longer than kInlineText
  std::size_t arena_garbage_ = 0;
  std::size_t table_used_ = 0;
  std::size_t live_ = 0;
  NodeId free_ = kNone;
  NodeId root_wild_[2] = {kNone, kNone};  // the root's `+` and `#` children
  std::uint64_t seed_;
  Children children_;
};

// ---------------------------------------------------------------------------

template <typename Fn>
void LevelTrie::match(std::string_view topic, Fn&& on_filter) const {
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
  push(Frame{kRoot, 0});
  while (depth != 0) {
    const Frame f = pop();
    const std::uint32_t kids = nodes_[f.node].kids;
    const bool wild_ok = !(dollar && f.node == kRoot);
    if ((kids & kHasHash) && wild_ok) {
      on_filter(wild_child(f.node, Slot::kHash));  // `#` covers the rest, zero levels included
    }
    if (f.pos == LevelReader::kDone) {
      on_filter(f.node);
      continue;
    }
    LevelReader levels = LevelReader::at(topic, f.pos);
    std::string_view level;
    levels.next(level);
    if (const NodeId lit = find(f.node, level); lit != kNone) {
      push(Frame{lit, levels.position()});
    }
    if ((kids & kHasPlus) && wild_ok)
      push(Frame{wild_child(f.node, Slot::kPlus), levels.position()});
  }
}

inline LevelTrie::NodeId LevelTrie::find(NodeId parent, std::string_view level) const noexcept {
  const std::uint32_t h = hash_of(parent, level);
  const auto meta = static_cast<std::uint32_t>(level.size() << 2);  // | Slot::kLiteral
  const std::size_t mask = table_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const Bucket& b = table_[i];
    if (b.node == kNone) return kNone;
    if (b.hash != h) continue;
    const Node& n = nodes_[b.node];
    if (n.parent == parent && n.meta == meta &&
        std::memcmp(text_of(n), level.data(), level.size()) == 0) {
      return b.node;
    }
  }
}

}  // namespace shardmq::core
