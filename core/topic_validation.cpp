// Topic name and filter syntax.
#include "core/topic_validation.hpp"

#include <cstdint>
#include <cstring>

namespace shardmq::core {

namespace {
constexpr std::string_view kSharePrefix = "$share/";

TopicStatus check_plain_filter(std::string_view f) {
  if (f.empty()) return TopicStatus::Empty;
  for (std::size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if (c != '+' && c != '#') continue;
    bool starts_level = i == 0 || f[i - 1] == '/';
    bool ends_level = i + 1 == f.size() || f[i + 1] == '/';
    if (!starts_level || !ends_level) return TopicStatus::InvalidFilter;
    if (c == '#' && i + 1 != f.size()) return TopicStatus::InvalidFilter;
  }
  return TopicStatus::Ok;
}
}  // namespace

bool has_wildcard(std::string_view s) {
  // Eight bytes at a time: a byte equal to '+' or '#' becomes zero after the XOR, and the
  // classic has-zero-byte test finds it. Topics are on the PUBLISH hot path.
  constexpr std::uint64_t kLow = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    std::uint64_t plus = w ^ (kLow * '+');
    std::uint64_t hash = w ^ (kLow * '#');
    if ((((plus - kLow) & ~plus) | ((hash - kLow) & ~hash)) & kHigh) return true;
  }
  for (; n != 0; ++p, --n) {
    if (*p == '+' || *p == '#') return true;
  }
  return false;
}

TopicStatus check_topic_name(std::string_view topic) {
  if (topic.empty()) return TopicStatus::Empty;
  if (has_wildcard(topic)) return TopicStatus::Wildcard;
  return TopicStatus::Ok;
}

TopicStatus check_topic_filter(std::string_view filter) {
  if (filter.empty()) return TopicStatus::Empty;
  if (!filter.starts_with(kSharePrefix)) return check_plain_filter(filter);
  std::string_view rest = filter.substr(kSharePrefix.size());
  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return TopicStatus::InvalidShared;
  std::string_view group = rest.substr(0, slash);
  if (has_wildcard(group)) return TopicStatus::InvalidShared;
  std::string_view inner = rest.substr(slash + 1);
  if (inner.empty()) return TopicStatus::InvalidShared;
  return check_plain_filter(inner);
}

SharedFilter split_shared_filter(std::string_view filter) {
  if (!filter.starts_with(kSharePrefix)) return {{}, filter};
  std::string_view rest = filter.substr(kSharePrefix.size());
  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return {{}, filter};
  return {rest.substr(0, slash), rest.substr(slash + 1)};
}

}  // namespace shardmq::core
