// AclRules, building one (acl_rules.hpp): reading an ACL file as Mosquitto's aclfile__parse
// does (lines, words, access types, errors as FILE:LINE), and compiling each rule into the
// user or pattern trie and the bits its nodes carry; also what the compiled rules hold in
// memory. The checks against them are in acl_rules_check.cpp.
#include "broker/auth/acl_rules.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "broker/auth/acl_levels.hpp"

namespace shardmq::broker {

namespace {

using acl_levels::starts_with_dollar;
using core::LevelReader;
using core::LevelTrie;

// Mosquitto's limits on an ACL topic (mosquitto_sub_topic_check in a broker build).
constexpr std::size_t kMaxTopicBytes = 65535;
constexpr std::size_t kMaxSlashes = 200;  // TOPIC_HIERARCHY_LIMIT

// isspace() in the C locale, which is what Mosquitto trims with.
bool is_c_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string_view trim_trailing(std::string_view s) {
  while (!s.empty() && is_c_space(s.back()))
    s.remove_suffix(1);
  return s;
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && is_c_space(s.front()))
    s.remove_prefix(1);
  return trim_trailing(s);
}

// The line as Mosquitto tokenises it with strtok_r: words are separated by spaces only (a tab
// is part of a word), and rest() is everything after the space that ended the last word.
class LineTokens {
 public:
  explicit LineTokens(std::string_view line) : s_(line) {}

  std::optional<std::string_view> word() {
    while (pos_ < s_.size() && s_[pos_] == ' ')
      ++pos_;
    if (pos_ == s_.size()) return std::nullopt;
    std::size_t end = s_.find(' ', pos_);
    if (end == std::string_view::npos) end = s_.size();
    const std::string_view w = s_.substr(pos_, end - pos_);
    pos_ = end == s_.size() ? end : end + 1;
    return w;
  }
  std::optional<std::string_view> rest() {
    if (pos_ >= s_.size()) return std::nullopt;
    const std::string_view r = s_.substr(pos_);
    pos_ = s_.size();
    return r;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// mosquitto_sub_topic_check: `+` a whole level, `#` the whole last level, bounded size.
bool valid_acl_topic(std::string_view t) {
  if (t.size() > kMaxTopicBytes) return false;
  std::size_t slashes = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const bool level_start = i == 0 || t[i - 1] == '/';
    const bool level_end = i + 1 == t.size() || t[i + 1] == '/';
    if (t[i] == '+' && !(level_start && level_end)) return false;
    if (t[i] == '#' && !(level_start && i + 1 == t.size())) return false;
    if (t[i] == '/') ++slashes;
  }
  return slashes <= kMaxSlashes;
}

std::optional<std::uint8_t> parse_access(std::string_view word) {
  if (word == "read") return AclRules::kRead;
  if (word == "write") return AclRules::kWrite;
  if (word == "readwrite") return AclRules::kRead | AclRules::kWrite;
  if (word == "deny") return AclRules::kDeny;
  return std::nullopt;
}

// A pattern level is a template when Mosquitto's left-to-right scan would substitute in it.
// (A `%c`/`%u` pair never spans a '/', so scanning level by level finds the same pairs.)
bool is_template_level(std::string_view level) {
  for (std::size_t i = 0; i + 1 < level.size(); ++i) {
    if (level[i] == '%' && (level[i + 1] == 'c' || level[i + 1] == 'u')) return true;
  }
  return false;
}

}  // namespace

// Listed children: a SUBSCRIBE filter's `+` level follows every branch of a node.
AclRules::AclRules()
    : users_(LevelTrie::Children::kListed), patterns_(LevelTrie::Children::kListed) {
  anonymous_anchor_ = users_.find_or_add(LevelTrie::kRoot, "+", LevelTrie::Slot::kPlus);
  user_bits_.resize(users_.id_limit());
  pattern_bits_.resize(patterns_.id_limit());
  is_template_.resize(patterns_.id_limit());
  template_children_.resize(patterns_.id_limit());
}

// ---------------------------------------------------------------------------
// Parsing: Mosquitto's aclfile__parse, line for line.

Result<AclRules, ConfigError> AclRules::parse(std::string_view text, std::string_view file_name) {
  AclRules rules;
  std::optional<std::string> user;  // nullopt: before any `user` line (anonymous clients)
  unsigned line_no = 0;
  auto fail = [&](std::string reason) {
    return unexpected(ConfigError{std::string(file_name), line_no, std::move(reason)});
  };

  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;

    // Mosquitto reads C strings: a NUL ends the line.
    line = line.substr(0, line.find('\0'));
    line = trim_trailing(line);
    // Only a '#' in the very first column starts a comment.
    if (!line.empty() && line.front() == '#') continue;

    LineTokens tokens(line);
    const std::optional<std::string_view> keyword = tokens.word();
    if (!keyword) continue;  // blank line

    if (*keyword == "topic" || *keyword == "pattern") {
      const std::optional<std::string_view> first = tokens.word();
      if (!first) return fail(fmt::format("empty topic in '{}' line", *keyword));
      const std::optional<std::string_view> rest = tokens.rest();
      std::string_view topic;
      std::uint8_t access = kRead | kWrite;  // one word only: it is the topic, read and write
      if (rest) {
        const std::optional<std::uint8_t> a = parse_access(*first);
        if (!a) {
          return fail(fmt::format(
              "invalid topic access type \"{}\" (read, write, readwrite or deny)", *first));
        }
        access = *a;
        topic = trim_blanks(*rest);
      } else {
        topic = *first;
      }
      if (topic.empty()) return fail(fmt::format("empty topic in '{}' line", *keyword));
      if (!valid_acl_topic(topic)) return fail(fmt::format("invalid ACL topic \"{}\"", topic));

      ++rules.rule_count_;
      if (*keyword == "topic") {
        rules.add_user_rule(user, topic, access);
      } else {
        if (topic.find("%c") == std::string_view::npos &&
            topic.find("%u") == std::string_view::npos) {
          rules.warnings_.push_back(fmt::format("{}:{}: pattern \"{}\" contains neither %c nor %u",
                                                file_name, line_no, topic));
        }
        rules.add_pattern_rule(topic, access);
      }
    } else if (*keyword == "user") {
      const std::optional<std::string_view> rest = tokens.rest();
      const std::string_view name = rest ? trim_blanks(*rest) : std::string_view();
      if (name.empty()) return fail("missing user name after 'user'");
      user = std::string(name);
    } else {
      return fail(fmt::format("invalid line \"{}\" (expected topic, pattern or user)", line));
    }
  }
  return rules;
}

Result<AclRules, ConfigError> AclRules::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected(ConfigError{path, 0, "cannot open the file"});
  std::ostringstream s;
  s << in.rdbuf();
  return parse(s.str(), path);
}

// ---------------------------------------------------------------------------
// Compiling.

void AclRules::add_user_rule(std::optional<std::string_view> user, std::string_view topic,
                             std::uint8_t access) {
  const NodeId anchor = user
                            ? users_.find_or_add(LevelTrie::kRoot, *user, LevelTrie::Slot::kLiteral)
                            : anonymous_anchor_;
  std::vector<PathStep> path{{anchor, false}};
  LevelReader levels(topic);
  std::string_view level;
  while (levels.next(level)) {
    path.push_back(
        {users_.find_or_add(path.back().node, level, LevelTrie::slot_for(level, levels.done())),
         false});
  }
  user_bits_.resize(users_.id_limit());
  user_bits_[path.back().node] |= access;
  if (access & kDeny) user_bits_[anchor] |= kAnyDeny;
  if (access & kRead) mark_read_path(user_bits_, path, !starts_with_dollar(topic));
}

void AclRules::add_pattern_rule(std::string_view topic, std::uint8_t access) {
  has_patterns_ = true;
  NodeId node = LevelTrie::kRoot;
  std::vector<PathStep> path{{node, false}};
  bool plain_first = !starts_with_dollar(topic);
  LevelReader levels(topic);
  std::string_view level;
  while (levels.next(level)) {
    if (!is_template_level(level)) {
      node = patterns_.find_or_add(node, level, LevelTrie::slot_for(level, levels.done()));
      path.push_back({node, false});
      continue;
    }
    if (path.size() == 1) plain_first = false;
    // Stored under its raw text so equal templates share a node; found only by comparison.
    const NodeId child = patterns_.find_or_add(node, level, LevelTrie::Slot::kLiteral);
    is_template_.resize(patterns_.id_limit());
    template_children_.resize(patterns_.id_limit());
    if (!is_template_[child]) {
      Template t;
      for (std::size_t i = 0; i < level.size();) {
        if (level[i] == '%' && i + 1 < level.size() &&
            (level[i + 1] == 'c' || level[i + 1] == 'u')) {
          const bool client = level[i + 1] == 'c';
          t.pieces.push_back(
              {client ? TemplatePiece::Kind::client_id : TemplatePiece::Kind::username, {}});
          t.uses_username = t.uses_username || !client;
          i += 2;
          continue;
        }
        if (t.pieces.empty() || t.pieces.back().kind != TemplatePiece::Kind::text) {
          t.pieces.push_back({TemplatePiece::Kind::text, {}});
        }
        t.pieces.back().text.push_back(level[i]);
        ++i;
      }
      is_template_[child] = t.uses_username ? kTemplateUser : kTemplateClient;
      templates_.push_back(std::move(t));
      template_children_[node].push_back(
          {child, static_cast<std::uint32_t>(templates_.size() - 1)});
    }
    node = child;
    path.push_back({node, is_template_[child] == kTemplateUser});
  }
  pattern_bits_.resize(patterns_.id_limit());
  is_template_.resize(patterns_.id_limit());
  template_children_.resize(patterns_.id_limit());
  pattern_bits_[node] |= access;
  if (access & kDeny) pattern_bits_[LevelTrie::kRoot] |= kAnyDeny;
  if (access & kRead) mark_read_path(pattern_bits_, path, plain_first);
}

void AclRules::mark_read_path(std::vector<std::uint8_t>& bits, const std::vector<PathStep>& path,
                              bool plain_first) {
  // From the rule's end upwards: a node reaches the grant; anonymously so while no %u template
  // lies below it on the path (the node itself does not count: a walk standing on it is past).
  bool user_below = false;
  for (std::size_t i = path.size(); i-- > 0;) {
    bits[path[i].node] |= user_below ? kReach : (kReach | kReachAnon);
    user_below = user_below || path[i].user_template;
  }
  if (plain_first) bits[path[0].node] |= user_below ? kPlainReach : (kPlainReach | kPlainReachAnon);
}

std::size_t AclRules::memory_bytes() const {
  std::size_t n = users_.memory_bytes() + patterns_.memory_bytes() + user_bits_.capacity() +
                  pattern_bits_.capacity() + is_template_.capacity() +
                  template_children_.capacity() * sizeof(template_children_[0]) +
                  templates_.capacity() * sizeof(Template);
  for (const auto& c : template_children_)
    n += c.capacity() * sizeof(TemplateChild);
  for (const Template& t : templates_) {
    n += t.pieces.capacity() * sizeof(TemplatePiece);
    for (const TemplatePiece& p : t.pieces)
      n += p.text.capacity();
  }
  return n;
}

}  // namespace shardmq::broker
