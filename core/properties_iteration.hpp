// Template bodies of Properties::for_each_* (included by properties.hpp). The decoder has
// already validated `raw`, so the walk needs no error handling beyond staying in bounds.
#pragma once

#include "core/properties.hpp"
#include "core/wire_reader.hpp"

namespace shardmq::core {

namespace detail {

// Bytes of a property's value after its identifier; 0 for the variable-size ones the
// caller handles (strings, binary, varint, pairs).
inline int fixed_property_value_size(std::uint8_t id) {
  switch (id) {
    case 0x01:
    case 0x17:
    case 0x19:
    case 0x24:
    case 0x25:
    case 0x28:
    case 0x29:
    case 0x2A:
      return 1;
    case 0x13:
    case 0x21:
    case 0x22:
    case 0x23:
      return 2;
    case 0x02:
    case 0x11:
    case 0x18:
    case 0x27:
      return 4;
    default:
      return 0;
  }
}

template <typename U, typename S>
void walk_repeating_properties(Bytes raw, U&& on_user, S&& on_subid) {
  WireReader r(raw);
  while (!r.empty()) {
    std::uint8_t id = 0;
    if (!r.u8(id)) return;
    if (int n = fixed_property_value_size(id); n != 0) {
      Bytes skip;
      if (!r.bytes(static_cast<std::size_t>(n), skip)) return;
      continue;
    }
    if (id == 0x0B) {
      std::uint32_t v = 0;
      if (r.varint(v) != VarintStatus::Ok) return;
      on_subid(v);
    } else if (id == 0x26) {
      StringPair p;
      if (!r.string(p.name) || !r.string(p.value)) return;
      on_user(p);
    } else {
      Bytes skip;  // string or binary data
      if (!r.binary(skip)) return;
    }
  }
}

}  // namespace detail

// The value of a four-byte-integer property, from its whole encoding (as for_each_property
// gives it: identifier, then the value big-endian).
inline std::uint32_t four_byte_property_value(Bytes whole) {
  std::uint32_t v = 0;
  for (std::size_t i = 1; i < 5 && i < whole.size(); ++i)
    v = v << 8 | std::to_integer<std::uint32_t>(whole[i]);
  return v;
}

// Calls fn(id, property) for each property of a validated block, `property` being its whole
// encoding (identifier and value), in order: for copying a block with changes.
template <typename F>
void for_each_property(Bytes raw, F&& fn) {
  WireReader r(raw);
  while (!r.empty()) {
    const std::byte* start = r.position();
    std::uint8_t id = 0;
    if (!r.u8(id)) return;
    bool ok = true;
    if (int n = detail::fixed_property_value_size(id); n != 0) {
      Bytes skip;
      ok = r.bytes(static_cast<std::size_t>(n), skip);
    } else if (id == 0x0B) {
      std::uint32_t v = 0;
      ok = r.varint(v) == VarintStatus::Ok;
    } else if (id == 0x26) {
      StringPair p;
      ok = r.string(p.name) && r.string(p.value);
    } else {
      Bytes skip;
      ok = r.binary(skip);
    }
    if (!ok) return;
    fn(static_cast<PropertyId>(id), Bytes(start, static_cast<std::size_t>(r.position() - start)));
  }
}

template <typename F>
void Properties::for_each_user_property(F&& fn) const {
  if (raw_user_property_count != 0) {
    detail::walk_repeating_properties(
        raw, [&](const StringPair& p) { fn(p); }, [](std::uint32_t) {});
  }
  for (const StringPair& p : user_properties)
    fn(p);
}

template <typename F>
void Properties::for_each_subscription_identifier(F&& fn) const {
  if (raw_subscription_id_count != 0) {
    detail::walk_repeating_properties(
        raw, [](const StringPair&) {}, [&](std::uint32_t v) { fn(v); });
  }
  for (std::uint32_t v : subscription_identifiers)
    fn(v);
}

}  // namespace shardmq::core
