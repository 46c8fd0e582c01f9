// AclRules, checking (acl_rules.hpp): allows() for read, write and subscribe, as Mosquitto's
// mosquitto_acl_check_default does and shardmq's own SUBSCRIBE rule: the walks over the user
// and pattern tries for a topic, and for a filter (does a deny cover it, does a read grant
// overlap it), and matching %c/%u templates against the client's names. Reading the file and
// compiling the rules are in acl_rules_parse.cpp.
#include "broker/auth/acl_rules.hpp"

#include "broker/auth/acl_levels.hpp"
#include "core/topic_validation.hpp"

namespace shardmq::broker {

namespace {

using acl_levels::starts_with_dollar;
using core::LevelReader;
using core::LevelTrie;

constexpr std::uint8_t kRuleBits = AclRules::kRead | AclRules::kWrite | AclRules::kDeny;

// A walk's work list: (node, offset of the next level) frames on the stack, spilling to the
// heap only for very deep topics or, on a SUBSCRIBE filter's `+`, a wide fan-out.
class FrameStack {
 public:
  struct Frame {
    LevelTrie::NodeId node;
    std::size_t pos;  // offset of the next level, or LevelReader::kDone
  };

  bool empty() const { return depth_ == 0; }
  void push(Frame f) {
    if (depth_ < kInlineDepth) {
      inline_[depth_] = f;
    } else {
      spill_.push_back(f);
    }
    ++depth_;
  }
  Frame pop() {
    --depth_;
    if (depth_ < kInlineDepth) return inline_[depth_];
    const Frame f = spill_.back();
    spill_.pop_back();
    return f;
  }

 private:
  // Without templates a topic walk pushes at most two frames per pop: depth <= levels + 1.
  static constexpr std::size_t kInlineDepth = 64;
  Frame inline_[kInlineDepth];
  std::vector<Frame> spill_;
  std::size_t depth_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------
// Checking: Mosquitto's mosquitto_acl_check_default, as set operations on the tries.

AclRules::NodeId AclRules::anchor_of(std::optional<std::string_view> username) const {
  if (!username) return anonymous_anchor_;
  return users_.find(LevelTrie::kRoot, *username);
}

bool AclRules::allows(std::string_view client_id, std::optional<std::string_view> username,
                      std::string_view topic, AclAccess access) const {
  // Mosquitto's acl_file answers every SUBSCRIBE with yes ("FIXME - implement ACL subscription
  // strings"); shardmq refuses filters that can never deliver, or that a deny closes entirely.
  if (access == AclAccess::subscribe) return allows_subscribe(client_id, username, topic);
  // Mosquitto's matcher rejects an empty topic or one with wildcards: no rule matches.
  if (topic.empty() || core::has_wildcard(topic)) return false;
  const std::uint8_t want = access == AclAccess::read ? kRead : kWrite;

  // The client's own rules: any matching deny refuses, else any matching grant allows.
  if (const NodeId anchor = anchor_of(username); anchor != LevelTrie::kNone) {
    const std::uint8_t stop = (user_bits_[anchor] & kAnyDeny) ? kDeny : (kDeny | want);
    const std::uint8_t found = walk(users_, user_bits_, anchor, topic, stop, nullptr);
    if (found & kDeny) return false;
    if (found & want) return true;
  }
  if (!has_patterns_) return false;

  // A `+` or `#` in a substituted name would widen the pattern: such clients get no pattern.
  if (username && core::has_wildcard(*username)) return false;
  if (core::has_wildcard(client_id)) return false;

  const Substitution subst{client_id, username};
  const std::uint8_t stop = (pattern_bits_[LevelTrie::kRoot] & kAnyDeny) ? kDeny : (kDeny | want);
  const std::uint8_t found = walk(patterns_, pattern_bits_, LevelTrie::kRoot, topic, stop, &subst);
  return !(found & kDeny) && (found & want);
}

std::uint8_t AclRules::walk(const LevelTrie& trie, const std::vector<std::uint8_t>& bits,
                            NodeId start, std::string_view topic, std::uint8_t stop,
                            const Substitution* subst) const {
  using Frame = FrameStack::Frame;
  FrameStack frames;
  std::uint8_t found = 0;
  // Wildcards in the first filter level do not reach "$..." topics.
  const bool dollar = topic.front() == '$';
  frames.push(Frame{start, 0});
  while (!frames.empty()) {
    const Frame f = frames.pop();
    const bool wild_ok = !(dollar && f.node == start);
    if (wild_ok) {
      if (const NodeId h = trie.hash_child(f.node); h != LevelTrie::kNone) {
        found |= bits[h] & kRuleBits;  // `#` covers the rest, zero levels included
        if (found & stop) return found;
      }
    }
    if (f.pos == LevelReader::kDone) {
      found |= bits[f.node] & kRuleBits;
      if (found & stop) return found;
      continue;
    }
    LevelReader levels = LevelReader::at(topic, f.pos);
    std::string_view level;
    levels.next(level);
    const std::size_t next = levels.position();
    if (const NodeId lit = trie.find(f.node, level);
        lit != LevelTrie::kNone && !(subst && is_template_[lit])) {
      frames.push(Frame{lit, next});
    }
    if (wild_ok) {
      if (const NodeId p = trie.plus_child(f.node); p != LevelTrie::kNone) {
        frames.push(Frame{p, next});
      }
    }
    if (subst) {
      for (const TemplateChild& c : template_children_[f.node]) {
        if (const auto after = match_template(templates_[c.template_index], topic, f.pos, *subst)) {
          frames.push(Frame{c.node, *after});
        }
      }
    }
  }
  return found;
}

std::optional<std::size_t> AclRules::match_template(const Template& t, std::string_view topic,
                                                    std::size_t pos,
                                                    const Substitution& subst) const {
  if (t.uses_username && !subst.username) return std::nullopt;  // the pattern is skipped
  for (const TemplatePiece& piece : t.pieces) {
    std::string_view want;
    switch (piece.kind) {
      case TemplatePiece::Kind::text:
        want = piece.text;
        break;
      case TemplatePiece::Kind::client_id:
        want = subst.client_id;
        break;
      case TemplatePiece::Kind::username:
        want = *subst.username;
        break;
    }
    // The substituted text may hold '/' (a client id "a/b" spans two levels), as in Mosquitto.
    if (topic.compare(pos, want.size(), want) != 0) return std::nullopt;
    pos += want.size();
  }
  if (pos == topic.size()) return LevelReader::kDone;
  if (topic[pos] != '/') return std::nullopt;  // it must end where a level ends
  return pos + 1;
}

// ---------------------------------------------------------------------------
// SUBSCRIBE (shardmq's own rule; docs/security.md, "ACL files", "SUBSCRIBE").

bool AclRules::allows_subscribe(std::string_view client_id,
                                std::optional<std::string_view> username,
                                std::string_view filter) const {
  if (core::check_topic_filter(filter) != core::TopicStatus::Ok) return false;
  // A shared subscription receives what its filter matches; the group name is no topic.
  if (const core::SharedFilter shared = core::split_shared_filter(filter); shared.is_shared()) {
    filter = shared.filter;
  }

  // The client's own rules: a deny covering the whole filter refuses, else a read grant
  // overlapping it allows; then the patterns, likewise; else refused.
  if (const NodeId anchor = anchor_of(username); anchor != LevelTrie::kNone) {
    if ((user_bits_[anchor] & kAnyDeny) &&
        deny_covers(users_, user_bits_, anchor, filter, nullptr)) {
      return false;
    }
    if (read_overlaps(users_, user_bits_, anchor, filter, nullptr)) return true;
  }
  if (!has_patterns_) return false;
  if (username && core::has_wildcard(*username)) return false;
  if (core::has_wildcard(client_id)) return false;

  const Substitution subst{client_id, username};
  if ((pattern_bits_[LevelTrie::kRoot] & kAnyDeny) &&
      deny_covers(patterns_, pattern_bits_, LevelTrie::kRoot, filter, &subst)) {
    return false;
  }
  return read_overlaps(patterns_, pattern_bits_, LevelTrie::kRoot, filter, &subst);
}

// A rule covers a filter level when every level the filter level matches, the rule level
// matches too: rule `#` covers the rest of any filter (zero levels included), rule `+` a
// literal or `+`, a literal (or a substituted template) only the same literal, and a filter
// `#` only a rule `#`. So the walk is a topic walk that treats a filter `+` as one more level
// that only rule wildcards take, and a filter `#` as one only rule `#` takes.
bool AclRules::deny_covers(const LevelTrie& trie, const std::vector<std::uint8_t>& bits,
                           NodeId start, std::string_view filter, const Substitution* subst) const {
  using Frame = FrameStack::Frame;
  FrameStack frames;
  // Rule wildcards in the first level do not reach "$..." topics, so they cover no such filter.
  const bool dollar = filter.front() == '$';
  frames.push(Frame{start, 0});
  while (!frames.empty()) {
    const Frame f = frames.pop();
    const bool wild_ok = !(dollar && f.node == start);
    if (wild_ok) {
      if (const NodeId h = trie.hash_child(f.node); h != LevelTrie::kNone && (bits[h] & kDeny)) {
        return true;
      }
    }
    if (f.pos == LevelReader::kDone) {
      if (bits[f.node] & kDeny) return true;
      continue;
    }
    LevelReader levels = LevelReader::at(filter, f.pos);
    std::string_view level;
    levels.next(level);
    const std::size_t next = levels.position();
    if (level == "#") continue;  // covered by a rule `#` alone, looked at above
    if (level != "+") {
      if (const NodeId lit = trie.find(f.node, level);
          lit != LevelTrie::kNone && !(subst && is_template_[lit])) {
        frames.push(Frame{lit, next});
      }
      // The substituted text holds no wildcard (such clients get no pattern), so matching it
      // byte for byte against the filter means the filter's levels there are the same
      // literals.
      if (subst) {
        for (const TemplateChild& c : template_children_[f.node]) {
          if (const auto after =
                  match_template(templates_[c.template_index], filter, f.pos, *subst)) {
            frames.push(Frame{c.node, *after});
          }
        }
      }
    }
    if (wild_ok) {
      if (const NodeId p = trie.plus_child(f.node); p != LevelTrie::kNone) {
        frames.push(Frame{p, next});
      }
    }
  }
  return false;
}

// A rule overlaps a filter when some topic matches both: level by level, a `+` on either side
// takes any one level, a `#` on either side the rest (zero levels included), literals must be
// equal, and a first-level wildcard on either side meets no literal starting with '$'. A
// filter literal follows the equal child and the rule's wildcards (as for a topic); a filter
// `+` follows every child that has a read grant below it; a filter `#` needs no walk: the
// node's kReach bits say whether a read grant ends at or below it.
bool AclRules::read_overlaps(const LevelTrie& trie, const std::vector<std::uint8_t>& bits,
                             NodeId start, std::string_view filter,
                             const Substitution* subst) const {
  using Frame = FrameStack::Frame;
  // A %u template skips an anonymous client, which reaches only what kReachAnon marks.
  const bool anonymous = subst && !subst->username;
  const std::uint8_t reach = anonymous ? kReachAnon : kReach;
  const std::uint8_t plain_reach = anonymous ? kPlainReachAnon : kPlainReach;
  FrameStack frames;
  const bool dollar = filter.front() == '$';
  frames.push(Frame{start, 0});
  while (!frames.empty()) {
    const Frame f = frames.pop();
    const bool first_level = f.node == start;  // only the start frame stands on `start`
    const NodeId hash = trie.hash_child(f.node);
    if (hash != LevelTrie::kNone && !(dollar && first_level) && (bits[hash] & kRead)) return true;
    if (f.pos == LevelReader::kDone) {
      if (bits[f.node] & kRead) return true;
      continue;
    }
    LevelReader levels = LevelReader::at(filter, f.pos);
    std::string_view level;
    levels.next(level);
    const std::size_t next = levels.position();

    if (level == "#") {
      if (!first_level) {
        if (bits[f.node] & reach) return true;
        continue;
      }
      // The filter `#` alone: everything but the '$' first levels, and the templates whose
      // text does not start with '$' (looked at one by one below).
      if (bits[f.node] & plain_reach) return true;
    } else if (level == "+") {
      for (NodeId c = trie.first_child(f.node); c != LevelTrie::kNone; c = trie.next_sibling(c)) {
        // The `#` child was looked at above, the templates are compared below.
        if (c == hash || (subst && is_template_[c])) continue;
        if (!(bits[c] & reach)) continue;                                // no read grant down there
        if (first_level && starts_with_dollar(trie.level(c))) continue;  // `+` takes no '$'
        frames.push(Frame{c, next});
      }
    } else {
      if (const NodeId lit = trie.find(f.node, level);
          lit != LevelTrie::kNone && !(subst && is_template_[lit]) && (bits[lit] & reach)) {
        frames.push(Frame{lit, next});
      }
      if (!(dollar && first_level)) {
        if (const NodeId p = trie.plus_child(f.node); p != LevelTrie::kNone && (bits[p] & reach)) {
          frames.push(Frame{p, next});
        }
      }
    }
    if (!subst) continue;
    for (const TemplateChild& c : template_children_[f.node]) {
      if (!(bits[c.node] & reach)) continue;
      const TemplateOverlap o =
          overlap_template(templates_[c.template_index], filter, f.pos, *subst, first_level);
      if (o.kind == TemplateOverlap::Kind::filter_hash) return true;  // reach, checked above
      if (o.kind == TemplateOverlap::Kind::next) frames.push(Frame{c.node, o.pos});
    }
  }
  return false;
}

AclRules::TemplateOverlap AclRules::overlap_template(const Template& t, std::string_view filter,
                                                     std::size_t pos, const Substitution& subst,
                                                     bool first_level) const {
  using Kind = TemplateOverlap::Kind;
  if (t.uses_username && !subst.username) return {Kind::none};  // the pattern is skipped
  // Substituted into a string (a SUBSCRIBE is rare next to the messages): a client id "a/b"
  // makes the template two literal levels, each met by one filter level.
  std::string text;
  for (const TemplatePiece& piece : t.pieces) {
    switch (piece.kind) {
      case TemplatePiece::Kind::text:
        text += piece.text;
        break;
      case TemplatePiece::Kind::client_id:
        text += subst.client_id;
        break;
      case TemplatePiece::Kind::username:
        text += *subst.username;
        break;
    }
  }
  LevelReader rule_levels(text);
  LevelReader filter_levels = LevelReader::at(filter, pos);
  std::string_view rule_level;
  std::string_view filter_level;
  bool first = first_level;
  while (rule_levels.next(rule_level)) {
    if (!filter_levels.next(filter_level)) return {Kind::none};  // the filter ends first
    const bool wildcard = filter_level == "#" || filter_level == "+";
    if (wildcard && first && starts_with_dollar(rule_level)) return {Kind::none};
    if (filter_level == "#") return {Kind::filter_hash};
    if (!wildcard && filter_level != rule_level) return {Kind::none};
    first = false;
  }
  return {Kind::next, filter_levels.position()};
}

}  // namespace shardmq::broker
