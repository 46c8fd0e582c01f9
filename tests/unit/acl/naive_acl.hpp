// The reference the randomized ACL test compares against: Mosquitto 2.0's acl_file check
// written the way Mosquitto writes it, with no code shared with AclRules: per-user rule lists
// with denies moved to the front, a first match that decides, patterns substituted into a
// string and then matched, and a linear scan over every rule. SUBSCRIBE (shardmq's own rule,
// docs/security.md) by brute force too: every rule compared with the filter, level by level.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tests/unit/topic/naive_matcher.hpp"

namespace shardmq::test {

class NaiveAcl {
 public:
  enum Access : unsigned { kDeny = 0, kRead = 1, kWrite = 2 };

  void topic(std::optional<std::string> user, std::string filter, unsigned access) {
    List* list = nullptr;
    for (auto& [name, l] : users_) {
      if (name == user) list = &l;
    }
    if (list == nullptr) {
      users_.emplace_back(user, List{});
      list = &users_.back().second;
    }
    add(*list, Rule{std::move(filter), access});
  }
  void pattern(std::string filter, unsigned access) {
    add(patterns_, Rule{std::move(filter), access});
  }

  // `want`: kRead or kWrite.
  bool allows(const std::string& client_id, const std::optional<std::string>& username,
              const std::string& topic, unsigned want) const {
    if (topic.empty() || topic.find_first_of("+#") != std::string::npos) return false;
    const List* mine = nullptr;
    for (const auto& [name, l] : users_) {
      if (name == username) mine = &l;
    }
    if (mine == nullptr && patterns_.empty()) return false;
    if (mine != nullptr) {
      for (const Rule& r : *mine) {
        if (!naive_match(r.filter, topic)) continue;
        if (r.access == kDeny) return false;
        if (r.access & want) return true;
      }
    }
    if (!patterns_.empty()) {
      if (username && username->find_first_of("+#") != std::string::npos) return false;
      if (client_id.find_first_of("+#") != std::string::npos) return false;
    }
    for (const Rule& r : patterns_) {
      const bool uses_user = r.filter.find("%u") != std::string::npos;
      if (uses_user && !username) continue;
      if (!naive_match(substitute(r.filter, client_id, username), topic)) continue;
      if (r.access == kDeny) return false;
      if (r.access & want) return true;
    }
    return false;
  }

  // SUBSCRIBE: refused when a deny rule covers the filter, allowed when a read rule overlaps
  // it; the own rules first, then the patterns; else refused.
  bool allows_subscribe(const std::string& client_id, const std::optional<std::string>& username,
                        const std::string& filter) const {
    if (filter.empty()) return false;  // not a filter (the generator makes only valid ones else)
    const List* mine = nullptr;
    for (const auto& [name, l] : users_) {
      if (name == username) mine = &l;
    }
    if (mine != nullptr) {
      for (const Rule& r : *mine) {
        if (r.access == kDeny && covers(r.filter, filter)) return false;
      }
      for (const Rule& r : *mine) {
        if ((r.access & kRead) && overlaps(r.filter, filter)) return true;
      }
    }
    if (patterns_.empty()) return false;
    if (username && username->find_first_of("+#") != std::string::npos) return false;
    if (client_id.find_first_of("+#") != std::string::npos) return false;
    for (const bool denies : {true, false}) {
      for (const Rule& r : patterns_) {
        if (r.filter.find("%u") != std::string::npos && !username) continue;
        if ((r.access == kDeny) != denies) continue;
        const std::string rule = substitute(r.filter, client_id, username);
        if (denies && covers(rule, filter)) return false;
        if (!denies && (r.access & kRead) && overlaps(rule, filter)) return true;
      }
    }
    return false;
  }

  // Some topic matches both: `+` on either side takes one level, `#` on either side the rest
  // (zero levels too), literals are equal; a first-level wildcard meets no '$' literal.
  static bool overlaps(const std::string& rule, const std::string& filter) {
    const std::vector<std::string> r = levels(rule);
    const std::vector<std::string> f = levels(filter);
    if (dollar_apart(r, f) || dollar_apart(f, r)) return false;
    std::size_t i = 0;
    for (;; ++i) {
      if ((i < r.size() && r[i] == "#") || (i < f.size() && f[i] == "#")) return true;
      if (i == r.size() || i == f.size()) return i == r.size() && i == f.size();
      if (r[i] != "+" && f[i] != "+" && r[i] != f[i]) return false;
    }
  }

  // Every topic the filter matches, the rule matches: level by level, rule `#` covers the
  // rest, rule `+` a literal or `+`, a literal only itself; a filter `#` only a rule `#`.
  static bool covers(const std::string& rule, const std::string& filter) {
    const std::vector<std::string> r = levels(rule);
    const std::vector<std::string> f = levels(filter);
    if (dollar_apart(r, f)) return false;
    for (std::size_t i = 0;; ++i) {
      if (i < r.size() && r[i] == "#") return true;
      if (i == r.size() || i == f.size()) return i == r.size() && i == f.size();
      if (f[i] == "#") return false;
      if (r[i] == "+") continue;
      if (f[i] == "+" || r[i] != f[i]) return false;
    }
  }

 private:
  static std::vector<std::string> levels(const std::string& s) {
    std::vector<std::string> out(1);
    for (const char c : s) {
      if (c == '/') {
        out.emplace_back();
      } else {
        out.back().push_back(c);
      }
    }
    return out;
  }
  // `a`'s first level is a wildcard and `b`'s a literal starting with '$': nothing in common.
  static bool dollar_apart(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return (a[0] == "+" || a[0] == "#") && !b[0].empty() && b[0][0] == '$';
  }

  struct Rule {
    std::string filter;
    unsigned access;
  };
  using List = std::vector<Rule>;

  static void add(List& list, Rule r) {
    if (r.access == kDeny) {
      list.insert(list.begin(), std::move(r));  // "deny" rules go to the front of the list
    } else {
      list.push_back(std::move(r));
    }
  }

  static std::string substitute(const std::string& t, const std::string& client_id,
                                const std::optional<std::string>& username) {
    std::string out;
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (i + 1 < t.size() && t[i] == '%') {
        if (t[i + 1] == 'c') {
          out += client_id;
          ++i;
          continue;
        }
        if (username && t[i + 1] == 'u') {
          out += *username;
          ++i;
          continue;
        }
      }
      out.push_back(t[i]);
    }
    return out;
  }

  std::vector<std::pair<std::optional<std::string>, List>> users_;
  List patterns_;
};

}  // namespace shardmq::test
