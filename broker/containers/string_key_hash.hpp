// A hash for maps keyed by std::string that are looked up by std::string_view, so a lookup
// builds no string (source addresses on CONNECT).
#pragma once

#include <functional>
#include <string_view>

namespace shardmq::broker {

struct StringKeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace shardmq::broker
