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
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8)
    if (topic_words::wildcard_bytes(topic_words::load(s.data() + i))) return true;
  return s.find_first_of("+#", i) != std::string_view::npos;
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
