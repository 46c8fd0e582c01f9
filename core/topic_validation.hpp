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

// The PUBLISH fast path, one pass over the topic: true when every byte is in 0x01..0x7F and
// none is '+' or '#', which makes the topic valid MQTT UTF-8 and, if non-empty, a valid
// topic name. False says nothing: check_mqtt_utf8 and check_topic_name decide (and pick
// the error). Nearly every real topic is plain ASCII.
inline bool is_plain_topic(std::string_view s) {
  constexpr std::uint64_t kLow = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    // A byte is flagged when its high bit is set or when it is zero after XOR with 0x00,
    // '+' or '#' (the has-zero-byte test), i.e. non-ASCII, NUL or a wildcard.
    const std::uint64_t plus = w ^ (kLow * '+');
    const std::uint64_t hash = w ^ (kLow * '#');
    const std::uint64_t zero =
        ((w - kLow) & ~w) | ((plus - kLow) & ~plus) | ((hash - kLow) & ~hash);
    if ((w | zero) & kHigh) return false;
  }
  for (; n != 0; ++p, --n) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == 0 || c >= 0x80 || c == '+' || c == '#') return false;
  }
  return true;
}

}  // namespace shardmq::core
