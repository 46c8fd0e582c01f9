// Reading a TOML configuration: typed getters that record the first error with its file
// and line, and the check that a table holds only known keys. Shared by the files that
// read one section each (config.cpp, auth_config.cpp).
#pragma once

#include <fmt/format.h>

#include <toml++/toml.h>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "broker/config/config.hpp"

namespace shardmq::broker {

struct Reader {
  std::string file;
  ConfigError error;
  bool failed = false;

  void fail(const toml::node& n, std::string reason) {
    if (failed) return;
    failed = true;
    error = ConfigError{file, static_cast<unsigned>(n.source().begin.line), std::move(reason)};
  }

  std::optional<bool> boolean(const toml::table& t, std::string_view section,
                              std::string_view key) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) {
      fail(*n, fmt::format("{}.{} must be true or false", section, key));
      return std::nullopt;
    }
    return n->as_boolean()->get();
  }

  template <typename T>
  void integer(const toml::table& t, std::string_view section, std::string_view key, T& out,
               std::int64_t min = 0,
               std::int64_t max = static_cast<std::int64_t>(std::numeric_limits<T>::max())) {
    const toml::node* n = t.get(key);
    if (!n) return;
    auto v = n->value<std::int64_t>();
    if (!n->is_integer() || !v) {
      fail(*n, fmt::format("{}.{} must be an integer", section, key));
    } else if (*v < min || *v > max) {
      fail(*n, fmt::format("{}.{} = {} is out of range [{}, {}]", section, key, *v, min, max));
    } else {
      out = static_cast<T>(*v);
    }
  }

  const std::string* string(const toml::table& t, std::string_view section, std::string_view key) {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (!n->is_string()) {
      fail(*n, fmt::format("{}.{} must be a string", section, key));
      return nullptr;
    }
    return &n->as_string()->get();
  }

  // Unknown keys are errors: a typo must not silently fall back to a default.
  void only(const toml::table& t, std::string_view section,
            std::initializer_list<std::string_view> keys) {
    for (auto&& [k, v] : t) {
      bool known = false;
      for (auto key : keys)
        known = known || k.str() == key;
      if (!known) fail(v, fmt::format("unknown key '{}' in [{}]", k.str(), section));
    }
  }
};

// [auth], and the access settings of one [[listener]] (auth_config.cpp).
void read_auth(Reader& r, const toml::table& t, Config& c);
void read_listener_auth(Reader& r, const toml::table& t, ListenerConfig& l);

}  // namespace shardmq::broker
