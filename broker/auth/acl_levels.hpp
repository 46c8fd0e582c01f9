// Internal to AclRules (acl_rules_parse.cpp, acl_rules_check.cpp), not part of its interface
// (acl_rules.hpp): what compiling the rules and checking against them both need to know about
// topic levels.
#pragma once

#include <string_view>

namespace shardmq::broker::acl_levels {

inline bool starts_with_dollar(std::string_view level) {
  return !level.empty() && level.front() == '$';
}

}  // namespace shardmq::broker::acl_levels
