// A session's own list of its subscriptions (filter and options), kept so the session can
// be cleaned out of the shard's index and so a resubscribe replaces options in place.
// The shard's TopicIndex is what publishes are matched against; this list is cold.
//
// Every entry lives in one heap block owned through a single pointer: [count, used, cap]
// then, per entry, the options, a 16-bit length and the filter's bytes. An empty list costs
// 8 bytes and no allocation; one 20-byte filter costs one 48-byte block. (A vector of
// {std::string, options} costs 24 bytes inline, a 48-byte element block and, past 15
// characters, a second allocation for the filter.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

#include "broker/session/subscription.hpp"

namespace shardmq::broker {

class SubscriptionList {
 public:
  struct Entry {
    std::string_view filter;
    SubscriptionOptions options;
  };

  class Iterator {
   public:
    Entry operator*() const { return SubscriptionList::read(p_); }
    Iterator& operator++() {
      p_ += SubscriptionList::entry_size(SubscriptionList::read(p_).filter.size());
      return *this;
    }
    bool operator==(const Iterator& o) const { return p_ == o.p_; }

   private:
    friend class SubscriptionList;
    explicit Iterator(const std::byte* p) : p_(p) {}
    const std::byte* p_;
  };

  SubscriptionList() = default;
  SubscriptionList(const SubscriptionList&) = delete;
  SubscriptionList& operator=(const SubscriptionList&) = delete;
  SubscriptionList(SubscriptionList&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  SubscriptionList& operator=(SubscriptionList&& o) noexcept {
    std::swap(h_, o.h_);
    return *this;
  }
  ~SubscriptionList() { std::free(h_); }

  std::size_t size() const { return h_ ? h_->count : 0; }
  bool empty() const { return size() == 0; }

  Iterator begin() const { return Iterator(h_ ? entries() : nullptr); }
  Iterator end() const { return Iterator(h_ ? entries() + h_->used : nullptr); }

  // Replaces the options of `filter`; false when the list has no such filter.
  bool update(std::string_view filter, const SubscriptionOptions& o) {
    std::byte* p = locate(filter);
    if (!p) return false;
    std::memcpy(p, &o, sizeof o);
    return true;
  }
  bool contains(std::string_view filter) const { return locate(filter) != nullptr; }

  // Appends `filter`, which the list must not hold yet. Filters are at most 65,535 bytes
  // (an MQTT string), so the length fits its 16-bit field.
  void add(std::string_view filter, const SubscriptionOptions& o) {
    const std::size_t need = entry_size(filter.size());
    const std::size_t used = h_ ? h_->used : 0;
    if (!h_ || used + need > h_->cap) {
      std::size_t cap = h_ ? h_->cap * 2 : 0;
      if (cap < used + need) cap = used + need;
      auto* h = static_cast<Header*>(std::realloc(h_, sizeof(Header) + cap));
      if (!h) std::abort();
      if (!h_) h->count = h->used = 0;
      h->cap = static_cast<std::uint32_t>(cap);
      h_ = h;
    }
    std::byte* p = entries() + used;
    const auto len = static_cast<std::uint16_t>(filter.size());
    std::memcpy(p, &o, sizeof o);
    std::memcpy(p + sizeof o, &len, sizeof len);
    std::memcpy(p + sizeof o + sizeof len, filter.data(), filter.size());
    h_->used += static_cast<std::uint32_t>(need);
    ++h_->count;
  }

  // Removes `filter`; false when the list has no such filter. Frees the block when the
  // last entry goes.
  bool remove(std::string_view filter) {
    std::byte* p = locate(filter);
    if (!p) return false;
    const std::size_t n = entry_size(filter.size());
    std::byte* end = entries() + h_->used;
    std::memmove(p, p + n, static_cast<std::size_t>(end - (p + n)));
    h_->used -= static_cast<std::uint32_t>(n);
    if (--h_->count == 0) {
      std::free(h_);
      h_ = nullptr;
    }
    return true;
  }

 private:
  struct Header {
    std::uint32_t count;
    std::uint32_t used;  // bytes of entries
    std::uint32_t cap;   // bytes available for entries
  };

  static std::size_t entry_size(std::size_t filter_len) {
    return sizeof(SubscriptionOptions) + sizeof(std::uint16_t) + filter_len;
  }
  static Entry read(const std::byte* p) {
    Entry e;
    std::memcpy(&e.options, p, sizeof e.options);
    std::uint16_t len;
    std::memcpy(&len, p + sizeof e.options, sizeof len);
    e.filter = {reinterpret_cast<const char*>(p + sizeof e.options + sizeof len), len};
    return e;
  }
  std::byte* entries() const { return reinterpret_cast<std::byte*>(h_ + 1); }
  std::byte* locate(std::string_view filter) const {
    if (!h_) return nullptr;
    std::byte* end = entries() + h_->used;
    for (std::byte* p = entries(); p < end;) {
      Entry e = read(p);
      if (e.filter == filter) return p;
      p += entry_size(e.filter.size());
    }
    return nullptr;
  }

  Header* h_ = nullptr;
};

}  // namespace shardmq::broker
