// Topic name and topic filter rules (syntax only; UTF-8 is checked by utf8.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace shardmq::core {

enum class TopicStatus : unsigned char {
  Ok,
  Empty,
  Wildcard,       // topic name containing '+' or '#'
  InvalidFilter,  // misplaced wildcard, e.g. "a/b#", "#/a", "a+/b"
  InvalidShared,  // "$share/" without a group, with a wildcard in it, or without a filter
};

// A topic name (PUBLISH, Will): non-empty, no wildcards.
TopicStatus check_topic_name(std::string_view topic);

// A topic filter (SUBSCRIBE, UNSUBSCRIBE): non-empty; '#' only as the whole last level;
// '+' only as a whole level. "$share/{group}/{filter}" is checked as a shared subscription.
TopicStatus check_topic_filter(std::string_view filter);

// "$share/{group}/{filter}" split into its parts; group is empty for a plain filter.
struct SharedFilter {
  std::string_view group;
  std::string_view filter;
  bool is_shared() const { return !group.empty(); }
};
// Call on a filter that passed check_topic_filter.
SharedFilter split_shared_filter(std::string_view filter);

bool has_wildcard(std::string_view s);

// Eight topic bytes at a time (topics are on the PUBLISH hot path): the classic
// has-zero-byte test, alone and after XOR with '+' or '#'. Exact about whether any byte
// matches, not about which.
namespace topic_words {
constexpr std::uint64_t kLow = 0x0101010101010101ULL;
constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
inline std::uint64_t zero_bytes(std::uint64_t w) {
  return (w - kLow) & ~w & kHigh;
}
inline std::uint64_t wildcard_bytes(std::uint64_t w) {
  return zero_bytes(w ^ (kLow * '+')) | zero_bytes(w ^ (kLow * '#'));
}
inline std::uint64_t load(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
}  // namespace topic_words

// The PUBLISH fast path, one pass over the topic: true when every byte is in 0x01..0x7F and
// none is '+' or '#', which makes the topic valid MQTT UTF-8 and, if non-empty, a valid
// topic name. False says nothing: check_mqtt_utf8 and check_topic_name decide (and pick
// the error). Nearly every real topic is plain ASCII.
inline bool is_plain_topic(std::string_view s) {
  using namespace topic_words;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    const std::uint64_t w = load(s.data() + i);
    if ((w & kHigh) | zero_bytes(w) | wildcard_bytes(w)) return false;
  }
  for (; i != s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0 || c >= 0x80 || c == '+' || c == '#') return false;
  }
  return true;
}

}  // namespace shardmq::core
