// The reference the randomized tests compare against: MQTT filter matching
// written the obvious way, level by level, with no shared code under test.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace shardmq::test {

inline std::vector<std::string> split_levels(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == '/') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

inline bool naive_match(const std::vector<std::string>& f, const std::vector<std::string>& t) {
  if (!t[0].empty() && t[0][0] == '$' && (f[0] == "+" || f[0] == "#")) return false;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#" && i + 1 == f.size()) return true;
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

inline bool naive_match(std::string_view filter, std::string_view topic) {
  return naive_match(split_levels(filter), split_levels(topic));
}

}  // namespace shardmq::test
