// Topic name and topic filter rules (syntax only; UTF-8 is checked by utf8.hpp).
#pragma once

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

}  // namespace shardmq::core
