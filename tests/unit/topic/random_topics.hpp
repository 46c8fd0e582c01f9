// Random filters and topic names over a small alphabet, so that collisions,
// empty levels, `$` first levels and wildcards all occur often.
#pragma once

#include <random>
#include <string>

namespace shardmq::test {

class RandomTopics {
 public:
  explicit RandomTopics(unsigned seed) : rng_(seed) {}

  std::string topic() {
    std::string s;
    const int n = pick(1, 4);
    for (int i = 0; i < n; ++i) {
      if (i != 0) s.push_back('/');
      s += (i == 0 && pick(0, 9) == 0) ? std::string("$s") : literal();
    }
    return s;
  }

  std::string filter() {
    std::string s;
    const int n = pick(1, 4);
    for (int i = 0; i < n; ++i) {
      if (i != 0) s.push_back('/');
      if (i + 1 == n && pick(0, 5) == 0) {
        s.push_back('#');
      } else if (pick(0, 3) == 0) {
        s.push_back('+');
      } else {
        s += (i == 0 && pick(0, 9) == 0) ? std::string("$s") : literal();
      }
    }
    return s;
  }

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

 private:
  std::string literal() {
    // The long one is stored outside the trie node (text over 12 bytes).
    static const char* const kLevels[] = {"a", "b", "c", "", "a-level-longer-than-inline"};
    return kLevels[pick(0, 4)];
  }
  std::mt19937 rng_;
};

}  // namespace shardmq::test
