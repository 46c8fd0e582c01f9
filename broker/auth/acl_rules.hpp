// AclRules: a Mosquitto ACL file (acl_file), compiled so that a check costs a walk over the
// topic's levels, not a scan of the rules. Immutable once built: every shard reads the same
// instance (a reload builds a new one and swaps the pointer).
//
// Semantics are Mosquitto 2.0's acl_file, exactly, for publishing and receiving
// (docs/security.md, "ACL files", lists them):
// - `topic` lines belong to the `user` above them, or to anonymous clients before any `user`
//   line; `pattern` lines apply to every client wherever they appear, with `%c` (client id)
//   and `%u` (user name) replaced textually at check time.
// - A client's own `topic` rules decide first: any matching `deny` refuses, else any matching
//   rule granting the access allows. Undecided, the patterns decide the same way; undecided
//   again, refused. So order in the file never matters, only which list a rule is in.
// - Patterns are never consulted for a user name or client id containing `+` or `#` (refused),
//   and patterns using `%u` are skipped for anonymous clients.
// SUBSCRIBE is where shardmq deliberately differs: Mosquitto grants every filter, shardmq
// refuses one that no read grant overlaps or that a deny covers entirely, in the same order
// (own rules, then patterns); what a granted subscriber then gets is still decided per message
// by the read check. docs/security.md ("ACL files", "SUBSCRIBE") has the rules and examples.
//
// How it is compiled: one LevelTrie holds every user's rules, each user under an anchor node
// (a literal child of the root named after the user; anonymous clients' anchor is the root's
// `+` child, which no user name can reach). A second trie holds the patterns; a level holding
// `%c` or `%u` is a template node, found by comparing the client's substituted text against
// the topic instead of by hash. Each node carries the union of the access of the rules ending
// there, so a check ORs the bits of every node the topic reaches: a few hash probes per level.
// For SUBSCRIBE each node also says whether a read grant ends at it or below (so a filter `#`
// level is answered at once), and the tries list each node's children (so a filter `+` level
// can follow every branch present, pruned by those bits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/config.hpp"
#include "core/level_trie.hpp"
#include "core/result.hpp"

namespace shardmq::broker {

enum class AclAccess : std::uint8_t { read, write, subscribe };

class AclRules {
 public:
  // An ACL file's text; `file_name` is used in errors ("FILE:LINE: reason") only.
  static Result<AclRules, ConfigError> parse(std::string_view text, std::string_view file_name);
  static Result<AclRules, ConfigError> load(const std::string& path);

  // May this client do `access` on this topic? `username` is nullopt for an anonymous client
  // (an empty user name is a user name, not anonymous). For read and write the topic is a
  // topic name; one that is empty or holds a wildcard matches no rule and is refused. For
  // subscribe it is a topic filter (`$share/GROUP/F` is judged by F); an invalid one is
  // refused.
  bool allows(std::string_view client_id, std::optional<std::string_view> username,
              std::string_view topic_or_filter, AclAccess access) const;

  // Rules read (topic and pattern lines).
  std::size_t rule_count() const { return rule_count_; }
  // What Mosquitto warns about but accepts ("FILE:LINE: ..."): patterns with neither %c nor %u.
  const std::vector<std::string>& warnings() const { return warnings_; }
  // Heap bytes held, for the operator's information.
  std::size_t memory_bytes() const;

  // Bits a trie node carries. kRead/kWrite/kDeny are the union of the rules ending at the node;
  // kAnyDeny, on an anchor (and the pattern root), says a deny rule exists somewhere below, so
  // a walk without it may stop at the first allow.
  static constexpr std::uint8_t kRead = 1;
  static constexpr std::uint8_t kWrite = 2;
  static constexpr std::uint8_t kDeny = 4;
  static constexpr std::uint8_t kAnyDeny = 8;

 private:
  // Bits for SUBSCRIBE, set when a read-granting rule is compiled. kReach: a read grant ends
  // at this node or below it. kReachAnon: one does with no %u template on the way down from
  // here (what an anonymous client can reach). On a walk's start node (an anchor, the pattern
  // root) kPlainReach/kPlainReachAnon say the same through a first level that is neither a
  // template nor a literal starting with '$': what a filter `#` or `+` at the first level
  // overlaps without looking further.
  static constexpr std::uint8_t kReach = 16;
  static constexpr std::uint8_t kReachAnon = 32;
  static constexpr std::uint8_t kPlainReach = 64;
  static constexpr std::uint8_t kPlainReachAnon = 128;
  // is_template_ values.
  static constexpr std::uint8_t kTemplateClient = 1;  // %c only
  static constexpr std::uint8_t kTemplateUser = 2;    // %u, maybe %c too

  using NodeId = core::LevelTrie::NodeId;

  // A pattern level holding %c or %u, split where the substitutions go.
  struct TemplatePiece {
    enum class Kind : std::uint8_t { text, client_id, username } kind;
    std::string text;  // for Kind::text
  };
  struct Template {
    std::vector<TemplatePiece> pieces;
    bool uses_username = false;
  };
  // Per pattern-trie node: the templates among its children (found by comparison, not hash).
  struct TemplateChild {
    NodeId node;
    std::uint32_t template_index;
  };
  // The client a pattern walk substitutes.
  struct Substitution {
    std::string_view client_id;
    std::optional<std::string_view> username;
  };
  // A template against a subscription filter from some level on (overlap_template).
  struct TemplateOverlap {
    enum class Kind : std::uint8_t { none, filter_hash, next } kind;
    std::size_t pos = 0;  // for next: where the filter's next level starts, or kDone
  };
  // One node on a rule's path as it is compiled, for the SUBSCRIBE bits.
  struct PathStep {
    NodeId node;
    bool user_template;  // a %u template: anonymous clients never get past it
  };

  AclRules();

  void add_user_rule(std::optional<std::string_view> user, std::string_view topic,
                     std::uint8_t access);
  void add_pattern_rule(std::string_view topic, std::uint8_t access);
  NodeId anchor_of(std::optional<std::string_view> username) const;
  // Sets kReach... along the path of a read-granting rule (path[0] is the start node);
  // `plain_first`: its first level is neither a template nor a literal starting with '$'.
  static void mark_read_path(std::vector<std::uint8_t>& bits, const std::vector<PathStep>& path,
                             bool plain_first);

  bool allows_subscribe(std::string_view client_id, std::optional<std::string_view> username,
                        std::string_view filter) const;
  // Does a deny rule under `start` match every topic `filter` matches?
  bool deny_covers(const core::LevelTrie& trie, const std::vector<std::uint8_t>& bits, NodeId start,
                   std::string_view filter, const Substitution* subst) const;
  // Does a read-granting rule under `start` match some topic `filter` matches?
  bool read_overlaps(const core::LevelTrie& trie, const std::vector<std::uint8_t>& bits,
                     NodeId start, std::string_view filter, const Substitution* subst) const;
  // A template's substituted text, taken as literal levels, against the filter from the level
  // at `pos` (not kDone). `first_level`: the template is the rule's first level, where a
  // filter wildcard does not reach a text starting with '$'.
  TemplateOverlap overlap_template(const Template& t, std::string_view filter, std::size_t pos,
                                   const Substitution& subst, bool first_level) const;

  // ORs the bits of every node of `trie` under `start` whose filter matches `topic`, stopping
  // early once any bit of `stop` is set. `subst` is null for the user trie (no templates).
  std::uint8_t walk(const core::LevelTrie& trie, const std::vector<std::uint8_t>& bits,
                    NodeId start, std::string_view topic, std::uint8_t stop,
                    const Substitution* subst) const;
  // Matches a template against the topic from the level at `pos`: where the next level starts
  // (LevelReader::kDone at the end), or nullopt when it does not match.
  std::optional<std::size_t> match_template(const Template& t, std::string_view topic,
                                            std::size_t pos, const Substitution& subst) const;

  core::LevelTrie users_;
  std::vector<std::uint8_t> user_bits_;  // by users_ node id; the k... bits above
  NodeId anonymous_anchor_ = core::LevelTrie::kNone;

  core::LevelTrie patterns_;
  std::vector<std::uint8_t> pattern_bits_;  // by patterns_ node id
  std::vector<std::uint8_t> is_template_;   // by patterns_ node id: 0 or kTemplate...
  std::vector<std::vector<TemplateChild>> template_children_;  // by patterns_ node id
  std::vector<Template> templates_;
  bool has_patterns_ = false;

  std::size_t rule_count_ = 0;
  std::vector<std::string> warnings_;
};

}  // namespace shardmq::broker
